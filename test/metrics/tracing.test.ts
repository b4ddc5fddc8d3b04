// `tracing`: one OpenTelemetry span per cached read, saying how it was answered (never what it
// asked), with a miss's Prisma query inside it; and nothing at all without the option.
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { PrismaInstrumentation } from '@prisma/instrumentation'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { CacheConfigError, withCache, type CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const contextManager = new AsyncLocalStorageContextManager().enable()
context.setGlobalContextManager(contextManager)
trace.setGlobalTracerProvider(provider)

afterAll(async () => {
  await provider.shutdown()
  contextManager.disable()
  trace.disable()
  context.disable()
})

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
  exporter.reset()
})

/** The cache's spans, oldest first, as name and attributes. */
function cacheSpans(): { name: string; attributes: ReadableSpan['attributes'] }[] {
  return exporter
    .getFinishedSpans()
    .filter((span) => span.name.startsWith('prisma-tiered-cache '))
    .map((span) => ({ name: span.name, attributes: span.attributes }))
}

const FIND_UNIQUE = 'prisma-tiered-cache User.findUnique'

describe.each([
  ['L1+L2', 'l1', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` })],
  ['L2 only', 'l2', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, l1: false as const })],
] as const)('tracing, %s', (_name, hitTier, tier) => {
  const client = (options: CacheOptions = {}) => cachedClient(ctx.db.prisma, { ...tier(), tracing: true, ...options })

  it('a span per read: miss, then a hit from its tier, then a miss after a write, each answer equal to the database', async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const prisma = client()
    const where = { where: { id: ann.id } }

    ctx.db.resetQueries()
    expect(await prisma.user.findUnique(where)).toEqual(await db.user.findUnique(where))
    expect(await prisma.user.findUnique(where)).toEqual(ann)
    expect(ctx.db.queries()).toBe(2) // the plain client's, and the miss
    await prisma.user.update({ ...where, data: { name: 'Ann B' } })
    exporter.reset() // the update is no read: it has no span of its own, but start clean anyway
    expect(await prisma.user.findUnique(where)).toEqual(await db.user.findUnique(where))
    expect(cacheSpans()).toEqual([{ name: FIND_UNIQUE, attributes: { 'ptc.model': 'User', 'ptc.operation': 'findUnique', 'ptc.outcome': 'miss' } }])

    exporter.reset()
    await prisma.user.findUnique(where)
    await prisma.user.count()
    await prisma.user.count()
    expect(cacheSpans()).toEqual([
      { name: FIND_UNIQUE, attributes: { 'ptc.model': 'User', 'ptc.operation': 'findUnique', 'ptc.outcome': hitTier, 'ptc.tier': hitTier } },
      { name: 'prisma-tiered-cache User.count', attributes: { 'ptc.model': 'User', 'ptc.operation': 'count', 'ptc.outcome': 'miss' } },
      { name: 'prisma-tiered-cache User.count', attributes: { 'ptc.model': 'User', 'ptc.operation': 'count', 'ptc.outcome': hitTier, 'ptc.tier': hitTier } },
    ])
    prisma.$cache.close()
  })

  it("an expired entry within swr: outcome swr with its tier and the entry's value (injected clock)", async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    let clock = 1_000_000
    const prisma = client({ now: () => clock, defaults: { ttl: 1, swr: 60 } })
    // until the bus is up, L1 caps its entries' lives (degradedTtlMs), swr included: the entry
    // would be gone from L1 by the read below, which would then be L2's (seen in CI, loaded)
    await prisma.$cache.ready()
    const where = { where: { id: ann.id } }
    await prisma.user.findUnique(where)
    await db.user.update({ ...where, data: { name: 'behind the cache' } }) // unseen by the cache: swr may serve the old row
    clock += 2000
    exporter.reset()
    const stale = await prisma.user.findUnique(where).withCacheInfo()
    expect(stale.data?.name).toBe('Ann')
    expect(cacheSpans()[0]!.attributes).toEqual({ 'ptc.model': 'User', 'ptc.operation': 'findUnique', 'ptc.outcome': 'swr', 'ptc.tier': hitTier })
    // the span and the call's own withCacheInfo() share one info: both say so
    expect(stale.info).toMatchObject({ cacheStatus: 'swr', tier: hitTier, ageMs: 2000 })
    prisma.$cache.close()
  })

  it("a miss's query runs inside its span (a lower query extension sees it active); a hit runs none", async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const seen: (string | undefined)[] = []
    const lower = db.$extends({
      query: { $allModels: { $allOperations: ({ args, query }) => (seen.push(trace.getActiveSpan()?.spanContext().spanId), query(args)) } },
    })
    const prisma = lower.$extends(withCache({ redisTimeoutMs: 2000, ...tier(), tracing: true }))
    const outer = trace.getTracer('test').startSpan('request')
    await context.with(trace.setSpan(context.active(), outer), async () => {
      await prisma.user.findUnique({ where: { id: ann.id } })
      await prisma.user.findUnique({ where: { id: ann.id } })
      // a bypass's query is Prisma's lazy promise: it too must start inside the span
      await prisma.user.findUnique({ where: { id: ann.id }, cacheStrategy: false })
    })
    outer.end()
    const [miss, hit, bypass] = exporter.getFinishedSpans().filter((span) => span.name === FIND_UNIQUE)
    expect(seen).toEqual([miss!.spanContext().spanId, bypass!.spanContext().spanId])
    expect(bypass!.attributes).toMatchObject({ 'ptc.outcome': 'bypass', 'ptc.bypass_reason': 'cacheStrategy' })
    // both sit under the caller's span, as Prisma's own spans would
    expect([miss!.parentSpanContext?.spanId, hit!.parentSpanContext?.spanId]).toEqual([outer.spanContext().spanId, outer.spanContext().spanId])
    expect(hit!.attributes['ptc.outcome']).toBe(hitTier)
    prisma.$cache.close()
  })

  it("@prisma/instrumentation: Prisma's operation span of a miss is the cache span's child; a hit has none", async () => {
    const ann = await ctx.db.prisma.user.create({ data: { email: 'ann@example.com' } })
    const prisma = client()
    const instrumentation = new PrismaInstrumentation()
    instrumentation.setTracerProvider(provider)
    instrumentation.enable()
    try {
      expect(await prisma.user.findUnique({ where: { id: ann.id } })).toEqual(ann)
      expect(await prisma.user.findUnique({ where: { id: ann.id } })).toEqual(ann)
    } finally {
      instrumentation.disable()
    }
    const spans = exporter.getFinishedSpans()
    const [miss, hit] = spans.filter((span) => span.name === FIND_UNIQUE)
    expect([miss!.attributes['ptc.outcome'], hit!.attributes['ptc.outcome']]).toEqual(['miss', hitTier])
    const operations = spans.filter((span) => span.name === 'prisma:client:operation')
    expect(operations.map((span) => span.parentSpanContext?.spanId)).toEqual([miss!.spanContext().spanId])
    prisma.$cache.close()
  })

  it("two findUniques of one tick: one batch query, run inside the first read's span; each read its own span", async () => {
    const db = ctx.db.prisma
    const [ann, bob] = [await db.user.create({ data: { email: 'ann@example.com' } }), await db.user.create({ data: { email: 'bob@example.com' } })]
    const seen: string[] = []
    const lower = db.$extends({
      query: { $allModels: { $allOperations: ({ operation, args, query }) => (seen.push(`${operation} ${trace.getActiveSpan()?.spanContext().spanId}`), query(args)) } },
    })
    const prisma = lower.$extends(withCache({ redisTimeoutMs: 2000, ...tier(), tracing: true }))
    const answers = await Promise.all([prisma.user.findUnique({ where: { id: ann.id } }), prisma.user.findUnique({ where: { id: bob.id } })])
    expect(answers).toEqual([ann, bob])
    const [first, second] = exporter.getFinishedSpans().filter((span) => span.name === FIND_UNIQUE)
    expect(seen).toEqual([`findMany ${first!.spanContext().spanId}`])
    expect([first!.attributes['ptc.outcome'], second!.attributes['ptc.outcome']]).toEqual(['miss', 'miss'])
    prisma.$cache.close()
  })

  it('a read in a transaction is a bypass, with its reason, and sees the uncommitted row', async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const prisma = client()
    const where = { where: { id: ann.id } }
    await prisma.user.findUnique(where)
    exporter.reset()
    const inTx = await prisma.$transaction(async (tx) => {
      await tx.user.update({ ...where, data: { name: 'uncommitted' } })
      return tx.user.findUnique(where)
    })
    expect(inTx?.name).toBe('uncommitted')
    expect(cacheSpans()).toEqual([
      {
        name: FIND_UNIQUE,
        attributes: { 'ptc.model': 'User', 'ptc.operation': 'findUnique', 'ptc.outcome': 'bypass', 'ptc.bypass_reason': 'transaction' },
      },
    ])
    prisma.$cache.close()
  })

  it('no span carries an argument value: not in its name, attributes, events or status, failed reads included', async () => {
    const secret = 'hunter2-secret-value'
    const db = ctx.db.prisma
    await db.user.create({ data: { email: `${secret}@example.com`, name: secret } })
    const prisma = client()
    const where = { where: { email: `${secret}@example.com` } }
    for (let i = 0; i < 2; i++) {
      await prisma.user.findUnique(where)
      await prisma.user.findMany({ where: { name: { contains: secret } }, cacheStrategy: { ttl: 60, tags: [secret] } })
      await prisma.user.count({ where: { name: secret } })
      await expect(prisma.user.findUniqueOrThrow({ where: { email: `missing-${secret}` } })).rejects.toMatchObject({ code: 'P2025' })
      // Prisma's message quotes the arguments: the span must not take it
      await expect(prisma.user.findMany({ where: { name: { bogus: secret } } as never })).rejects.toThrow(secret)
    }
    const spans = exporter.getFinishedSpans().filter((span) => span.name.startsWith('prisma-tiered-cache '))
    expect(spans).toHaveLength(10)
    const failed = spans.filter((span) => span.status.code === 2).map((span) => span.attributes['error.type'])
    expect(failed).toEqual(['P2025', 'PrismaClientValidationError', 'P2025', 'PrismaClientValidationError'])
    const text = JSON.stringify(spans.map((span) => [span.name, span.attributes, span.events, span.status, span.links]))
    expect(text).not.toContain(secret)
    prisma.$cache.close()
  })
})

it('without `tracing`, no span, even with a tracer provider registered', async () => {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  const prisma = cachedClient(db, { redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` })
  await prisma.user.findUnique({ where: { id: ann.id } })
  await prisma.user.findUnique({ where: { id: ann.id } })
  expect(exporter.getFinishedSpans()).toEqual([])
  prisma.$cache.close()
})

