// `optIn: true`, for users coming from Prisma Accelerate: nothing is cached unless the call says
// `cacheStrategy`; what is cached is invalidated by writes as always.
import { beforeEach, describe, expect, it } from 'vitest'
import { CacheConfigError, withCache } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
})

describe.each([
  ['L1+L2', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` })],
  ['L2 only', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, l1: false as const })],
  ['L1 only', () => ({})],
])('optIn, %s', (_name, tier) => {
  it('a call without cacheStrategy always reaches the database; one with it is cached, and a write invalidates it', async () => {
    const db = ctx.db.prisma
    const user = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const prisma = cachedClient(db, { ...tier(), optIn: true })
    const where = { where: { id: user.id } }

    ctx.db.resetQueries()
    for (let i = 0; i < 3; i++) expect(await prisma.user.findUnique(where)).toEqual(user)
    expect(ctx.db.queries()).toBe(3)
    expect(prisma.$cache.metrics().bypassReasons.policy).toBe(3)

    ctx.db.resetQueries()
    for (let i = 0; i < 3; i++) expect(await prisma.user.findUnique({ ...where, cacheStrategy: { ttl: 60 } })).toEqual(user)
    expect(ctx.db.queries()).toBe(1)

    await prisma.user.update({ ...where, data: { name: 'Ann B' } })
    expect(await prisma.user.findUnique({ ...where, cacheStrategy: { ttl: 60 } })).toEqual(await db.user.findUnique(where))
    // the uncached call still sees the database, not the entry
    await db.user.update({ ...where, data: { name: 'behind the cache' } })
    expect((await prisma.user.findUnique(where))?.name).toBe('behind the cache')
    prisma.$cache.close()
  })
})

it('optIn must be a boolean', () => {
  expect(() => withCache({ optIn: 'yes' as unknown as boolean })).toThrow(CacheConfigError)
  expect(() => withCache({ optIn: 'yes' as unknown as boolean })).toThrow(/optIn must be true or false, got "yes"/)
})
