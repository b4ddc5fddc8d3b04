// The package as users install it: built by `npm run build` (ESM in dist/, CommonJS in dist/cjs/,
// each with the Lua scripts beside it), loaded by its name from an ESM and from a CommonJS
// application, each doing one cached read through L1+L2 and a write that invalidates it; typed
// from CommonJS TypeScript; packed with its LICENSE.
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const run = promisify(execFile)
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const ctx = useDatabase()
const redisCtx = useRedis()
let dir: string

beforeAll(async () => {
  // a package folder of its own: the repository's package.json (its "exports" are what is tested), the build, the consumers
  dir = mkdtempSync(join(tmpdir(), 'ptc-package-'))
  await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/build.ts'), join(dir, 'dist')])
  writeFileSync(join(dir, 'package.json'), readFileSync(join(ROOT, 'package.json')))
  cpSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'))
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  for (const file of ['consumer.mjs', 'consumer.cjs', 'consumer-run.mjs']) cpSync(join(ROOT, 'test/package', file), join(dir, file))
}, 120_000)

// A CommonJS TypeScript application (its imports become `require`); written here, not kept as a
// file of test/, which the repository's own type-check would resolve without the built package.
const TYPED_CONSUMER = `import { withCache, CacheConfigError, type CacheOptions } from 'prisma-tiered-cache'
const options: CacheOptions = { defaults: { ttl: 60 }, redisTimeoutMs: 250 }
export const extension = withCache(options)
export const code: string = new CacheConfigError('namespace', 'x').code
`

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the built package', () => {
  for (const consumer of ['consumer.mjs', 'consumer.cjs']) {
    const cjs = consumer.endsWith('.cjs')
    it(`loads by name and caches from ${cjs ? 'CommonJS (require), without require(esm)' : 'ESM (import)'}`, async () => {
      // --no-experimental-require-module: `require` must find CommonJS, not lean on Node loading ESM for it
      const flags = cjs ? ['--no-experimental-require-module'] : []
      const { stdout } = await run(process.execPath, [...flags, '--import', 'tsx', consumer], {
        cwd: dir,
        env: {
          ...process.env,
          DATABASE_URL: ctx.url,
          REDIS_URL: redisCtx.url,
          PTC_NAMESPACE: `${redisCtx.namespace}-${consumer.replace('.', '-')}`,
          // the generated Prisma client is TypeScript: tsx loads it, the package itself is plain JavaScript
          PTC_CLIENT: pathToFileURL(join(ROOT, 'generated/prisma/client.ts')).href,
        },
      })
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ entry: cjs ? 'dist/cjs/index.js' : 'dist/index.js', names: ['before', 'before', 'after'], hitsL1: 1, misses: 2, redisErrors: 0 })
    })
  }

  it('type-checks from CommonJS TypeScript through the "require" declarations', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    writeFileSync(join(dir, 'consumer-types.cts'), TYPED_CONSUMER)
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--traceResolution']
    const { stdout } = await run(process.execPath, [tsc, ...args, 'consumer-types.cts'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 })
    expect(stdout).toMatch(/'prisma-tiered-cache' was successfully resolved to '[^']*\/dist\/cjs\/index\.d\.ts'/)
  })

  it('packs its LICENSE, both builds and the Lua scripts', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir })
    const paths = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path)
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'package.json', 'dist/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json', 'dist/cjs/index.d.ts', 'dist/cjs/tiers/lua/store-3.lua', 'dist/tiers/lua/store-3.lua']))
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License[\s\S]*prisma-tiered-cache contributors/)
  })
})
