// Other extensions beside the cache, each compared with a plain client carrying the same extension.
// Below withCache(): a result field whose value is a function is kept out of Redis (the codec
// cannot carry it: src/codec/carriable.ts). On top of withCache(): query hooks on reads and result
// fields are refused when the client is built (src/prisma/stacking.ts); model methods, client
// methods and write hooks work.
import { Prisma } from '@prisma/client/extension'
import { beforeEach, describe, expect, it } from 'vitest'
import { CacheConfigError, withCache } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { scanKeys, useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
})

const greeting = Prisma.defineExtension({
  result: { user: { greet: { needs: { name: true }, compute: (user: { name: string | null }) => () => `hi ${user.name}` } } },
})

/** A soft-delete filter as applications write it: rows named "hidden" stand for deleted ones. */
const softDelete = Prisma.defineExtension({
  name: 'softDelete',
  query: {
    user: {
      findMany({ args, query }) {
        const { where, ...rest } = args as { where?: object }
        return query({ ...rest, where: { ...where, NOT: { name: 'hidden' } } })
      },
    },
  },
})

async function seed() {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  await db.user.create({ data: { email: 'gone@example.com', name: 'hidden' } })
  return ann
}

describe.each([
  ['L1+L2', {}],
  ['L2 only', { l1: false as const }],
])('a result field whose value is a function, applied before withCache (%s)', (_name, tier) => {
  it('is there on every read, as on the plain extended client, and such results stay out of Redis', async () => {
    const ann = await seed()
    const plain = ctx.db.prisma.$extends(greeting)
    const namespace = `${redisCtx.namespace}.${run++}`
    const prisma = plain.$extends(withCache({ ...tier, redis: redisCtx.redis, namespace, redisTimeoutMs: 2000 }))
    const other = plain.$extends(withCache({ ...tier, redis: redisCtx.redis, namespace, redisTimeoutMs: 2000 }))
    const where = { where: { id: ann.id } }
    const expected = (await plain.user.findUnique(where))!.greet()
    for (const client of [prisma, prisma, other]) {
      const row = await client.user.findUnique(where)
      expect(typeof row!.greet).toBe('function')
      expect(row!.greet()).toBe(expected)
      expect((await client.user.findMany()).map((u) => u.greet())).toEqual((await plain.user.findMany()).map((u) => u.greet()))
    }
    expect(await scanKeys(redisCtx.redis, `${namespace}:*:q:*`)).toEqual([])
    // what the codec carries still goes to Redis
    await prisma.user.count()
    expect(await scanKeys(redisCtx.redis, `${namespace}:*:q:*`)).toHaveLength(1)
    prisma.$cache.close()
    other.$cache.close()
  })
})

describe('extensions applied on top of withCache', () => {
  it('a query hook on reads is refused when the client is built, naming the extension and what to do', () => {
    const cached = cachedClient(ctx.db.prisma)
    expect(() => cached.$extends(softDelete)).toThrow(CacheConfigError)
    expect(() => cached.$extends(softDelete)).toThrow(
      /extension "softDelete" is applied on top of withCache\(\): its query hook user.findMany would not apply to cached reads. Apply withCache\(\) last/,
    )
    expect(() => cached.$extends({ query: { $allModels: { $allOperations: ({ args, query }) => query(args) } } })).toThrow(
      /an extension without a name .*query hook \$allModels.\$allOperations/,
    )
    expect(() => cached.$extends({ query: { $allOperations: ({ args, query }) => query(args) } })).toThrow(/query hook \$allOperations/)
    cached.$cache.close()
  })

  it('a result field is refused when the client is built, however the extension is given', () => {
    const cached = cachedClient(ctx.db.prisma)
    expect(() => cached.$extends(greeting)).toThrow(/result field user.greet would not apply to cached reads/)
    expect(() => cached.$extends((client) => client.$extends({ name: 'shout', result: { user: { shout: { compute: () => 1 } } } }))).toThrow(
      /extension "shout" .*result field user.shout/,
    )
    // and on a client with a harmless extension in between
    expect(() => cached.$extends({ client: { $hello: () => 'hi' } }).$extends(greeting)).toThrow(CacheConfigError)
    cached.$cache.close()
  })

  it('the same extensions applied before withCache answer as the plain extended client', async () => {
    await seed()
    const plain = ctx.db.prisma.$extends(softDelete)
    for (const tier of [{}, { l1: false as const }]) {
      const prisma = plain.$extends(withCache({ ...tier, redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` }))
      expect(await prisma.user.findMany()).toEqual(await plain.user.findMany())
      expect((await prisma.user.findMany()).map((u) => u.name)).toEqual(['Ann'])
      prisma.$cache.close()
    }
  })

  it('model methods on top work as on the plain client: cached, and invalidated by writes', async () => {
    const ann = await seed()
    const named = Prisma.defineExtension({
      name: 'named',
      model: {
        user: {
          named(name: string) {
            const users = Prisma.getExtensionContext(this) as unknown as { findMany(args: object): Promise<unknown[]> }
            return users.findMany({ where: { name } })
          },
        },
      },
    })
    const plain = ctx.db.prisma.$extends(named)
    const prisma = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` }).$extends(named)
    expect(await prisma.user.named('Ann')).toEqual(await plain.user.named('Ann'))
    ctx.db.resetQueries()
    expect(await prisma.user.named('Ann')).toEqual(await plain.user.named('Ann'))
    expect(ctx.db.queries()).toBe(1) // the plain client's alone: the cached one hit
    await prisma.user.update({ where: { id: ann.id }, data: { name: 'Ann B' } })
    expect(await prisma.user.named('Ann B')).toEqual(await plain.user.named('Ann B'))
    expect(await prisma.user.named('Ann')).toEqual([])
    prisma.$cache.close()
  })

  it('write hooks and raw-query hooks on top run, as on the plain client', async () => {
    const seen: string[] = []
    const audit = Prisma.defineExtension({
      name: 'audit',
      query: {
        user: {
          create({ args, query }) {
            seen.push('create')
            return query(args)
          },
        },
        $queryRaw({ args, query }) {
          seen.push('queryRaw')
          return query(args)
        },
      },
    })
    const prisma = cachedClient(ctx.db.prisma).$extends(audit)
    const ann = await prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    await prisma.$queryRaw`SELECT 1`
    expect(seen).toEqual(['create', 'queryRaw'])
    expect(await prisma.user.findUnique({ where: { id: ann.id } })).toEqual(await ctx.db.prisma.user.findUnique({ where: { id: ann.id } }))
    prisma.$cache.close()
  })
})
