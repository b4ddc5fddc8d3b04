// `negativeTtl`: a `null`, an empty list or a zero count is fresh for a time of its own, on an
// injected clock; rows found keep their `ttl`. Rows are added behind the cache (through the plain
// client: no invalidation), so a negative entry kept past its own TTL would show as a stale answer.
import { beforeEach, describe, expect, it } from 'vitest'
import { CacheConfigError, withCache, type CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
let now = 0
let warnings: string[] = []
const logger = { info: () => {}, warn: (_: object, msg?: string) => void warnings.push(msg ?? ''), error: () => {} }

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
  now = 1_700_000_000_000
  warnings = []
})

const tiers: Array<[string, () => CacheOptions, 'l1' | 'l2']> = [
  ['L1+L2', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` }), 'l1'],
  ['L2 only', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, l1: false }), 'l2'],
  ['L1 only', () => ({}), 'l1'],
]

describe.each(tiers)('negativeTtl, %s', (_name, tier, hitTier) => {
  // waits for the bus: its coming up clears L1, which would turn an expected L1 hit into a miss under load
  const client = async (options: CacheOptions) => {
    const prisma = cachedClient(ctx.db.prisma, { now: () => now, logger, ...tier(), ...options })
    await prisma.$cache.ready()
    return prisma
  }

  it('a null, an empty list and a zero count expire at negativeTtl while a found row keeps its ttl', async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const prisma = await client({ defaults: { ttl: 60, negativeTtl: 2 } })
    const reads = {
      found: () => prisma.user.findUnique({ where: { id: ann.id } }),
      absent: () => prisma.user.findUnique({ where: { email: 'bob@example.com' } }),
      absentOrThrow: () => prisma.user.findFirstOrThrow({ where: { name: 'Bob' } }),
      first: () => prisma.user.findFirst({ where: { name: 'Bob' } }),
      list: () => prisma.user.findMany({ where: { name: 'Bob' } }),
      count: () => prisma.user.count({ where: { name: 'Bob' } }),
      countSelect: () => prisma.user.count({ where: { name: 'Bob' }, select: { _all: true, name: true } }),
      groups: () => prisma.user.groupBy({ by: ['name'], where: { name: 'Bob' } }),
    }
    const negatives = ['absent', 'first', 'list', 'count', 'countSelect', 'groups'] as const
    const info = async (name: keyof typeof reads) => (await reads[name]().withCacheInfo()).info
    for (const name of ['found', ...negatives] as const) expect((await info(name)).cacheStatus, name).toBe('miss')
    // shares findFirst's cached null, which sends it to the database for Prisma's own error
    await expect(reads.absentOrThrow()).rejects.toThrow(/No record was found/)
    for (const name of ['found', ...negatives] as const) expect((await info(name)).cacheStatus, name).toBe(hitTier)

    if (tier().redis !== undefined) {
      // Redis expires them at their own TTL too (PX on store): negative ones within 2 s, the row after
      const pttl = async (name: keyof typeof reads) => redisCtx.redis.pttl((await info(name)).key!)
      expect(await pttl('found')).toBeGreaterThan(2_000)
      for (const name of negatives) {
        const ms = await pttl(name)
        expect(ms, name).toBeGreaterThan(0)
        expect(ms, name).toBeLessThanOrEqual(2_000)
      }
    }

    await db.user.create({ data: { email: 'bob@example.com', name: 'Bob' } }) // behind the cache
    now += 1_999
    for (const name of ['found', ...negatives] as const) expect((await info(name)).cacheStatus, name).toBe(hitTier)
    expect(await reads.absent()).toBeNull() // still fresh, still what was cached

    now += 1 // exactly negativeTtl
    for (const name of negatives) expect((await info(name)).cacheStatus, name).toBe('miss')
    expect(await reads.absent()).toEqual(await db.user.findUnique({ where: { email: 'bob@example.com' } }))
    expect(await reads.first()).toEqual(await db.user.findFirst({ where: { name: 'Bob' } }))
    expect(await reads.list()).toEqual(await db.user.findMany({ where: { name: 'Bob' } }))
    expect(await reads.count()).toBe(1)
    expect(await reads.countSelect()).toEqual({ _all: 1, name: 1 })
    expect(await reads.groups()).toEqual([{ name: 'Bob' }])
    expect(await reads.absentOrThrow()).toEqual(await db.user.findFirstOrThrow({ where: { name: 'Bob' } }))
    // the found row's entry lives on for its ttl
    const found = await reads.found().withCacheInfo()
    expect(found.info).toMatchObject({ cacheStatus: hitTier, ageMs: 2_000 })
    expect(found.data).toEqual(ann)
    prisma.$cache.close()
  })

  it('per model, per call, and 0: a model overrides defaults, cacheStrategy overrides the model, 0 keeps negative answers out', async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const prisma = await client({ defaults: { ttl: 60, negativeTtl: 30 }, models: { User: { negativeTtl: 5 }, Post: { ttl: 10 } } })
    const status = async (read: { withCacheInfo(): Promise<{ info: { cacheStatus: string } }> }) => (await read.withCacheInfo()).info.cacheStatus
    const nobody = { where: { email: 'nobody@example.com' } }

    // a per-call negativeTtl is what the entry that call stores is kept for (entries do not differ by TTL)
    const perCall = { where: { email: 'other@example.com' }, cacheStrategy: { negativeTtl: 1 } }
    await prisma.user.findUnique(nobody)
    await prisma.post.findMany({ where: { title: 'none' } }) // Post inherits the defaults' negativeTtl
    await prisma.user.findUnique(perCall)
    now += 999
    expect(await status(prisma.user.findUnique(perCall))).toBe(hitTier)
    now += 1
    expect(await status(prisma.user.findUnique(perCall))).toBe('miss')
    expect(await status(prisma.user.findUnique(nobody))).toBe(hitTier)
    now += 4_000 // 5 s: the model's negativeTtl
    expect(await status(prisma.user.findUnique(nobody))).toBe('miss')
    expect(await status(prisma.post.findMany({ where: { title: 'none' } }))).toBe(hitTier)
    now += 5_000 // Post's own ttl (10 s) is shorter than the defaults' negativeTtl: still 30 s for its negative
    expect(await status(prisma.post.findMany({ where: { title: 'none' } }))).toBe(hitTier)

    const off = await client({ defaults: { ttl: 60, negativeTtl: 0 } })
    ctx.db.resetQueries()
    for (let i = 0; i < 3; i++) expect(await status(off.user.findUnique(nobody))).toBe('miss')
    for (let i = 0; i < 3; i++) await off.user.findUnique({ where: { id: ann.id } })
    expect(ctx.db.queries()).toBe(4) // three for the null, each time; one for the row
    prisma.$cache.close()
    off.$cache.close()
  })

  it('a malformed negativeTtl per call runs the read uncached and says why', async () => {
    const prisma = await client({})
    const { data, info } = await prisma.user.findMany({ cacheStrategy: { negativeTtl: '5' as unknown as number } }).withCacheInfo()
    expect(data).toEqual([])
    expect(info).toMatchObject({ cacheStatus: 'bypass', reason: 'badCacheStrategy' })
    expect(warnings).toEqual(['prisma-tiered-cache: bad cacheStrategy, read not cached'])
    prisma.$cache.close()
  })
})

it('negativeTtl must be a non-negative number of seconds', () => {
  expect(() => withCache({ defaults: { negativeTtl: '5' as unknown as number } })).toThrow(CacheConfigError)
  expect(() => withCache({ defaults: { negativeTtl: '5' as unknown as number } })).toThrow(
    /defaults\.negativeTtl must be a non-negative number of seconds, got "5"/,
  )
  expect(() => withCache({ models: { User: { negativeTtl: -1 } } })).toThrow(/models\.User\.negativeTtl must be a non-negative number of seconds, got -1/)
  expect(() => withCache({ models: { User: { negativeTTL: 1 } as never } })).toThrow(/did you mean models\.User\.negativeTtl/)
})
