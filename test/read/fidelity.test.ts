// Drop-in fidelity (issue 12): the same call on a plain client and on the cached client (L1+L2
// and L2 only, real PostgreSQL and Redis) gives the same answer, compared as JSON text so that
// field order counts too.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { freshNamespaces, useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()

const freshNamespace = freshNamespaces(redisCtx)

const tiers = [
  { name: 'L2 only', options: (): CacheOptions => ({ redis: redisCtx.redis, l1: false as const, namespace: freshNamespace() }) },
  { name: 'L1+L2', options: (): CacheOptions => ({ redis: redisCtx.redis, namespace: freshNamespace() }) },
  {
    name: 'L1+L2, model-wide invalidation',
    options: (): CacheOptions => ({ redis: redisCtx.redis, namespace: freshNamespace(), invalidation: 'model' as const }),
  },
]

type Cached = ReturnType<typeof cachedClient>

const text = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))

async function seed() {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann', profile: { create: { bio: 'hi' } } } })
  const bob = await db.user.create({ data: { email: 'bob@example.com', name: 'Bob' } })
  const tag = await db.tag.create({ data: { name: 't1' } })
  for (let i = 0; i < 3; i++) {
    const post = await db.post.create({
      data: { title: `post ${i}`, published: i % 2 === 0, authorId: ann.id, tags: { connect: { id: tag.id } } },
    })
    await db.comment.create({ data: { body: `c${i}`, postId: post.id, authorId: bob.id } })
  }
  return { ann, bob, tag }
}

