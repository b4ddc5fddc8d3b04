import { Redis } from 'ioredis'
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { withCache, type CacheEvents } from '../../src/index.js'
import { CacheConfigError } from '../../src/errors.js'
import { L1_SAMPLE_EVERY, Metrics } from '../../src/metrics/metrics.js'
import { resolveOptions } from '../../src/config/resolve.js'
import { resetTables, useDatabase } from '../support/db.js'
import { cuttableProxy } from '../support/proxy.js'
import { dropNamespace, useRedis } from '../support/redis.js'
import { knownDelays, timedDatabase } from '../support/timed.js'

const ctx = useDatabase()
const redisCtx = useRedis()

// useRedis() drops `${namespace}:*`; the per-test namespaces (`${namespace}-N`) are dropped here
const namespaces: string[] = []
function namespace(): string {
  const ns = `${redisCtx.namespace}-${namespaces.length}`
  namespaces.push(ns)
  return ns
}
afterAll(async () => {
  for (const ns of namespaces) await dropNamespace(redisCtx.redis, ns)
})

/** `got` within the histogram's documented error (1/64) of `exact`. */
function near(got: number | undefined, exact: number): void {
  expect(got).toBeDefined()
  expect(Math.abs(got! - exact), `${got} ≈ ${exact}`).toBeLessThanOrEqual(exact / 64)
}

async function seed() {
  const db = ctx.db.prisma
  for (let i = 1; i <= 10; i++) await db.user.create({ data: { email: `u${i}@secret.example`, name: `User ${i}` } })
  for (let i = 0; i < 3; i++) await db.post.create({ data: { title: `post ${i}`, published: i !== 1, authorId: 1 } })
  ctx.db.resetQueries()
}

