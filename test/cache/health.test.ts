import { beforeEach, describe, expect, it } from 'vitest'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'
import { until, useOwnRedis } from '../support/redis-server.js'

/*
 * `$cache.health()` on real services: a healthy Redis, no Redis, and a Redis of this file's own
 * that is killed (and started again) under a cached client.
 */

const ctx = useDatabase()
const shared = useRedis()
const own = useOwnRedis()
const L1_BYTES = 1 << 20
let run = 0

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
  await ctx.db.prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
})

describe('health() with a healthy Redis', () => {
  it('L1+L2: Redis reachable, breaker closed, bus subscribed with its round trip, L1 against its budget', async () => {
    const prisma = cachedClient(ctx.db.prisma, { redis: shared.redis, namespace: `${shared.namespace}-${run++}`, l1: { maxBytes: L1_BYTES } })
    await prisma.$cache.ready()
    await prisma.user.findUnique({ where: { id: 1 } })
    // the bus's heartbeat goes out every quarter of l1.degradedTtlMs (250 ms): wait for one to come back
    await until(async () => (await prisma.$cache.health()).bus?.roundTripMs !== undefined, 'a heartbeat heard back')
    const report = await prisma.$cache.health()
    expect(report).toEqual({
      status: 'ok',
      ok: true,
      problems: [],
      redis: { reachable: true, roundTripMs: expect.any(Number), breaker: 'closed', pendingInvalidations: 0 },
      bus: { subscribed: true, roundTripMs: expect.any(Number) },
      l1: { entries: 1, bytes: expect.any(Number), maxBytes: L1_BYTES },
    })
    expect(report.redis!.roundTripMs).toBeLessThan(2000) // within redisTimeoutMs
    expect(report.l1!.bytes).toBeGreaterThan(0)
    prisma.$cache.close()
  })

  it('L2 only: Redis reported, no bus and no L1', async () => {
    const prisma = cachedClient(ctx.db.prisma, { redis: shared.redis, namespace: `${shared.namespace}-${run++}`, l1: false })
    await prisma.user.findUnique({ where: { id: 1 } })
    expect(await prisma.$cache.health()).toEqual({
      status: 'ok',
      ok: true,
      problems: [],
      redis: { reachable: true, roundTripMs: expect.any(Number), breaker: 'closed', pendingInvalidations: 0 },
      bus: undefined,
      l1: undefined,
    })
  })

  it('without Redis: L1 only', async () => {
    const prisma = cachedClient(ctx.db.prisma, { l1: { maxBytes: L1_BYTES } })
    await prisma.user.findUnique({ where: { id: 1 } })
    await prisma.user.findMany()
    expect(await prisma.$cache.health()).toEqual({
      status: 'ok',
      ok: true,
      problems: [],
      redis: undefined,
      bus: undefined,
      l1: { entries: 2, bytes: expect.any(Number), maxBytes: L1_BYTES },
    })
  })
})

describe('health() with Redis stopped', () => {
  it('resolves with Redis unreachable, the breaker open, the bus down and the invalidations waiting; ok again once Redis is back', async () => {
    const prisma = cachedClient(ctx.db.prisma, {
      redis: own.redis(),
      namespace: `own${run++}`,
      redisTimeoutMs: 300,
      breaker: { failures: 2, cooldownMs: 200 },
    })
    own.redis().on('error', () => {}) // ioredis reports each refused reconnect; the cache's own connections handle theirs
    await prisma.$cache.ready()
    await prisma.user.findMany() // cached, so a tag-less entry exists; bumps below have counters to move
    expect((await prisma.$cache.health()).ok).toBe(true)

    await own.server.kill()
    // reads fail over to the database; two failures open the breaker
    for (let i = 0; i < 3; i++) expect(await prisma.user.findUnique({ where: { email: `nobody${i}@example.com` } })).toBeNull()
    // exactly two counters to bump, both tags: neither reaches Redis
    await prisma.$cache.invalidate({ tags: ['feed', 'profile:1'] })
    const down = await prisma.$cache.health()
    expect(down).toEqual({
      status: 'degraded',
      ok: false,
      problems: ['Redis did not answer PING', 'Redis breaker open', 'invalidations waiting for Redis', 'invalidation bus not subscribed'],
      redis: { reachable: false, roundTripMs: undefined, breaker: 'open', pendingInvalidations: 2 },
      bus: { subscribed: false, roundTripMs: undefined },
      l1: { entries: expect.any(Number), bytes: expect.any(Number), maxBytes: 64 * 1024 * 1024 },
    })

    // a write while down adds its own counters to the waiting ones
    await prisma.user.update({ where: { id: 1 }, data: { name: 'Ann 2' } })
    expect((await prisma.$cache.health()).redis!.pendingInvalidations).toBeGreaterThan(2)

    await own.server.start()
    await until(async () => (await prisma.$cache.health()).ok, 'health ok again after Redis restarted')
    expect(await prisma.$cache.health()).toMatchObject({ status: 'ok', redis: { reachable: true, breaker: 'closed', pendingInvalidations: 0 }, bus: { subscribed: true } })
    prisma.$cache.close()
  })
})