describe.each(tiers)('$name', (tier) => {
  let prisma: Cached
  let s: Awaited<ReturnType<typeof seed>>

  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    s = await seed()
    prisma = cachedClient(ctx.db.prisma, tier.options())
    await prisma.$cache.ready()
  })

  afterEach(async () => {
    await prisma.$cache.close()
  })

  /** Runs `call` on the plain client and on the cached one and expects the same JSON text. */
  async function same(call: (client: Cached) => PromiseLike<unknown>) {
    const expected = text(await call(ctx.db.prisma as unknown as Cached))
    expect(text(await call(prisma))).toBe(expected)
    // an entry reaches Redis after the answer: let it land, so the next call can hit it
    await new Promise((resolve) => setTimeout(resolve, 30))
  }

  describe('field order of a hit is the order of this caller’s select', () => {
    const byId = { id: 'asc' } as const
    it('top-level select, findMany and findUnique', async () => {
      await same((c) => c.user.findMany({ select: { id: true, email: true, name: true }, orderBy: byId }))
      await same((c) => c.user.findMany({ select: { name: true, id: true, email: true }, orderBy: byId }))
      await same((c) => c.user.findMany({ select: { email: true, name: true, id: true }, orderBy: byId }))
      await same((c) => c.user.findUnique({ where: { id: s.ann.id }, select: { name: true, email: true } }))
      await same((c) => c.user.findUnique({ where: { id: s.ann.id }, select: { email: true, name: true } }))
      expect(prisma.$cache.metrics().models.User!.misses).toBe(2)
    })

    it('nested select and include, relation order, _count select', async () => {
      const a = {
        where: { id: s.ann.id },
        select: { posts: { select: { title: true, id: true }, orderBy: byId }, profile: { select: { bio: true, id: true } }, id: true },
      }
      const b = {
        where: { id: s.ann.id },
        select: { id: true, profile: { select: { id: true, bio: true } }, posts: { orderBy: byId, select: { id: true, title: true } } },
      }
      await same((c) => c.user.findMany(a))
      await same((c) => c.user.findMany(b))
      await same((c) => c.user.findMany(a))
      await same((c) => c.user.findMany({ where: { id: s.ann.id }, include: { posts: { orderBy: byId }, profile: true } }))
      await same((c) => c.user.findMany({ where: { id: s.ann.id }, include: { profile: true, posts: { orderBy: byId } } }))
      await same((c) => c.user.findMany({ orderBy: byId, select: { _count: { select: { posts: true, comments: true } }, id: true } }))
      await same((c) => c.user.findMany({ orderBy: byId, select: { id: true, _count: { select: { comments: true, posts: true } } } }))
      await same((c) => c.post.findMany({ orderBy: byId, include: { author: { select: { name: true, id: true } } } }))
      await same((c) => c.post.findMany({ orderBy: byId, include: { author: { select: { id: true, name: true } } } }))
      const { User, Post } = prisma.$cache.metrics().models
      // L2 only answers only some of these from Redis today (reads with relations often miss there)
      if (tier.name !== 'L2 only') expect([User!.hitsL1, Post!.hitsL1]).toEqual([4, 1])
      else expect(User!.hitsL2 + Post!.hitsL2).toBeGreaterThan(0)
    })
  })

  describe('_count: true depends on every relation it counts', () => {
    const byId = { id: 'asc' } as const
    const hits = () => {
      const m = prisma.$cache.metrics().models
      return (['User', 'Post'] as const).reduce((n, name) => n + (m[name]?.hitsL1 ?? 0) + (m[name]?.hitsL2 ?? 0), 0)
    }
    const reads = {
      'include _count': (c: Cached) => c.user.findMany({ orderBy: byId, include: { _count: true } }),
      'select _count': (c: Cached) => c.user.findMany({ orderBy: byId, select: { id: true, _count: true } }),
      'findUnique select _count': (c: Cached) => c.user.findUnique({ where: { id: s.ann.id }, select: { _count: true } }),
      'nested _count': (c: Cached) =>
        c.user.findMany({ orderBy: byId, include: { posts: { orderBy: byId, include: { _count: true } } } }),
    }
    const writes = {
      'a comment': () => prisma.comment.create({ data: { body: 'new', postId: 1, authorId: s.ann.id } }),
      'a post': () => prisma.post.create({ data: { title: 'new', authorId: s.ann.id } }),
      'a tag link': () => prisma.tag.create({ data: { name: 't2', posts: { connect: { id: 1 } } } }),
    }
    for (const [readName, read] of Object.entries(reads)) {
      for (const [writeName, write] of Object.entries(writes)) {
        it(`${readName}, after ${writeName} is created`, async () => {
          await same(read)
          await same(read)
          const before = text(await read(ctx.db.prisma as unknown as Cached))
          await write()
          const after = text(await read(ctx.db.prisma as unknown as Cached))
          await same(read)
          // a user's _count counts posts and comments; tags are counted only under posts
          if (readName === 'nested _count' || writeName !== 'a tag link') expect(after).not.toBe(before)
        })
      }
      it(`${readName}, a write elsewhere leaves it cached`, async () => {
        await same(read)
        await same(read)
        const warm = hits()
        await prisma.sample.deleteMany({ where: { id: -1 } })
        await prisma.profile.update({ where: { userId: s.ann.id }, data: { bio: 'changed' } })
        await same(read)
        expect(hits()).toBe(warm + 1)
      })
    }
  })

  it('a destructured read method works as on the plain client', async () => {
    const plain = ctx.db.prisma.user
    const cached = prisma.user
    const calls = (d: typeof cached) => {
      const { findMany, findUnique, findFirst, count } = d
      return [
        () => findMany({ orderBy: { id: 'asc' } }),
        () => findMany(),
        () => findUnique({ where: { id: s.ann.id } }),
        () => findFirst({ where: { name: 'Bob' } }),
        () => count(),
      ]
    }
    const expected = await Promise.all(calls(plain as unknown as typeof cached).map((call) => call()))
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(calls(cached).map((call) => call()))
      expect(answers.map(text)).toEqual(expected.map(text))
    }
    const { User } = prisma.$cache.metrics().models
    expect(User!.misses).toBe(5) // four findMany/findUnique/findFirst keys and the count
  })

  it('a read method destructured from a transaction client runs in the transaction', async () => {
    const seen = async (client: Cached) =>
      client.$transaction(async (tx) => {
        await tx.user.update({ where: { id: s.bob.id }, data: { name: 'Bob (in tx)' } })
        const { findUnique } = tx.user
        const row = await findUnique({ where: { id: s.bob.id } })
        await tx.user.update({ where: { id: s.bob.id }, data: { name: 'Bob' } })
        return row
      })
    expect(text(await seen(prisma))).toBe(text(await seen(ctx.db.prisma as unknown as Cached)))
    expect(((await seen(prisma)) as { name: string } | null)?.name).toBe('Bob (in tx)')
  })

  it('field order of aggregate, groupBy and count select hits', async () => {
    const calls: Array<(c: Cached) => PromiseLike<unknown>> = [
      (c) => c.post.aggregate({ _max: { id: true, title: true }, _count: { id: true, _all: true } }),
      (c) => c.post.aggregate({ _count: { _all: true, id: true }, _max: { title: true, id: true } }),
      (c) => c.post.groupBy({ by: ['authorId'], _count: { title: true, id: true }, _min: { id: true }, orderBy: { authorId: 'asc' } }),
      (c) => c.post.groupBy({ by: ['authorId'], _min: { id: true }, _count: { id: true, title: true }, orderBy: { authorId: 'asc' } }),
      (c) => c.post.count({ select: { _all: true, title: true } }),
      (c) => c.post.count({ select: { title: true, _all: true } }),
    ]
    for (const call of calls) await same(call)
    const { Post } = prisma.$cache.metrics().models
    if (tier.name !== 'L2 only') expect(Post!.hitsL1).toBe(3)
  })

  // (findUnique calls of one tick are left out: Prisma's own batching answers them all in the
  // order of the first one's select, on the plain client too)
  it('field order of reads of one tick (one flight for one key)', async () => {
    const both = (c: Cached) =>
      Promise.all([
        c.user.findFirst({ where: { id: s.ann.id }, select: { name: true, id: true } }),
        c.user.findFirst({ where: { id: s.ann.id }, select: { id: true, name: true } }),
        c.post.findMany({ select: { title: true, id: true }, orderBy: { id: 'asc' } }),
        c.post.findMany({ select: { id: true, title: true }, orderBy: { id: 'asc' } }),
      ])
    await same(both)
    await same(both)
  })
})