describe('the metrics collector', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    await seed()
  })

  it('time saved counts hits on entries a batch filled: each entry its share of the batch query', async () => {
    const db = timedDatabase(ctx.db.prisma, knownDelays)
    const prisma = db.cached()
    // four findUniques of one tick: one User findMany (20 ms), 5 ms for each entry it fills
    await Promise.all([1, 2, 3, 4].map((id) => prisma.user.findUnique({ where: { id } })))
    expect(prisma.$cache.metrics().models.User!.batches).toBe(1)
    for (const id of [1, 2, 3, 4]) await prisma.user.findUnique({ where: { id } })
    const findUnique = prisma.$cache.metrics().models.User!.operations.findUnique!
    expect(findUnique).toMatchObject({ hitsL1: 4, misses: 4 })
    expect(findUnique.savedMs).toBe(4 * 5)
    prisma.$cache.close()
  })

  it('counts every read of a known workload exactly, per model and operation, with latencies and time saved', async () => {
    const db = timedDatabase(ctx.db.prisma, knownDelays)
    const prisma = db.cached({ models: { Comment: false } })
    for (let id = 1; id <= 10; id++) await prisma.user.findUnique({ where: { id } }) // 10 misses: 1..10 ms
    for (let round = 0; round < 3; round++) for (let id = 1; id <= 10; id++) await prisma.user.findUnique({ where: { id } })
    for (let i = 0; i < 3; i++) await prisma.user.findMany({ where: { email: { contains: 'secret' } } }) // 1 miss (20 ms), 2 hits
    await prisma.post.count()
    await prisma.post.count()
    await prisma.user.findMany({ cacheStrategy: false })
    await prisma.user.findMany({ cacheStrategy: { ttl: 0 } })
    await prisma.user.findFirst({ cacheStrategy: { ttl: -1 } })
    await prisma.comment.findMany()
    await prisma.$transaction(async (tx) => {
      await tx.user.findUnique({ where: { id: 1 } })
      await prisma.user.findUnique({ where: { id: 2 } })
    })
    await prisma.$transaction([prisma.post.count()])
    await prisma.user.update({ where: { id: 1 }, data: { name: 'changed' } })

    const m = prisma.$cache.metrics()
    const findUnique = m.models.User!.operations.findUnique!
    expect(findUnique).toMatchObject({ hitsL1: 30, hitsL2: 0, misses: 10, stale: 0, coalesced: 0, bypasses: 2, hitRate: 0.75 })
    expect(findUnique.bypassReasons).toEqual({ policy: 0, transaction: 2, cacheStrategy: 0, badCacheStrategy: 0, redisDown: 0 })
    expect(findUnique.savedMs).toBe(30 * 5.5) // 30 hits × the shape's mean miss time
    const dbTime = findUnique.latency.db!
    expect(dbTime.count).toBe(10)
    expect(dbTime.mean).toBe(5.5)
    expect(dbTime.max).toBe(10)
    near(dbTime.p50, 5)
    expect([dbTime.p95, dbTime.p99]).toEqual([10, 10])
    expect(findUnique.latency.l1).toBeUndefined() // 45 cacheable reads: fewer than one sample's worth
    expect(findUnique.latency.l2).toBeUndefined()

    expect(m.models.User!.operations.findMany).toMatchObject({ hitsL1: 2, misses: 1, bypasses: 2, savedMs: 40 })
    expect(m.models.User!.operations.findMany!.bypassReasons.cacheStrategy).toBe(2)
    expect(m.models.User!.operations.findFirst!.bypassReasons.badCacheStrategy).toBe(1)
    expect(m.models.Post!.operations.count).toMatchObject({ hitsL1: 1, misses: 1, bypasses: 1, savedMs: 3 })
    expect(m.models.Post!.operations.count!.bypassReasons.transaction).toBe(1)
    expect(m.models.Comment).toMatchObject({ bypasses: 1, misses: 0, hitsL1: 0 })
    expect(m.models.Comment!.bypassReasons.policy).toBe(1)

    expect(m.models.User).toMatchObject({ hitsL1: 32, misses: 11, bypasses: 5, invalidations: 1, invalidationsBy: { update: 1 }, savedMs: 205 })
    expect(m.models.User!.latency.db!.count).toBe(11)
    expect(m.models.User!.latency.db!.max).toBe(20)
    expect(m).toMatchObject({ hits: 33, hitsL1: 33, hitsL2: 0, misses: 12, stale: 0, coalesced: 0, bypasses: 7, served: 52, savedMs: 208, redisErrors: 0 })
    expect(m.hitRate).toBe(33 / 45)
    expect(m.hitRateL1).toBe(33 / 45)
    expect(m.latency.db!.count).toBe(12)
    expect(m.breaker).toBeUndefined()
    expect(m.l1).toEqual({ entries: expect.any(Number), bytes: expect.any(Number), counters: expect.any(Number) })
    expect(m.shapes.map((s) => [s.model, s.operation, s.shape, s.hits, s.queries, s.savedMs])).toEqual([
      ['User', 'findUnique', '{where{id}}', 30, 10, 165],
      ['User', 'findMany', '{where{email{contains}}}', 2, 1, 40],
      ['Post', 'count', '{}', 1, 1, 3],
    ])
    expect(JSON.stringify(m)).not.toContain('secret')
  })

  it('times one L1 answer in L1_SAMPLE_EVERY, every L2 answer and every database query', async () => {
    const ns = namespace()
    const a = timedDatabase(ctx.db.prisma, knownDelays).cached({ redis: redisCtx.redis, namespace: ns })
    // b carries a's timing extension too (on the real clock): clients whose extensions below the
    // cache differ share no entries (test/read/client-omit.test.ts)
    const b = timedDatabase(ctx.db.prisma, knownDelays).cached({ redis: redisCtx.redis, namespace: ns, metrics: { clock: () => performance.now() } })
    await Promise.all([a.$cache.ready(), b.$cache.ready()])
    await a.user.findUnique({ where: { id: 7 } }) // a: miss (7 ms)
    for (let i = 0; i < 2 * L1_SAMPLE_EVERY; i++) await b.user.findUnique({ where: { id: 7 } }) // b: 1 L2 hit, then L1
    const fromA = a.$cache.metrics().models.User!.operations.findUnique!
    expect(fromA).toMatchObject({ misses: 1, hitsL2: 0 })
    expect(fromA.latency.db).toEqual({ count: 1, mean: 7, p50: 7, p95: 7, p99: 7, max: 7 })
    const fromB = b.$cache.metrics().models.User!.operations.findUnique!
    expect(fromB).toMatchObject({ misses: 0, hitsL2: 1, hitsL1: 2 * L1_SAMPLE_EVERY - 1, savedMs: 0 }) // b never queried the shape
    expect(fromB.latency.db).toBeUndefined()
    expect(fromB.latency.l2!.count).toBe(1)
    expect(fromB.latency.l1!.count).toBe(2) // reads number 64 and 128
    for (const d of [fromB.latency.l1!, fromB.latency.l2!]) {
      expect(d.p50).toBeGreaterThan(0)
      expect(d.p50).toBeLessThanOrEqual(d.p99)
      expect(d.p99).toBeLessThanOrEqual(d.max)
    }
    expect(b.$cache.metrics().breaker).toEqual({ state: 'closed', opened: 0, closed: 0 })
    a.$cache.close()
    b.$cache.close()
  })

  it('counts stale serves, coalesced waits and refresh queries, each read in one outcome', async () => {
    let now = 1_000_000
    const db = timedDatabase(ctx.db.prisma, knownDelays)
    const prisma = db.cached({ defaults: { ttl: 10, swr: 60 }, now: () => now })
    await prisma.user.findUnique({ where: { id: 4 } })
    now += 11_000
    await prisma.user.findUnique({ where: { id: 4 } }) // stale, refreshed in the background
    await vi.waitFor(() => expect(prisma.$cache.metrics().latency.db!.count).toBe(2))
    await prisma.user.findUnique({ where: { id: 4 } }) // fresh again
    await Promise.all(Array.from({ length: 5 }, () => prisma.user.findUnique({ where: { id: 5 } }))) // one query for five
    const m = prisma.$cache.metrics()
    expect(m.models.User!.operations.findUnique).toMatchObject({ misses: 2, stale: 1, hitsL1: 1, coalesced: 4, bypasses: 0 })
    expect(m.served).toBe(8)
    expect(m.latency.db!.count).toBe(3) // two misses and the refresh
    expect(ctx.db.queries()).toBe(3)
  })

  it('starts a new window on resetMetrics() without losing what entries know', async () => {
    let now = 5_000
    const prisma = timedDatabase(ctx.db.prisma, knownDelays).cached({ now: () => now })
    await prisma.user.findUnique({ where: { id: 3 } })
    await prisma.user.findUnique({ where: { id: 3 } })
    now += 2_500
    expect(prisma.$cache.metrics()).toMatchObject({ windowMs: 2_500, hits: 1, misses: 1, savedMs: 3 })
    prisma.$cache.resetMetrics()
    now += 1_000
    const empty = prisma.$cache.metrics()
    expect(empty).toMatchObject({ windowMs: 1_000, served: 0, hits: 0, misses: 0, savedMs: 0, shapes: [] })
    expect(empty.models.User!.operations.findUnique!.latency.db).toBeUndefined()
    await prisma.user.findUnique({ where: { id: 3 } })
    await prisma.user.findUnique({ where: { id: 3 } })
    const after = prisma.$cache.metrics()
    expect(after.models.User).toMatchObject({ hitsL1: 2, misses: 0, savedMs: 6 }) // the mean miss time is the shape's, from before
    expect(after.shapes).toEqual([expect.objectContaining({ shape: '{where{id}}', hits: 2, queries: 0, meanMs: 3, savedMs: 6 })])
  })

  it('counts invalidations once per write, by cause; another process hears them on the bus', async () => {
    const ns = namespace()
    const a = ctx.db.prisma.$extends(withCache({ redis: redisCtx.redis, namespace: ns }))
    const b = ctx.db.prisma.$extends(withCache({ redis: redisCtx.redis, namespace: ns }))
    await Promise.all([a.$cache.ready(), b.$cache.ready()])
    await a.user.update({ where: { id: 1 }, data: { name: 'x' } })
    await a.post.create({ data: { title: 'new', authorId: 2 } })
    await a.post.delete({ where: { id: 1 } }) // cascades to Comment (a Tag read with its posts depends on Post)
    await a.$cache.invalidate({ tags: ['feed'], models: ['Tag'] })
    await a.$executeRaw`UPDATE "User" SET name = name WHERE id = 1`
    await a.$cache.invalidateAll()
    const m = a.$cache.metrics()
    expect(m.models.User!.invalidationsBy).toEqual({ update: 1 })
    expect(m.models.Post!.invalidationsBy).toEqual({ create: 1, delete: 1 })
    expect(m.models.Comment!.invalidationsBy).toEqual({ delete: 1 })
    // the deleted post's tag links went with it: the tags' side of those links (`lu:Tag:posts`)
    expect(m.models.Tag!.invalidationsBy).toEqual({ delete: 1, invalidate: 1 })
    expect(m.invalidations).toEqual({ models: 6, tags: 1, all: 2 })
    // each write is announced before and after it runs: 4 writes × 2 + 2 invalidate calls
    await vi.waitFor(() => expect(b.$cache.metrics().busDelayMs?.count).toBe(10))
    expect(b.$cache.metrics().invalidations).toEqual({ models: 0, tags: 0, all: 0 })
    a.$cache.close()
    b.$cache.close()
  })

  it('counts Redis failures per read, bypasses while Redis is out, and the breaker opening and closing', async () => {
    const proxy = await cuttableProxy(redisCtx.url)
    const redis = new Redis({ port: proxy.port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 20 })
    redis.on('error', () => {})
    await vi.waitFor(() => expect(redis.status).toBe('ready'))
    let now = 1_000_000
    const errors: unknown[] = []
    const prisma = ctx.db.prisma.$extends(
      withCache({ redis, namespace: namespace(), l1: false, now: () => now, breaker: { failures: 3, cooldownMs: 1000 }, events: { onError: (e) => void errors.push(e.source) } }),
    )
    try {
      proxy.cut()
      for (let id = 1; id <= 5; id++) await prisma.user.findUnique({ where: { id } })
      const down = prisma.$cache.metrics()
      expect(down.models.User!.operations.findUnique).toMatchObject({ misses: 0, bypasses: 5, redisErrors: 3 })
      expect(down.bypassReasons.redisDown).toBe(5)
      expect(down.redisErrors).toBe(3)
      expect(down.breaker).toEqual({ state: 'open', opened: 1, closed: 0 })
      expect(errors).toEqual(['redis', 'redis', 'redis'])
      expect(prisma.$cache.prometheus()).toMatch(/^prisma_cache_breaker_open 1$/m)
      proxy.restore()
      await vi.waitFor(() => expect(redis.status).toBe('ready'))
      now += 1000 // the cooldown: the next call is a probe, and it succeeds
      await prisma.user.findUnique({ where: { id: 1 } })
      const back = prisma.$cache.metrics()
      expect(back.breaker).toEqual({ state: 'closed', opened: 1, closed: 1 })
      expect(back.models.User!.operations.findUnique).toMatchObject({ misses: 1, bypasses: 5, redisErrors: 3 })
      expect(prisma.$cache.prometheus()).toMatch(/^prisma_cache_breaker_open 0$/m)
    } finally {
      redis.disconnect()
      await proxy.close()
    }
  })

  it('collects nothing with metrics: false, and still serves and fires events', async () => {
    const hits: string[] = []
    const prisma = ctx.db.prisma.$extends(withCache({ metrics: false, events: { onHit: (e) => void hits.push(e.tier) } }))
    await prisma.user.findUnique({ where: { id: 1 } })
    await prisma.user.findUnique({ where: { id: 1 } })
    await prisma.user.findMany({ cacheStrategy: false })
    expect(ctx.db.queries()).toBe(2)
    expect(hits).toEqual(['l1'])
    expect(prisma.$cache.metrics()).toMatchObject({ served: 0, hits: 0, misses: 0, bypasses: 0, models: {}, shapes: [] })
    expect(prisma.$cache.prometheus()).not.toMatch(/model=/)
  })

  it('counts lookup batches and their sizes (recordBatch)', () => {
    const metrics = new Metrics({ enabled: true, slowQueryMs: 0, clock: () => 0, now: () => 0 })
    for (const size of [3, 5, 5, 40]) metrics.recordBatch('User', size)
    const user = metrics.snapshot(undefined).models.User!
    expect(user.batches).toBe(4)
    expect(user.batchSize).toEqual({ count: 4, mean: 13.25, p50: 5, p95: 40, p99: 40, max: 40 })
  })
})

