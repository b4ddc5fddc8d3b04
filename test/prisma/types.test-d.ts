// Type-level tests, run by vitest's typecheck mode (tsc): they pin the public API's types.
import { describe, expectTypeOf, it } from 'vitest'
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js'
import { withCache, type CacheInfo, type CacheStrategy, type MetricsSnapshot } from '../../src/index.js'

declare const base: PrismaClient
const prisma = base.$extends(withCache({ models: { Sample: false } }))

describe('the extended client keeps Prisma result types', () => {
  it('types cached reads exactly as Prisma does', () => {
    expectTypeOf(prisma.user.findUnique({ where: { id: 1 } })).resolves.toEqualTypeOf<Prisma.UserModel | null>()
    expectTypeOf(prisma.user.findUniqueOrThrow({ where: { id: 1 } })).resolves.toEqualTypeOf<Prisma.UserModel>()
    expectTypeOf(prisma.post.findMany({ select: { id: true, title: true } })).resolves.toEqualTypeOf<
      { id: number; title: string }[]
    >()
    const withPosts = prisma.user.findFirst({ include: { posts: true } })
    expectTypeOf(withPosts).resolves.toEqualTypeOf<(Prisma.UserModel & { posts: Prisma.PostModel[] }) | null>()
    expectTypeOf(prisma.post.count()).resolves.toEqualTypeOf<number>()
    expectTypeOf(prisma.sample.findFirst()).resolves.toEqualTypeOf<Prisma.SampleModel | null>()
  })

  it('accepts cacheStrategy on reads and rejects what is not one', () => {
    prisma.post.findMany({ where: { published: true }, cacheStrategy: { ttl: 10, swr: 5, tags: ['feed'] } })
    prisma.post.findMany({ cacheStrategy: false })
    // @ts-expect-error ttl is a number of seconds
    prisma.post.findMany({ cacheStrategy: { ttl: '10' } })
    // @ts-expect-error not an option of cacheStrategy
    prisma.post.findMany({ cacheStrategy: { tll: 10 } })
    // @ts-expect-error still exact: unknown arguments are rejected as Prisma rejects them
    prisma.post.findMany({ whre: {} })
    expectTypeOf<CacheStrategy>().toEqualTypeOf<
      false | { ttl?: number; swr?: number; negativeTtl?: number; tags?: readonly string[] }
    >()
  })

  it('keeps transaction clients and array transactions typed', async () => {
    const name = await prisma.$transaction(async (tx) => (await tx.user.findUniqueOrThrow({ where: { id: 1 } })).name)
    expectTypeOf(name).toEqualTypeOf<string | null>()
    const [count, users] = await prisma.$transaction([prisma.post.count(), prisma.user.findMany()])
    expectTypeOf(count).toEqualTypeOf<number>()
    expectTypeOf(users).toEqualTypeOf<Prisma.UserModel[]>()
  })

  it('gives withCacheInfo() on every cached read, its data typed as the plain result', () => {
    expectTypeOf(prisma.user.findUnique({ where: { id: 1 } }).withCacheInfo()).resolves.toEqualTypeOf<{ data: Prisma.UserModel | null; info: CacheInfo }>()
    expectTypeOf(prisma.post.findMany({ select: { id: true } }).withCacheInfo()).resolves.toEqualTypeOf<{ data: { id: number }[]; info: CacheInfo }>()
    expectTypeOf(prisma.post.count().withCacheInfo()).resolves.toEqualTypeOf<{ data: number; info: CacheInfo }>()
    expectTypeOf<CacheInfo['cacheStatus']>().toEqualTypeOf<'l1' | 'l2' | 'swr' | 'miss' | 'bypass'>()
  })

  it('exposes $cache', () => {
    expectTypeOf(prisma.$cache.metrics()).toEqualTypeOf<MetricsSnapshot>()
    expectTypeOf(prisma.$cache.invalidate).parameter(0).toEqualTypeOf<{ tags?: readonly string[]; models?: readonly string[] }>()
  })
})
