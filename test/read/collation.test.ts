// Reads of one tick that the database matches by its own equality, not by the text of the key:
// on MariaDB/MySQL the default collation is case-insensitive, so 'ANN@example.com' and
// 'ann@example.com' name one row. Whatever the cache batches, each read must answer exactly what
// the same read answers on the plain client, alone (PostgreSQL: only the exact spelling matches).
import { beforeEach, describe, expect, it } from 'vitest'
import type { CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()

let run = 0
const tiers = [
  { name: 'L1', options: (): CacheOptions => ({}) },
  { name: 'L2 only', options: (): CacheOptions => ({ redis: redisCtx.redis, l1: false as const, namespace: `${redisCtx.namespace}-${run++}` }) },
  { name: 'L1+L2', options: (): CacheOptions => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}-${run++}` }) },
]

const spellings = ['ann@example.com', 'ANN@example.com', 'Ann@Example.com']

describe.each(tiers)('$name', (tier) => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    await ctx.db.prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  })

  it('findUnique of one tick by a unique string spelled in other cases: each as the plain client answers it alone', async () => {
    const expected = []
    for (const email of spellings) expected.push(await ctx.db.prisma.user.findUnique({ where: { email } }))
    const prisma = cachedClient(ctx.db.prisma, tier.options())
    expect(await Promise.all(spellings.map((email) => prisma.user.findUnique({ where: { email } })))).toEqual(expected)
    // and again, from the cache
    expect(await Promise.all(spellings.map((email) => prisma.user.findUnique({ where: { email } })))).toEqual(expected)
    prisma.$cache.close()
  })

  it('findFirst of one tick by a string in other cases: each as the plain client answers it alone', async () => {
    const expected = []
    for (const email of spellings) expected.push(await ctx.db.prisma.user.findFirst({ where: { email } }))
    const prisma = cachedClient(ctx.db.prisma, tier.options())
    expect(await Promise.all(spellings.map((email) => prisma.user.findFirst({ where: { email } })))).toEqual(expected)
    prisma.$cache.close()
  })
})
