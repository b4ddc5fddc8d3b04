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

describe('the fluent relation API is typed as on the plain client', () => {
  const where = { where: { id: 1 } }
  it('to-many and to-one after each operation, with arguments', () => {
    expectTypeOf(prisma.user.findUnique(where).posts()).resolves.toEqualTypeOf<Awaited<ReturnType<ReturnType<typeof base.user.findUnique<typeof where>>['posts']>>>()
    expectTypeOf(prisma.user.findUnique(where).posts()).resolves.toEqualTypeOf<Prisma.PostModel[] | null>()
    expectTypeOf(prisma.user.findUniqueOrThrow(where).posts()).resolves.toEqualTypeOf<Prisma.PostModel[]>()
    expectTypeOf(prisma.user.findFirst().profile()).resolves.toEqualTypeOf<Prisma.ProfileModel | null>()
    expectTypeOf(prisma.user.findFirstOrThrow().profile()).resolves.toEqualTypeOf<Prisma.ProfileModel | null>()
    const posts = prisma.user.findUnique(where).posts({ where: { published: true }, select: { id: true, title: true }, orderBy: { id: 'asc' } })
    const plainPosts = base.user.findUnique(where).posts({ where: { published: true }, select: { id: true, title: true }, orderBy: { id: 'asc' } })
    expectTypeOf(posts).resolves.toEqualTypeOf<{ id: number; title: string }[] | null>()
    expectTypeOf<Awaited<typeof posts>>().toEqualTypeOf<Awaited<typeof plainPosts>>()
    expectTypeOf(prisma.user.findUniqueOrThrow(where).profile({ select: { bio: true } })).resolves.toEqualTypeOf<{ bio: string | null } | null>()
    // @ts-expect-error the relation's arguments are exact, as Prisma's
    prisma.user.findUnique(where).posts({ whre: {} })
    // @ts-expect-error no relation of that name
    prisma.user.findUnique(where).author()
  })

  it('chains to-one relations, null where a link is missing', () => {
    const chained = prisma.post.findUniqueOrThrow(where).author().profile()
    const plainChained = base.post.findUniqueOrThrow(where).author().profile()
    expectTypeOf(chained).resolves.toEqualTypeOf<Prisma.ProfileModel | null>()
    expectTypeOf<Awaited<typeof chained>>().toEqualTypeOf<Awaited<typeof plainChained>>()
    const viaRequired = prisma.comment.findUniqueOrThrow(where).post().author({ select: { id: true } })
    const plainViaRequired = base.comment.findUniqueOrThrow(where).post().author({ select: { id: true } })
    expectTypeOf<Awaited<typeof viaRequired>>().toEqualTypeOf<Awaited<typeof plainViaRequired>>()
    expectTypeOf(viaRequired).resolves.toEqualTypeOf<{ id: number } | null>()
    expectTypeOf(prisma.comment.findFirst().post().comments()).resolves.toEqualTypeOf<Prisma.CommentModel[] | null>()
  })
})

describe('Prisma’s documented typing patterns compile on the extended client', () => {
  it('a typed wrapper: SelectSubset of the model’s args, passed through', () => {
    function findUser<T extends Prisma.UserFindUniqueArgs>(args: Prisma.SelectSubset<T, Prisma.UserFindUniqueArgs>) {
      return prisma.user.findUnique(args)
    }
    expectTypeOf(findUser({ where: { id: 1 }, select: { email: true } })).resolves.toEqualTypeOf<{ email: string } | null>()
    function findPosts<T extends Prisma.PostFindManyArgs>(args?: Prisma.SelectSubset<T, Prisma.PostFindManyArgs>) {
      return prisma.post.findMany(args)
    }
    expectTypeOf(findPosts({ select: { id: true } })).resolves.toEqualTypeOf<{ id: number }[]>()
  })

  it('aggregate _avg of a BigInt is a number, as Prisma types it', () => {
    const cached = prisma.sample.aggregate({ _avg: { big: true }, _sum: { big: true } })
    const plain = base.sample.aggregate({ _avg: { big: true }, _sum: { big: true } })
    expectTypeOf(cached).resolves.toEqualTypeOf<Awaited<typeof plain>>()
    expectTypeOf(cached).resolves.toEqualTypeOf<{ _avg: { big: number | null }; _sum: { big: bigint | null } }>()
  })
})
