// `.withCacheInfo()`: one call's answer and how it was answered (Accelerate's withAccelerateInfo),
// compared with a plain client on the same database; statuses asserted in sequence, on an
// injected clock so that ages are exact.
import { Redis } from 'ioredis'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { cuttableProxy } from '../support/proxy.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
let now = 0

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
  now = 1_700_000_000_000
})

const tiers: Array<[string, () => CacheOptions, 'l1' | 'l2']> = [
  ['L1+L2', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` }), 'l1'],
  ['L2 only', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, l1: false }), 'l2'],
  ['L1 only', () => ({}), 'l1'],
]

describe.each(tiers)('withCacheInfo, %s', (_name, tier, hitTier) => {
  // waits for the bus: its coming up clears L1, which would turn an expected L1 hit into a miss under load
  const client = async (options: CacheOptions = {}) => {
    const prisma = cachedClient(ctx.db.prisma, { now: () => now, defaults: { ttl: 10, swr: 60 }, ...tier(), ...options })
    await prisma.$cache.ready()
    return prisma
  }

  it('says miss, then a hit of its tier with the age of the entry; after a write, miss again; the data is what the plain client reads', async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const prisma = await client()
    const where = { where: { id: ann.id } }

    ctx.db.resetQueries()
    const first = await prisma.user.findUnique(where).withCacheInfo()
    expect(first.data).toEqual(await db.user.findUnique(where))
    expect(first.info).toMatchObject({ cacheStatus: 'miss', ageMs: 0, reason: undefined, lastModified: new Date(now) })
    expect(first.info.key).toEqual(expect.any(String))
    const storedAt = now

    now += 2_500
    const second = await prisma.user.findUnique(where).withCacheInfo()
    expect(second.data).toEqual(await db.user.findUnique(where))
    expect(second.info).toEqual({ cacheStatus: hitTier, tier: hitTier, reason: undefined, ageMs: 2_500, lastModified: new Date(storedAt), key: first.info.key })

    await prisma.user.update({ ...where, data: { name: 'Ann B' } })
    const third = await prisma.user.findUnique(where).withCacheInfo()
    expect(third.info.cacheStatus).toBe('miss')
    expect(third.data).toEqual(await db.user.findUnique(where))
    expect(third.data?.name).toBe('Ann B')
    const fourth = await prisma.user.findUnique(where).withCacheInfo()
    expect(fourth.info).toMatchObject({ cacheStatus: hitTier, ageMs: 0 })
    // three of the four calls were answered from cache or by one query each: miss, hit, miss, hit
    expect(prisma.$cache.metrics().models.User).toMatchObject({ misses: 2, [hitTier === 'l1' ? 'hitsL1' : 'hitsL2']: 2 })
    prisma.$cache.close()
  })

  it('says swr for an expired entry served stale, with its age, and the refreshed value after', async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const prisma = await client()
    const where = { where: { id: ann.id } }
    await prisma.user.findUnique(where)
    await db.user.update({ ...where, data: { name: 'behind the cache' } })

    now += 10_000 // exactly the ttl: expired, within swr
    const stale = await prisma.user.findUnique(where).withCacheInfo()
    expect(stale.info).toMatchObject({ cacheStatus: 'swr', tier: hitTier, ageMs: 10_000 })
    expect(stale.data?.name).toBe('Ann')
    // the background refresh stores the database's value; the next answers are fresh hits of it
    let fresh = await prisma.user.findUnique(where).withCacheInfo()
    for (let i = 0; fresh.info.cacheStatus === 'swr' && i < 500; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5))
      fresh = await prisma.user.findUnique(where).withCacheInfo()
    }
    expect(fresh.info).toMatchObject({ cacheStatus: hitTier, ageMs: 0 })
    expect(fresh.data).toEqual(await db.user.findUnique(where))
    prisma.$cache.close()
  })

  it('says bypass and why: in a transaction, cacheStrategy false, a model whose policy is off, optIn without cacheStrategy', async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const prisma = await client({ models: { Post: false } })
    const where = { where: { id: ann.id } }
    await prisma.user.findUnique(where) // an entry exists: a bypass must not answer from it

    const inTx = await prisma.$transaction(async (tx) => {
      await tx.user.update({ ...where, data: { name: 'uncommitted' } })
      return tx.user.findUnique(where).withCacheInfo()
    })
    expect(inTx.info).toMatchObject({ cacheStatus: 'bypass', reason: 'transaction', ageMs: 0 })
    expect(inTx.data?.name).toBe('uncommitted')

    const skipped = await prisma.user.findUnique({ ...where, cacheStrategy: false }).withCacheInfo()
    expect(skipped.info).toMatchObject({ cacheStatus: 'bypass', reason: 'cacheStrategy', key: undefined })
    expect(skipped.data).toEqual(await db.user.findUnique(where))

    const off = await prisma.post.count().withCacheInfo()
    expect(off).toMatchObject({ data: 0, info: { cacheStatus: 'bypass', reason: 'policy' } })

    const optIn = await client({ optIn: true })
    expect((await optIn.user.findMany().withCacheInfo()).info).toMatchObject({ cacheStatus: 'bypass', reason: 'policy' })
    const asked = await optIn.user.findMany({ cacheStrategy: { ttl: 60 } }).withCacheInfo()
    expect(asked.info.cacheStatus).toBe('miss')
    expect((await optIn.user.findMany({ cacheStrategy: { ttl: 60 } }).withCacheInfo()).info.cacheStatus).toBe(hitTier)
    expect(asked.data).toEqual(await db.user.findMany())
    prisma.$cache.close()
    optIn.$cache.close()
  })

  it('reads of one tick answered by one batch each get their own status', async () => {
    const db = ctx.db.prisma
    const [ann, bob] = [
      await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } }),
      await db.user.create({ data: { email: 'bob@example.com', name: 'Bob' } }),
    ]
    const prisma = await client()
    const both = () => Promise.all([ann, bob].map((u) => prisma.user.findUnique({ where: { id: u.id } }).withCacheInfo()))
    const first = await both()
    expect(first.map((r) => r.info.cacheStatus)).toEqual(['miss', 'miss'])
    now += 100
    const second = await both()
    expect(second.map((r) => [r.info.cacheStatus, r.info.ageMs])).toEqual([[hitTier, 100], [hitTier, 100]])
    expect(second.map((r) => r.data)).toEqual([ann, bob])
    prisma.$cache.close()
  })

  it('works on every cached read method, and a call that does not ask gets the plain value', async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const prisma = await client()
    const reads = [
      () => prisma.user.findUniqueOrThrow({ where: { id: ann.id } }),
      () => prisma.user.findFirst({ where: { name: 'Ann' } }),
      () => prisma.user.findFirstOrThrow({ where: { name: 'Ann' } }),
      () => prisma.user.count(),
      () => prisma.user.aggregate({ _max: { id: true } }),
      () => prisma.user.groupBy({ by: ['name'], _count: true }),
    ]
    for (const read of reads) {
      const plain = await read()
      const { data, info } = await read().withCacheInfo()
      expect(data).toEqual(plain)
      expect(info.cacheStatus).toBe(hitTier)
    }
    expect(await prisma.user.findUnique({ where: { id: ann.id } })).toEqual(ann)
    prisma.$cache.close()
  })
})

it.each([
  ['L2 only', false as const],
  ['L1+L2', undefined],
])('says bypass, redisDown, while Redis is out (%s), with the database answer; miss and hit once it is back', async (_name, l1) => {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  const proxy = await cuttableProxy(redisCtx.url)
  const redis = new Redis({ port: proxy.port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 20 })
  redis.on('error', () => {})
  await vi.waitFor(() => expect(redis.status).toBe('ready'))
  const prisma = cachedClient(db, { redis, l1, namespace: `${redisCtx.namespace}.${run++}`, now: () => now, breaker: { failures: 1, cooldownMs: 1000 } })
  const where = { where: { id: ann.id } }
  try {
    proxy.cut()
    const down = await prisma.user.findUnique(where).withCacheInfo()
    expect(down.info).toMatchObject({ cacheStatus: 'bypass', reason: 'redisDown' })
    expect(down.data).toEqual(await db.user.findUnique(where))
    proxy.restore()
    await vi.waitFor(() => expect(redis.status).toBe('ready'))
    now += 1000 // the breaker's cooldown: the next call probes Redis
    await prisma.$cache.invalidateAll() // what L1 kept while Redis was out
    expect((await prisma.user.findUnique(where).withCacheInfo()).info.cacheStatus).toBe('miss')
    expect((await prisma.user.findUnique(where).withCacheInfo()).info.cacheStatus).toBe(l1 === false ? 'l2' : 'l1')
  } finally {
    prisma.$cache.close()
    redis.disconnect()
    await proxy.close()
  }
})
