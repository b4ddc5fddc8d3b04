import { beforeEach, describe, expect, it } from 'vitest'
import { CacheConfigError, type CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

// Prisma hands a model override the context of the client it was called on: with extensions
// applied on top of withCache, `$parent` is a client that still has the cache's overrides. Before
// the fix, a cached read's miss came back into the cache and waited on itself (a hang), and
// `$transaction` called itself until the stack overflowed.

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0

async function seed() {
  const ann = await ctx.db.prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  ctx.db.resetQueries()
  return ann
}

const tiers: Array<[string, () => CacheOptions]> = [
  ['L1', () => ({})],
  ['L1 + L2', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` })],
]

/** The cache with two more extensions applied on top of it, as applications stack them. */
function stacked(options: CacheOptions) {
  return cachedClient(ctx.db.prisma, options)
    .$extends({ client: { $hello: () => 'hello' } })
    .$extends({ model: { $allModels: { describeMe: () => 'a model method' } } })
}

/** Fails the test instead of hanging it. */
function within<T>(ms: number, promise: PromiseLike<T>): Promise<T> {
  return Promise.race([Promise.resolve(promise), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))])
}

describe.each(tiers)('extensions applied on top of withCache (%s)', (_tier, options) => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('reads are cached, answered right, and invalidated by writes through the stacked client', async () => {
    const ann = await seed()
    const prisma = stacked(options())
    const first = await within(5000, prisma.user.findUnique({ where: { id: ann.id } }))
    expect(first).toEqual(ann)
    const queries = ctx.db.queries()
    expect(await prisma.user.findUnique({ where: { id: ann.id } })).toEqual(ann)
    expect(ctx.db.queries()).toBe(queries) // a hit
    await prisma.user.update({ where: { id: ann.id }, data: { name: 'Ann 2' } })
    expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe('Ann 2')
    expect(prisma.$hello()).toBe('hello')
    expect(prisma.user.describeMe()).toBe('a model method')
  })

  it('interactive transactions run, read uncommitted rows inside, and leave the cache as it was on rollback', async () => {
    const ann = await seed()
    const prisma = stacked(options())
    await prisma.user.findUnique({ where: { id: ann.id } }) // cached: Ann
    const inside = await within(
      5000,
      prisma
        .$transaction(async (tx) => {
          await tx.user.update({ where: { id: ann.id }, data: { name: 'rolled back' } })
          const seen = await tx.user.findUnique({ where: { id: ann.id } })
          throw Object.assign(new Error('roll back'), { seen })
        })
        .catch((error: { seen: unknown }) => error.seen),
    )
    expect(inside).toMatchObject({ name: 'rolled back' })
    expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe('Ann')
    await within(5000, prisma.$transaction(async (tx) => tx.user.update({ where: { id: ann.id }, data: { name: 'committed' } })))
    expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe('committed')
    expect(await ctx.db.prisma.user.findUnique({ where: { id: ann.id } })).toMatchObject({ name: 'committed' })
  })

  it('array transactions with cached reads resolve, uncached', async () => {
    const ann = await seed()
    const prisma = stacked(options())
    const [row, count] = await within(5000, prisma.$transaction([prisma.user.findUnique({ where: { id: ann.id } }), prisma.user.count()]))
    expect(row).toEqual(ann)
    expect(count).toBe(1)
  })
})

describe('a result extension applied on top of withCache', () => {
  it('is refused when the client is built: its fields would not apply to cached reads (test/read/stacked-extensions.test.ts has every kind)', () => {
    const cached = cachedClient(ctx.db.prisma)
    const shout = { result: { user: { shout: { needs: { name: true }, compute: (user: { name: string | null }) => (user.name ?? '').toUpperCase() } } } }
    expect(() => cached.$extends(shout)).toThrow(CacheConfigError)
    expect(() => cached.$extends(shout)).toThrow(/Apply withCache\(\) last/)
    cached.$cache.close()
  })
})
