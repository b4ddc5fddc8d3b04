// The package as users install it: built by `npm run build` (ESM in dist/, CommonJS in dist/cjs/,
// each with the Lua scripts beside it), loaded by its name from an ESM and from a CommonJS
// application, each doing one cached read through L1+L2 and a write that invalidates it; typed
// from CommonJS TypeScript; a CommonJS TypeScript application with a Prisma client generated with
// `moduleFormat = "cjs"`, type-checked with `module: commonjs` and run as plain CommonJS; packed
// with its LICENSE.
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const run = promisify(execFile)
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')
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
    writeFileSync(join(dir, 'consumer-types.cts'), TYPED_CONSUMER)
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--traceResolution']
    const { stdout } = await run(process.execPath, [TSC, ...args, 'consumer-types.cts'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 })
    expect(stdout).toMatch(/'prisma-tiered-cache' was successfully resolved to '[^']*\/dist\/cjs\/index\.d\.ts'/)
  })

  describe('a CommonJS TypeScript application with a Prisma client generated with moduleFormat = "cjs"', () => {
    let app: string
    let trace: string

    beforeAll(async () => {
      // an application folder of its own ("type": "commonjs"), the package installed in its node_modules
      app = join(dir, 'cjs-app')
      mkdirSync(join(app, 'node_modules'), { recursive: true })
      writeFileSync(join(app, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`)
      symlinkSync(dir, join(app, 'node_modules/prisma-tiered-cache'))
      cpSync(join(ROOT, 'test/package/cjs-app.cts.txt'), join(app, 'app.cts'))
      await generateCjsClient(app)
      // type-check and emit: module commonjs, as a CommonJS application's tsconfig has it
      const args = ['--strict', '--skipLibCheck', '--module', 'commonjs', '--target', 'es2022', '--types', 'node', '--outDir', 'out', '--traceResolution']
      trace = (await run(process.execPath, [TSC, ...args, 'app.cts'], { cwd: app, maxBuffer: 64 * 1024 * 1024 })).stdout
    }, 120_000)

    it('type-checks with module commonjs against the "require" declarations, cached reads typed', () => {
      // app.cts holds a @ts-expect-error that only a typed cached read satisfies; tsc exits non-zero otherwise
      expect(trace).toMatch(/'prisma-tiered-cache' was successfully resolved to '[^']*\/dist\/cjs\/index\.d\.ts'/)
      // the generated client is CommonJS (moduleFormat = "cjs": no import.meta), emitted by the same tsc
      expect(readFileSync(join(app, 'out/generated/client.js'), 'utf8')).toMatch(/^exports\.PrismaClient = /m)
    })

    it('runs as plain CommonJS (node, no tsx, no require(esm)) and serves a hit', async () => {
      const { stdout } = await run(process.execPath, ['--no-experimental-require-module', 'out/app.cjs'], {
        cwd: app,
        env: { ...process.env, DATABASE_URL: ctx.url, REDIS_URL: redisCtx.url, PTC_NAMESPACE: `${redisCtx.namespace}-cjs-app` },
      })
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as { entry: string }
      expect(result.entry.slice(dir.length + 1)).toBe('dist/cjs/index.js')
      expect(result).toMatchObject({ names: ['before', 'before', 'after'], status: 'l1', hitsL1: 1, misses: 2 })
    })
  })

  it('packs its LICENSE, both builds and the Lua scripts', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir })
    const paths = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path)
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'package.json', 'dist/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json', 'dist/cjs/index.d.ts', 'dist/cjs/tiers/lua/store-3.lua', 'dist/tiers/lua/store-3.lua']))
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License[\s\S]*prisma-tiered-cache contributors/)
  })
})

/** `prisma generate` of the repository's models into `<app>/generated`, CommonJS, imports with .js (DESIGN.md, "Prisma 7 specifics": no engine download). */
async function generateCjsClient(app: string): Promise<void> {
  const schema = readFileSync(join(ROOT, 'prisma/schema.prisma'), 'utf8').replace(
    /output\s*=\s*"\.\.\/generated\/prisma"/,
    'output = "./generated"\n  moduleFormat = "cjs"\n  importFileExtension = "js"',
  )
  if (!schema.includes('moduleFormat')) throw new Error('prisma/schema.prisma: its generator output is not the one expected')
  writeFileSync(join(app, 'schema.prisma'), schema)
  const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: join(ROOT, 'scripts/generate.ts'), PRISMA_HIDE_UPDATE_MESSAGE: '1' }
  await run(process.execPath, [join(ROOT, 'node_modules/prisma/build/index.js'), 'generate', '--schema', join(app, 'schema.prisma')], { cwd: app, env })
}