describe('events', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    await seed()
  })

  it('sends typed payloads for hits, misses, stale serves, invalidations and refresh errors', async () => {
    const seen: Array<[string, unknown]> = []
    const record = (name: string) => (event: unknown) => void seen.push([name, event])
    const events: CacheEvents = { onHit: record('hit'), onMiss: record('miss'), onStale: record('stale'), onInvalidate: record('invalidate'), onError: record('error') }
    let now = 1_000_000
    let failRefresh = false
    const db = timedDatabase(ctx.db.prisma, (model, operation, args) => {
      if (failRefresh) throw new Error('database down')
      return knownDelays(model, operation, args)
    })
    const prisma = db.cached({ events, now: () => now, defaults: { ttl: 10, swr: 60 } })
    await prisma.user.findUnique({ where: { id: 2 } })
    await prisma.user.findUnique({ where: { id: 2 } })
    now += 11_000
    failRefresh = true
    await prisma.user.findUnique({ where: { id: 2 } })
    await vi.waitFor(() => expect(seen.map(([name]) => name)).toContain('error'))
    failRefresh = false
    await prisma.user.update({ where: { id: 2 }, data: { name: 'x' } })
    const args = { where: { id: 2 } }
    expect(seen).toEqual([
      ['miss', { model: 'User', operation: 'findUnique', args, durationMs: 2 }],
      ['hit', { model: 'User', operation: 'findUnique', tier: 'l1', args }],
      ['stale', { model: 'User', operation: 'findUnique', tier: 'l1', args }],
      ['error', { source: 'refresh', error: expect.objectContaining({ message: 'database down' }), model: 'User', operation: 'findUnique' }],
      ['invalidate', { cause: 'update', models: ['User'], tags: [], all: false }],
    ])
    expect(prisma.$cache.metrics().models.User!.refreshErrors).toBe(1)
  })

  it('keeps a throwing listener away from the read, and logs it', async () => {
    const warnings: object[] = []
    const logger = { info() {}, error() {}, warn: (o: object) => void warnings.push(o) }
    const prisma = ctx.db.prisma.$extends(
      withCache({ logger, events: { onMiss: () => { throw new Error('listener bug') } } }),
    )
    expect((await prisma.user.findUnique({ where: { id: 1 } }))!.id).toBe(1)
    expect(warnings).toEqual([expect.objectContaining({ listener: 'onMiss' })])
  })
})

describe('metrics and events options', () => {
  it('fills in defaults', () => {
    const { metrics, events } = resolveOptions()
    expect(metrics).toMatchObject({ enabled: true, summaryIntervalMs: 0, slowQueryMs: 0 })
    expect(typeof metrics.clock()).toBe('number')
    expect(events).toEqual({})
    expect(resolveOptions({ metrics: false }).metrics.enabled).toBe(false)
  })

  it.each([
    [{ metrics: 'on' }, 'metrics'],
    [{ metrics: { summaryIntervalMs: -1 } }, 'metrics.summaryIntervalMs'],
    [{ metrics: { slowQueryMs: Number.NaN } }, 'metrics.slowQueryMs'],
    [{ metrics: { clock: 5 } }, 'metrics.clock'],
    [{ events: [] }, 'events'],
    [{ events: { onhit: () => {} } }, 'events.onhit'],
    [{ events: { onHit: 'log' } }, 'events.onHit'],
  ])('rejects %j naming %s', (options, option) => {
    let error: unknown
    try {
      resolveOptions(options as never)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(CacheConfigError)
    expect((error as CacheConfigError).option).toBe(option)
  })
})