it('`tracing: { tracer }` uses that tracer, not the global one', async () => {
  const own = new InMemorySpanExporter()
  const ownProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] })
  const prisma = cachedClient(ctx.db.prisma, { tracing: { tracer: ownProvider.getTracer('mine') } })
  await prisma.post.count()
  expect(own.getFinishedSpans().map((span) => [span.name, span.attributes['ptc.outcome']])).toEqual([['prisma-tiered-cache Post.count', 'miss']])
  expect(exporter.getFinishedSpans()).toEqual([])
  prisma.$cache.close()
})

it('a wrong `tracing` option is a CacheConfigError naming it', () => {
  expect(() => withCache({ tracing: 'yes' as never })).toThrow(/tracing must be true, false or an object \{ tracer\? \}, got "yes"/)
  expect(() => withCache({ tracing: { tracr: {} } as never })).toThrow(/tracing\.tracr is an unknown option \(did you mean tracing\.tracer\?\)/)
  expect(() => withCache({ tracing: { tracer: {} as never } })).toThrow(CacheConfigError)
})

// What an application without @opentelemetry/api sees: the sources and a node_modules holding
// everything of ours but @opentelemetry, run in a process of its own.
it('without @opentelemetry/api installed, the library loads and caches; only `tracing` is refused, with a CacheConfigError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ptc-no-otel-'))
  try {
    cpSync('src', join(dir, 'src'), { recursive: true })
    symlinkSync(join(process.cwd(), 'generated'), join(dir, 'generated'))
    mkdirSync(join(dir, 'node_modules'))
    for (const entry of readdirSync('node_modules')) {
      if (entry !== '@opentelemetry') symlinkSync(join(process.cwd(), 'node_modules', entry), join(dir, 'node_modules', entry))
    }
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
    writeFileSync(join(dir, 'app.ts'), NO_OTEL_APP)
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'app.ts'], { cwd: dir, env: { ...process.env, URL: ctx.url } })
    expect(JSON.parse(stdout)).toEqual({
      otel: 'absent',
      count: 0,
      error: 'CacheConfigError: prisma-tiered-cache: tracing needs the package @opentelemetry/api (npm i @opentelemetry/api)',
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)

const NO_OTEL_APP = `import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from './generated/prisma/client.ts'
import { withCache } from './src/index.ts'
const otel = await import('@opentelemetry/api').then(() => 'present', () => 'absent')
const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.URL }) })
const cached = client.$extends(withCache())
const count = await cached.post.count()
let error
try { client.$extends(withCache({ tracing: true })) } catch (e) { error = \`\${e.name}: \${e.message}\` }
cached.$cache.close()
await client.$disconnect()
console.log(JSON.stringify({ otel, count, error }))
`
