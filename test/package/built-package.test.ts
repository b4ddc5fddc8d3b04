// The package as users install it: compiled to JavaScript (with the Lua scripts copied beside it),
// loaded by its name from an ESM and from a CommonJS application, each doing one cached read
// through L1+L2 and a write that invalidates it.
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
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(dir, 'dist')])
  cpSync(join(ROOT, 'src/tiers/lua'), join(dir, 'dist/tiers/lua'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), readFileSync(join(ROOT, 'package.json')))
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  for (const file of ['consumer.mjs', 'consumer.cjs', 'consumer-run.mjs']) cpSync(join(ROOT, 'test/package', file), join(dir, file))
}, 120_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the built package', () => {
  for (const consumer of ['consumer.mjs', 'consumer.cjs']) {
    it(`loads by name and caches from ${consumer.endsWith('.cjs') ? 'CommonJS (require)' : 'ESM (import)'}`, async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', consumer], {
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
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ names: ['before', 'before', 'after'], hitsL1: 1, misses: 2, redisErrors: 0 })
    })
  }
})
