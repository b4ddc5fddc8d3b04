// TTL advice on a known workload, on real services with an injected clock: a shape read 10 times
// between writes is advised 'cache' with 10 reads per invalidation and its measured validity as
// ttl; a shape invalidated before every read is advised 'do not cache'. In metrics() and in the
// summary log, L1+L2, L2 only and L1 only (each counts where its answering tier looks).
import { beforeEach, describe, expect, it } from 'vitest'
import type { CacheLogger, MetricsSnapshot, TtlAdvice } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0

const modes = {
  'L1+L2': () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` }),
  'L2 only': () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, l1: false as const }),
  'L1 only': () => ({}),
}

const READ_STEP_MS = 100

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
  await ctx.db.prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
})

const shapeOf = (snapshot: MetricsSnapshot, model: string, operation: string) =>
  snapshot.shapes.find((s) => s.model === model && s.operation === operation)

describe.each(Object.entries(modes))('TTL advice (%s)', (_, options) => {
  it('10 reads between writes: cache, 10 reads per invalidation; a read after every write: do not cache', async () => {
    let now = 1_700_000_000_000
    const summaries: unknown[] = []
    const logger: CacheLogger = { info: (obj, msg) => void (msg === 'prisma-tiered-cache: summary' && summaries.push(obj)), warn: () => {}, error: () => {} }
    const prisma = cachedClient(ctx.db.prisma, { ...options(), logger, now: () => now, defaults: { ttl: 3600 } })
    await prisma.$cache.ready() // its coming up clears L1
    const readUser = async () => {
      now += READ_STEP_MS
      const user = await prisma.user.findUnique({ where: { id: 1 } })
      expect(user).toEqual(await ctx.db.prisma.user.findUnique({ where: { id: 1 } })) // never a stale answer
    }
    const readPosts = async () => {
      const posts = await prisma.post.findMany({ where: { authorId: 1 } })
      expect(posts).toEqual(await ctx.db.prisma.post.findMany({ where: { authorId: 1 } }))
    }
    // cold misses first: they find no entry, and the window starts after them
    await prisma.user.findUnique({ where: { id: 1 } })
    await readPosts()
    now += 9 * READ_STEP_MS // so that every entry lives 10 read steps before its write
    prisma.$cache.resetMetrics()
    prisma.$cache.logSummary()
    summaries.length = 0

    for (let cycle = 0; cycle < 3; cycle++) {
      await prisma.user.update({ where: { id: 1 }, data: { name: `Ann ${cycle}` } })
      for (let read = 0; read < 10; read++) await readUser()
    }
    for (let cycle = 0; cycle < 4; cycle++) {
      await prisma.post.create({ data: { title: `Post ${cycle}`, authorId: 1 } })
      await readPosts()
    }

    const snapshot = prisma.$cache.metrics()
    const cached: TtlAdvice = { reads: 30, invalidations: 3, readsPerInvalidation: 10, validMs: 10 * READ_STEP_MS, advice: 'cache', suggestedTtlMs: 10 * READ_STEP_MS }
    // the first Post entry lived through the User phase (9 + 30 read steps), the next ones no step at all
    const uncached: TtlAdvice = { reads: 4, invalidations: 4, readsPerInvalidation: 1, validMs: (39 * READ_STEP_MS) / 4, advice: 'do not cache', suggestedTtlMs: 0 }
    expect(shapeOf(snapshot, 'User', 'findUnique')?.ttlAdvice).toEqual(cached)
    expect(shapeOf(snapshot, 'Post', 'findMany')?.ttlAdvice).toEqual(uncached)

    const summary = prisma.$cache.logSummary()
    expect(summary.ttlAdvice).toEqual([
      { model: 'Post', operation: 'findMany', shape: '{where{authorId}}', ...uncached },
      { model: 'User', operation: 'findUnique', shape: '{where{id}}', ...cached },
    ])
    expect(summaries).toEqual([summary])
    prisma.$cache.close()
  })

  it('a shape never invalidated: cache, no ttl suggested', async () => {
    let now = 1_700_000_000_000
    const prisma = cachedClient(ctx.db.prisma, { ...options(), now: () => now })
    await prisma.$cache.ready() // its coming up clears L1
    for (let read = 0; read < 5; read++) await prisma.user.findUnique({ where: { id: 1 } })
    now += 1
    expect(shapeOf(prisma.$cache.metrics(), 'User', 'findUnique')?.ttlAdvice).toEqual({
      reads: 5,
      invalidations: 0,
      readsPerInvalidation: undefined,
      validMs: undefined,
      advice: 'cache',
      suggestedTtlMs: undefined,
    })
    expect(prisma.$cache.logSummary().ttlAdvice).toEqual([])
    prisma.$cache.close()
  })
})
