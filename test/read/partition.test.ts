import { AsyncLocalStorage } from 'node:async_hooks'
import { beforeEach, describe, expect, it } from 'vitest'
import { CacheConfigError, withCache, type CacheOptions } from '../../src/index.js'
import { resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

/*
 * `partition`: for applications where the same arguments return different rows per caller. Here,
 * row-level security simulated by a query extension under the cache that restricts every Sample
 * read to the current tenant, held in AsyncLocalStorage, the way such applications usually do it.
 */

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
const namespace = () => `${redisCtx.namespace}.${run++}`

const tenants = new AsyncLocalStorage<string>()
/** Runs and awaits `fn` as `tenant`: Prisma promises are lazy, they run where they are awaited. */
const asTenant = <T>(tenant: string, fn: () => PromiseLike<T>): Promise<T> => tenants.run(tenant, async () => await fn())

const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy'])

/** The database client as the application sees it: every Sample read ANDed with the caller's tenant. */
function rowLevelSecurity() {
  return ctx.db.prisma.$extends({
    query: {
      sample: {
        $allOperations({ operation, args, query }) {
          const tenant = tenants.getStore()
          if (tenant === undefined || !READS.has(operation)) return query(args)
          const a = args as { where?: Record<string, unknown> }
          const and = a.where?.AND === undefined ? [] : Array.isArray(a.where.AND) ? a.where.AND : [a.where.AND]
          return query({ ...args, where: { ...a.where, AND: [...and, { tenant }] } } as typeof args)
        },
      },
    },
  })
}

function cached(options: CacheOptions) {
  return rowLevelSecurity().$extends(withCache(options))
}

async function seed() {
  const db = ctx.db.prisma
  const common = { at: new Date('2026-01-01T00:00:00Z'), big: 1n, price: 1, bytes: new Uint8Array([1]), status: 'ACTIVE' as const }
  // both tenants have a row with code 'x', each their own
  await db.sample.create({ data: { ...common, tenant: 'a', code: 'x', note: 'a-x' } })
  await db.sample.create({ data: { ...common, tenant: 'a', code: 'y', note: 'a-y' } })
  await db.sample.create({ data: { ...common, tenant: 'b', code: 'x', note: 'b-x' } })
  await db.sample.create({ data: { ...common, tenant: 'b', code: 'z', note: 'b-z' } })
  await db.sample.create({ data: { ...common, tenant: 'b', code: 'w', note: 'b-w' } })
  ctx.db.resetQueries()
}

const manyArgs = { orderBy: { id: 'asc' as const } }
const firstArgs = { where: { code: 'x' } }

type Cached = ReturnType<typeof cached>
/** The same three reads, with the same arguments, whoever asks. */
async function reads(prisma: Cached) {
  return {
    many: await prisma.sample.findMany(manyArgs),
    first: await prisma.sample.findFirst(firstArgs),
    count: await prisma.sample.count(),
  }
}

describe('partition', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it.each([
    ['L1', 'l1' as const],
    ['L2 only', 'l2' as const],
  ])('keeps tenants apart in %s: the same arguments never return another tenant\'s cached rows', async (_tier, tier) => {
    await seed()
    const ns = namespace()
    const partition = () => tenants.getStore()
    const options: CacheOptions =
      tier === 'l1' ? { partition } : { partition, redis: redisCtx.redis, namespace: ns, l1: false, redisTimeoutMs: 5_000 }
    const first = cached(options)
    // L2 only: tenant b is served by another client (another process), so only Redis is shared
    const second = tier === 'l1' ? first : cached(options)
    const truth = rowLevelSecurity()
    const expected = async (tenant: string) =>
      asTenant(tenant, async () => ({
        many: await truth.sample.findMany(manyArgs),
        first: await truth.sample.findFirst(firstArgs),
        count: await truth.sample.count(),
      }))
    const a = await expected('a')
    const b = await expected('b')
    expect(a.first!.note).toBe('a-x')
    expect(b.first!.note).toBe('b-x')
    expect([a.count, b.count]).toEqual([2, 3])
    ctx.db.resetQueries()

    expect(await asTenant('a', () => reads(first))).toEqual(a)
    expect(ctx.db.queries()).toBe(3)
    // same arguments, other tenant: its own misses, its own rows
    expect(await asTenant('b', () => reads(second))).toEqual(b)
    expect(ctx.db.queries()).toBe(6)
    // and each tenant's entries are served to that tenant only, from the cache
    expect(await asTenant('a', () => reads(second))).toEqual(a)
    expect(await asTenant('b', () => reads(first))).toEqual(b)
    expect(await asTenant('a', () => reads(first))).toEqual(a)
    expect(ctx.db.queries()).toBe(6)

    // concurrently, interleaved in one tick
    const [ra, rb] = await Promise.all([asTenant('a', () => reads(second)), asTenant('b', () => reads(first))])
    expect(ra).toEqual(a)
    expect(rb).toEqual(b)
    expect(ctx.db.queries()).toBe(6)
  })

  it('without it, tenant b would be served tenant a\'s cached rows: the reason the option exists', async () => {
    await seed()
    const prisma = cached({ redis: redisCtx.redis, namespace: namespace(), redisTimeoutMs: 5_000 })
    const truth = rowLevelSecurity()
    const forA = await asTenant('a', () => prisma.sample.findMany(manyArgs))
    expect(forA.map((s) => s.tenant)).toEqual(['a', 'a'])
    const forB = await asTenant('b', () => prisma.sample.findMany(manyArgs))
    // the database would have answered with b's rows; the cache, keyed on the arguments alone,
    // answers with a's
    expect(await asTenant('b', () => truth.sample.findMany(manyArgs))).not.toEqual(forA)
    expect(forB).toEqual(forA)
    expect(forB.map((s) => s.tenant)).toEqual(['a', 'a'])
  })

  it('shares entries among callers without a partition, and still separates the ones with one', async () => {
    await seed()
    const prisma = cached({ partition: () => tenants.getStore(), redis: redisCtx.redis, namespace: namespace(), redisTimeoutMs: 5_000 })
    const all = await ctx.db.prisma.sample.findMany(manyArgs)
    ctx.db.resetQueries()
    // no tenant: the security extension lets an administrator see every row; they share one entry
    expect(await prisma.sample.findMany(manyArgs)).toEqual(all)
    expect(await prisma.sample.findMany(manyArgs)).toEqual(all)
    expect(ctx.db.queries()).toBe(1)
    const forA = await asTenant('a', () => prisma.sample.findMany(manyArgs))
    expect(forA).toEqual(all.filter((s) => s.tenant === 'a'))
    expect(ctx.db.queries()).toBe(2)
  })

  it('invalidates every tenant\'s entries on a write, whichever tenant made it', async () => {
    await seed()
    const ns = namespace()
    const options: CacheOptions = { partition: () => tenants.getStore(), redis: redisCtx.redis, namespace: ns, redisTimeoutMs: 5_000 }
    const first = cached(options)
    const second = cached({ ...options, l1: false })
    const truth = rowLevelSecurity()
    await asTenant('a', () => reads(first))
    await asTenant('b', () => reads(first))
    await asTenant('b', () => reads(second))
    await asTenant('a', () =>
      first.sample.create({
        data: { tenant: 'b', code: 'v', at: new Date(0), big: 0n, price: 0, bytes: new Uint8Array(), status: 'DRAFT' },
      }),
    )
    for (const client of [first, second]) {
      for (const tenant of ['a', 'b']) {
        expect(await asTenant(tenant, () => reads(client))).toEqual(
          await asTenant(tenant, async () => ({
            many: await truth.sample.findMany(manyArgs),
            first: await truth.sample.findFirst(firstArgs),
            count: await truth.sample.count(),
          })),
        )
      }
    }
    expect(await asTenant('b', () => first.sample.count())).toBe(4)
  })

  it('rejects a partition that is not a function, naming the option', () => {
    const attempt = () => cached({ partition: 'tenant' as unknown as () => string })
    expect(attempt).toThrow(CacheConfigError)
    expect(attempt).toThrow(expect.objectContaining({ option: 'partition' }))
  })

  it.each([
    ['L1', 'l1' as const],
    ['L2 only', 'l2' as const],
  ])('batches of one tick never run one tenant\'s query in another tenant\'s context (%s)', async (_tier, tier) => {
    await seed()
    const rows = await ctx.db.prisma.sample.findMany({ orderBy: { id: 'asc' } })
    const idOf = (tenant: string, code: string) => rows.find((r) => r.tenant === tenant && r.code === code)!.id
    const prisma = cached({
      partition: () => tenants.getStore(),
      ...(tier === 'l2' ? { redis: redisCtx.redis, namespace: namespace(), l1: false as const } : {}),
    })
    const note = (row: { note: string | null } | null) => row?.note ?? null
    // the same tick: findUnique batches per partition, findMany merges per partition
    const [aOwn, bOther, bOwn, aOther, aMany, bMany] = await Promise.all([
      asTenant('a', () => prisma.sample.findUnique({ where: { id: idOf('a', 'x') } })),
      asTenant('b', () => prisma.sample.findUnique({ where: { id: idOf('a', 'y') } })),
      asTenant('b', () => prisma.sample.findUnique({ where: { id: idOf('b', 'x') } })),
      asTenant('a', () => prisma.sample.findUnique({ where: { id: idOf('b', 'z') } })),
      asTenant('a', () => prisma.sample.findMany({ where: { code: 'x' } })),
      asTenant('b', () => prisma.sample.findMany({ where: { code: 'x' } })),
    ])
    expect([note(aOwn), note(bOther), note(bOwn), note(aOther)]).toEqual(['a-x', null, 'b-x', null])
    expect(aMany.map((r) => r.note)).toEqual(['a-x'])
    expect(bMany.map((r) => r.note)).toEqual(['b-x'])
  })
})
