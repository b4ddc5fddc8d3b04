// The fluent relation API (issue 12): `findUnique({ where }).posts()` and its kin answer, fail and
// invalidate as on the plain client (real PostgreSQL and Redis, L2 only and L1+L2). A fluent read
// is the cached read of its root with a nested select (src/prisma/fluent.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { enableFluent } from '../../src/prisma/fluent.js'
import type { SchemaFacts } from '../../src/schema/schema.js'
import type { CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { freshNamespaces, useRedis } from '../support/redis.js'
import { until } from '../support/redis-server.js'

const ctx = useDatabase()
const redisCtx = useRedis()

const freshNamespace = freshNamespaces(redisCtx)

const tiers = [
  { name: 'L2 only', options: (): CacheOptions => ({ redis: redisCtx.redis, l1: false as const, namespace: freshNamespace() }) },
  { name: 'L1+L2', options: (): CacheOptions => ({ redis: redisCtx.redis, namespace: freshNamespace() }) },
]

type Cached = ReturnType<typeof cachedClient>
type Read = (client: Cached) => PromiseLike<unknown>

const text = (value: unknown) => JSON.stringify(value) ?? 'undefined'

async function seed() {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann', profile: { create: { bio: 'hi' } } } })
  const bob = await db.user.create({ data: { email: 'bob@example.com', name: 'Bob' } })
  const posts = []
  for (let i = 0; i < 3; i++) {
    const post = await db.post.create({ data: { title: `post ${i}`, published: i % 2 === 0, authorId: ann.id } })
    await db.comment.create({ data: { body: `c${i}`, postId: post.id, authorId: bob.id } })
    posts.push(post)
  }
  const orphan = await db.post.create({ data: { title: 'no author' } })
  const bobs = await db.post.create({ data: { title: 'by bob', authorId: bob.id } })
  return { ann, bob, posts, orphan, bobs }
}

describe.each(tiers)('fluent API, $name', (tier) => {
  let prisma: Cached
  let s: Awaited<ReturnType<typeof seed>>
  const plain = () => ctx.db.prisma as unknown as Cached

  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    s = await seed()
    prisma = cachedClient(ctx.db.prisma, tier.options())
    await prisma.$cache.ready()
  })

  afterEach(async () => {
    prisma.$cache.close()
  })

  const hits = () => Object.values(prisma.$cache.metrics().models).reduce((n, m) => n + m.hitsL1 + m.hitsL2, 0)

  /** Reads until a read is a hit (its entry has reached Redis), bounded by count. */
  async function untilHit(read: Read) {
    const before = hits()
    await until(async () => (await read(prisma), hits() > before), 'a hit')
  }

  /** The plain client's answer, then the cached client's: a miss, and a hit once its entry has landed. */
  async function same(read: Read) {
    const expected = text(await read(plain()))
    expect(text(await read(prisma))).toBe(expected)
    await untilHit(read)
    ctx.db.resetQueries()
    expect(text(await read(prisma))).toBe(expected)
    expect(ctx.db.queries()).toBe(0)
  }

  it('to-many and to-one, after each of the four operations, with arguments, as the plain client answers', async () => {
    const ann = { where: { id: s.ann.id } }
    await same((c) => c.user.findUnique(ann).posts())
    await same((c) => c.user.findUnique(ann).posts({ where: { published: true }, select: { title: true, id: true }, orderBy: { id: 'desc' } }))
    await same((c) => c.user.findUnique(ann).profile())
    await same((c) => c.user.findUnique(ann).profile({ select: { bio: true } }))
    await same((c) => c.user.findUniqueOrThrow(ann).posts({ orderBy: { id: 'asc' }, take: 2 }))
    await same((c) => c.user.findFirst({ where: { email: 'ann@example.com' } }).posts({ orderBy: { id: 'asc' } }))
    await same((c) => c.user.findFirstOrThrow({ orderBy: { id: 'desc' } }).profile())
        // the parent's own select is kept beside the relation's, as Prisma merges them
    await same((c) => c.user.findUnique({ where: { id: s.ann.id }, select: { id: true } }).posts({ orderBy: { id: 'asc' } }))
  })

  it('takes cacheStrategy on the root call: cached with its ttl, or not at all with false', async () => {
    const read = (strategy: { ttl: number } | false) => prisma.user.findUnique({ where: { id: s.bob.id }, cacheStrategy: strategy }).comments()
    const expected = text(await ctx.db.prisma.user.findUnique({ where: { id: s.bob.id } }).comments())
    for (let i = 0; i < 2; i++) expect(text(await read(false))).toBe(expected)
    expect(prisma.$cache.metrics().models.User!.bypassReasons.cacheStrategy).toBe(2)
    expect(text(await read({ ttl: 30 }))).toBe(expected)
    await untilHit(() => read({ ttl: 30 }))
  })

  it('chains to-one relations: post → author → profile, comment → post → author', async () => {
    await same((c) => c.post.findUnique({ where: { id: s.posts[0]!.id } }).author().profile())
    await same((c) => c.post.findUnique({ where: { id: s.posts[1]!.id } }).author({ select: { id: true } }).posts({ orderBy: { id: 'asc' } }))
    await same((c) => c.comment.findFirst({ orderBy: { id: 'asc' } }).post().author())
    await same((c) => c.profile.findFirstOrThrow().user().posts({ select: { id: true }, orderBy: { id: 'asc' } }))
  })

  it('self-relations: a category’s parent, its children, chained up the tree, invalidated both ways', async () => {
    const db = ctx.db.prisma
    const root = await db.category.create({ data: { name: 'root' } })
    const mid = await db.category.create({ data: { name: 'mid', parentId: root.id } })
    const leaf = await db.category.create({ data: { name: 'leaf', parentId: mid.id } })
    const other = await db.category.create({ data: { name: 'other' } })
    await same((c) => c.category.findUnique({ where: { id: leaf.id } }).parent())
    await same((c) => c.category.findUnique({ where: { id: leaf.id } }).parent().parent())
    await same((c) => c.category.findUnique({ where: { id: root.id } }).parent())
    await same((c) => c.category.findUniqueOrThrow({ where: { id: mid.id } }).parent().children({ orderBy: { id: 'asc' } }))
    const children = (c: Cached) => c.category.findUnique({ where: { id: root.id } }).children({ orderBy: { id: 'asc' } })
    await same(children)

    // a category created under another parent, and an edit of that one, leave root’s children cached
    await prisma.category.create({ data: { name: 'under other', parentId: other.id } })
    await prisma.category.update({ where: { id: other.id }, data: { name: 'other, edited' } })
    const expected = text(await children(plain()))
    ctx.db.resetQueries()
    expect(text(await children(prisma))).toBe(expected)
    expect(ctx.db.queries()).toBe(0)

    // one created under root, and leaf moved up to root, reach it
    await prisma.category.create({ data: { name: 'new under root', parentId: root.id } })
    expect(text(await children(prisma))).toBe(text(await children(plain())))
    await prisma.category.update({ where: { id: leaf.id }, data: { parentId: root.id } })
    const moved = await children(prisma)
    expect(moved!.map((c) => c.name)).toContain('leaf')
    expect(text(moved)).toBe(text(await children(plain())))
  })

  it('null where Prisma answers null: a missing parent, a missing related row, a null link in a chain', async () => {
    const nobody = { where: { id: 999_999 } }
    await same((c) => c.user.findUnique(nobody).posts())
    await same((c) => c.user.findUnique(nobody).profile())
    await same((c) => c.user.findFirst({ where: { name: 'nobody' } }).posts())
    await same((c) => c.user.findUnique({ where: { id: s.bob.id } }).profile())
    await same((c) => c.post.findUnique({ where: { id: s.orphan.id } }).author())
    await same((c) => c.post.findUnique({ where: { id: s.orphan.id } }).author().profile())
  })

  it('errors of OrThrow parents and of bad arguments are Prisma’s own: same class, code and meta', async () => {
    const failures: Read[] = [
      (c) => c.user.findUniqueOrThrow({ where: { id: 999_999 } }).posts(),
      (c) => c.user.findFirstOrThrow({ where: { name: 'nobody' } }).profile(),
      (c) => c.post.findUniqueOrThrow({ where: { id: 999_999 } }).author().profile(),
      (c) => c.user.findUnique({ where: { id: s.ann.id } }).posts({ where: { nope: 1 } } as never),
    ]
    for (const read of failures) {
      const expected = await Promise.resolve(read(plain())).then(() => undefined, (e: unknown) => e)
      const actual = await Promise.resolve(read(prisma)).then(() => undefined, (e: unknown) => e)
      expect(expected).toBeInstanceOf(Error)
      expect(actual?.constructor).toBe(expected!.constructor)
      expect((actual as { code?: string }).code).toBe((expected as { code?: string }).code)
      expect((actual as { meta?: unknown }).meta).toEqual((expected as { meta?: unknown }).meta)
    }
  })

  it('a cached .posts() is invalidated by a post created for that user, and kept by a write to another user’s posts', async () => {
    const read = (c: Cached) => c.user.findUnique({ where: { id: s.ann.id } }).posts({ orderBy: { id: 'asc' } })
    await same(read)

    await prisma.post.update({ where: { id: s.bobs.id }, data: { title: 'bob, edited' } })
    await prisma.post.create({ data: { title: 'bob again', authorId: s.bob.id } })
    const expected = text(await read(plain()))
    ctx.db.resetQueries()
    expect(text(await read(prisma))).toBe(expected)
    expect(ctx.db.queries()).toBe(0)

    await prisma.post.create({ data: { title: 'ann, new', authorId: s.ann.id } })
    const fresh = await read(prisma)
    expect(fresh!.map((p) => p.title)).toContain('ann, new')
    expect(text(fresh)).toBe(text(await read(plain())))

    // a chained read depends on every model on its path: an edited profile reaches post → author → profile
    const chained = (c: Cached) => c.post.findUnique({ where: { id: s.posts[0]!.id } }).author().profile()
    await same(chained)
    await prisma.profile.update({ where: { userId: s.ann.id }, data: { bio: 'edited' } })
    expect((await chained(prisma))?.bio).toBe('edited')
  })

  it('joins array transactions and runs in interactive ones, answering the relation as the plain client does', async () => {
    const where = { where: { id: s.ann.id } }
    const [posts, profile] = await prisma.$transaction([
      prisma.user.findUnique(where).posts({ orderBy: { id: 'asc' } }),
      prisma.post.findUnique({ where: { id: s.posts[0]!.id } }).author().profile(),
    ])
    const [plainPosts, plainProfile] = await ctx.db.prisma.$transaction([
      ctx.db.prisma.user.findUnique(where).posts({ orderBy: { id: 'asc' } }),
      ctx.db.prisma.post.findUnique({ where: { id: s.posts[0]!.id } }).author().profile(),
    ])
    expect(text([posts, profile])).toBe(text([plainPosts, plainProfile]))
    const inside = await prisma.$transaction(async (tx) => {
      await tx.post.create({ data: { title: 'in tx', authorId: s.ann.id } })
      return tx.user.findUnique(where).posts({ orderBy: { id: 'asc' } })
    })
    expect(inside?.map((p) => p.title)).toContain('in tx')
  })

  it('withCacheInfo() on a relation call: the relation’s answer, and how its root read was answered', async () => {
    const read = () => prisma.user.findUnique({ where: { id: s.ann.id } }).posts({ orderBy: { id: 'asc' } })
    const expected = text(await ctx.db.prisma.user.findUnique({ where: { id: s.ann.id } }).posts({ orderBy: { id: 'asc' } }))
    const first = await read().withCacheInfo()
    expect(text(first.data)).toBe(expected)
    expect(first.info.cacheStatus).toBe('miss')
    await untilHit(read)
    const hit = await read().withCacheInfo()
    expect(text(hit.data)).toBe(expected)
    expect(hit.info.cacheStatus).toBe(tier.name === 'L2 only' ? 'l2' : 'l1')
  })

  it('writes keep Prisma’s own fluent API, and invalidate the cached relation reads', async () => {
    const read = (c: Cached) => c.user.findUnique({ where: { id: s.ann.id } }).posts({ orderBy: { id: 'asc' } })
    await same(read)
    const updated = await prisma.user.update({ where: { id: s.ann.id }, data: { posts: { create: { title: 'via update' } } } }).posts({ select: { title: true }, orderBy: { id: 'asc' } })
    expect(updated.map((p) => p.title)).toContain('via update')
    expect(text(await read(prisma))).toBe(text(await read(plain())))
  })

  it('relation calls of one tick (batched like any findUnique) each get their own answer', async () => {
    const reads = (c: Cached) =>
      Promise.all([
        c.user.findUnique({ where: { id: s.ann.id } }).posts({ orderBy: { id: 'asc' } }),
        c.user.findUnique({ where: { id: s.bob.id } }).posts({ orderBy: { id: 'asc' } }),
        c.user.findUnique({ where: { id: s.ann.id } }).profile(),
        c.user.findUnique({ where: { id: s.bob.id } }).profile(),
        c.user.findUnique({ where: { id: 999_999 } }).posts(),
      ])
    const expected = text(await reads(plain()))
    expect(text(await reads(prisma))).toBe(expected)
    expect(prisma.$cache.metrics().models.User!.batches).toBeGreaterThan(0) // they were batched
    expect(text(await reads(prisma))).toBe(expected)
  })

  it('offers relation methods where Prisma does and nowhere else', () => {
    const where = { where: { id: s.ann.id } }
    for (const c of [plain(), prisma]) {
      expect(typeof c.user.findUnique(where).posts).toBe('function')
      expect(typeof c.user.findFirstOrThrow().profile).toBe('function')
      expect((c.user.findMany() as unknown as Record<string, unknown>).posts).toBeUndefined()
      expect((c.user.count() as unknown as Record<string, unknown>).posts).toBeUndefined()
      expect((c.post.findUnique({ where: { id: 1 } }) as unknown as Record<string, unknown>).posts).toBeUndefined()
    }
  })
})

it('leaves out, and names, relations called like a member of the promise (they would shadow it)', () => {
  const relations = new Map([['then', 'Other'], ['info', 'Other'], ['args', 'Other']])
  const schema = { models: new Map([['Car', { name: 'Car', relations }]]) } as unknown as SchemaFacts
  expect(enableFluent({}, schema)).toEqual(['Car.then', 'Car.info', 'Car.args'])
})
