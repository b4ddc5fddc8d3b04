// Per-value counters (one per row value a read pins) must not grow with the rows ever read: in
// process memory they are collected once no L1 entry holds them; in Redis they expire.
// Reads go out 2,000 at a time, so that batching makes each round one query.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { cachedClient, useDatabase } from '../support/db.js'
import { scanKeys, useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const ROUND = 2_000

/** Collects garbage until the FinalizationRegistry callbacks have run (bounded by rounds, not time). */
async function collect(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

async function readDistinct(prisma: ReturnType<typeof cachedClient>, count: number, offset = 1_000_000): Promise<void> {
  for (let start = 0; start < count; start += ROUND) {
    await Promise.all(Array.from({ length: ROUND }, (_, i) => prisma.post.findUnique({ where: { id: offset + start + i } })))
  }
}

describe('counters stay bounded', () => {
  it('in process: after 200,000 distinct reads through a 1 MiB L1, the counters held are those of the entries it keeps', async () => {
    const prisma = cachedClient(ctx.db.prisma, { l1: { maxBytes: 1024 * 1024 } })
    await collect()
    const heapBefore = process.memoryUsage().heapUsed
    await readDistinct(prisma, 200_000)
    await collect()
    const { l1 } = prisma.$cache.metrics()
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024
    console.log(`[counters] in process after 200,000 distinct reads: ${l1!.entries} L1 entries, ${l1!.counters} counters held, heap +${heapGrowthMb.toFixed(1)} MB`)
    expect(prisma.$cache.metrics().misses).toBe(200_000)
    // each entry (a cached null by id) holds its id's counter, the model's, the id field's and the global one
    expect(l1!.entries).toBeLessThan(200_000)
    expect(l1!.counters).toBeLessThanOrEqual(l1!.entries + 10)
    // 200,000 counters held would be tens of MB on their own
    expect(heapGrowthMb).toBeLessThan(40)
  })

  it('in Redis: every per-value counter carries a TTL longer than any entry, and misses stay misses once one expires', async () => {
    const namespace = `${redisCtx.namespace}-counters`
    // 20,000 in the suite (~3 s); `PTC_COUNTER_READS=200000` measured 200,000 counters of ~88 B each, used_memory +81 MB with the entries
    const reads = Number(process.env.PTC_COUNTER_READS ?? 20_000)
    const prisma = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, l1: false, namespace })
    const infoBefore = await redisCtx.redis.info('memory')
    await readDistinct(prisma, reads)
    const keys = await scanKeys(redisCtx.redis, `${namespace}:{Post}:e:id:*`)
    expect(keys).toHaveLength(reads)
    const ttls = await Promise.all(keys.slice(0, 500).map((key) => redisCtx.redis.pttl(key)))
    // at least a day (twice the longest ttl + swr of any policy otherwise)
    for (const ttl of ttls) expect(ttl).toBeGreaterThan(23 * 60 * 60 * 1000)
    const sample = await Promise.all(keys.slice(0, 100).map((key) => redisCtx.redis.memory('USAGE', key)))
    const perKey = sample.reduce((a: number, b) => a + Number(b), 0) / sample.length
    const used = (text: string) => Number(/used_memory:(\d+)/.exec(text)![1])
    const infoAfter = await redisCtx.redis.info('memory')
    console.log(
      `[counters] Redis after ${reads} distinct reads: ${keys.length} per-value counters, ~${perKey.toFixed(0)} B each (MEMORY USAGE), used_memory +${((used(infoAfter) - used(infoBefore)) / 1024 / 1024).toFixed(1)} MB (entries included)`,
    )
    // an expired counter reads as unknown: the entry that recorded it is a miss, never a hit
    const first = await prisma.post.findUnique({ where: { id: 1_000_000 } })
    const hitsBefore = prisma.$cache.metrics().hitsL2
    expect(await prisma.post.findUnique({ where: { id: 1_000_000 } })).toEqual(first)
    expect(prisma.$cache.metrics().hitsL2).toBe(hitsBefore + 1)
    await redisCtx.redis.unlink(`${namespace}:{Post}:e:id:1000000:gen`)
    const missesBefore = prisma.$cache.metrics().misses
    expect(await prisma.post.findUnique({ where: { id: 1_000_000 } })).toEqual(first)
    expect(prisma.$cache.metrics().misses).toBe(missesBefore + 1)
    for (const key of await scanKeys(redisCtx.redis, `${namespace}:*`)) await redisCtx.redis.unlink(key)
  })
})
