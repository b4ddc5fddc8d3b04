import type { Redis } from 'ioredis'
import { beforeEach, describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { provider } from '../support/provider.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
const namespace = () => `${redisCtx.namespace}.${run++}`

async function seed() {
  const db = ctx.db.prisma
  await db.user.createMany({ data: Array.from({ length: 10 }, (_, i) => ({ email: `u${i}@x.dev`, name: `User ${i}` })) })
  await db.post.createMany({
    data: Array.from({ length: 100 }, (_, i) => ({ title: `Post ${i}`, published: i % 2 === 0, authorId: i % 7 === 6 ? null : (i % 10) + 1 })),
  })
  await db.comment.createMany({ data: Array.from({ length: 150 }, (_, i) => ({ body: `c${i}`, postId: (i % 80) + 1, authorId: (i % 10) + 1 })) })
  await db.sample.createMany({
    data: ['a', 'b'].flatMap((tenant) =>
      ['x', 'y'].map((code) => ({ tenant, code, at: new Date(0), big: 1n, price: 1, bytes: new Uint8Array([1]), status: 'DRAFT' as const })),
    ),
  })
  ctx.db.resetQueries()
}

/** Counts round trips to Redis: each pipeline, and each command sent outside one. */
function countRoundTrips(redis: Redis) {
  let trips = 0
  const target = redis as unknown as { sendCommand(c: unknown, s?: unknown): unknown; pipeline(...a: unknown[]): unknown }
  const send = target.sendCommand.bind(redis)
  const pipeline = target.pipeline.bind(redis)
  target.sendCommand = (command, stream) => {
    if (stream === undefined) trips++
    return send(command, stream)
  }
  target.pipeline = (...a) => {
    trips++
    return pipeline(...a)
  }
  return {
    trips: () => trips,
    restore: () => {
      target.sendCommand = send
      target.pipeline = pipeline
    },
  }
}

describe('batching', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    await seed()
  })

  it('answers 100 concurrent findUnique with one database query, each caller its own row', async () => {
    const prisma = cachedClient(ctx.db.prisma)
    const ids = Array.from({ length: 100 }, (_, i) => i + 1)
    const posts = await Promise.all(ids.map((id) => prisma.post.findUnique({ where: { id } })))
    expect(ctx.db.queries()).toBe(1)
    expect(posts.map((p) => p!.id)).toEqual(ids)
    expect(posts).toEqual(await Promise.all(ids.map((id) => ctx.db.prisma.post.findUnique({ where: { id } }))))
    expect(prisma.$cache.metrics().models.Post).toMatchObject({ batches: 1, misses: 100 })
  })

  it('answers a warm batch from L2 (L1 off) in one Redis round trip', async () => {
    const ns = namespace()
    const ids = Array.from({ length: 100 }, (_, i) => i + 1)
    const filler = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    await Promise.all(ids.map((id) => filler.post.findUnique({ where: { id } })))
    const reader = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    await reader.post.findUnique({ where: { id: 1 } }) // registers the scripts, warms the connection
    ctx.db.resetQueries()
    const counter = countRoundTrips(redisCtx.redis as Redis)
    try {
      const posts = await Promise.all(ids.map((id) => reader.post.findUnique({ where: { id } })))
      expect(counter.trips()).toBe(1)
      expect(ctx.db.queries()).toBe(0)
      expect(posts.map((p) => p!.id)).toEqual(ids)
    } finally {
      counter.restore()
    }
  })

  it('kills the N+1 of a resolver: posts, then every author and every post\'s comments, in three queries cold and none warm', async () => {
    const prisma = cachedClient(ctx.db.prisma)
    const resolve = async () => {
      const posts = await prisma.post.findMany({ orderBy: { id: 'asc' } })
      // a GraphQL server resolves each post's fields concurrently
      return Promise.all(
        posts.map(async (post) => {
          const [author, comments] = await Promise.all([
            post.authorId === null ? null : prisma.user.findUnique({ where: { id: post.authorId } }),
            prisma.comment.findMany({ where: { postId: post.id }, orderBy: { id: 'desc' } }),
          ])
          return { post, author, comments }
        }),
      )
    }
    const cold = await resolve()
    const coldQueries = ctx.db.queries()
    expect(coldQueries).toBeLessThanOrEqual(3)
    const warm = await resolve()
    expect(ctx.db.queries()).toBe(coldQueries)
    expect(warm).toEqual(cold)
    // every piece equals what unbatched Prisma returns for it
    for (const { post, author, comments } of cold) {
      expect(author).toEqual(post.authorId === null ? null : await ctx.db.prisma.user.findUnique({ where: { id: post.authorId } }))
      expect(comments).toEqual(await ctx.db.prisma.comment.findMany({ where: { postId: post.id }, orderBy: { id: 'desc' } }))
    }
  })

  it('returns exactly what unbatched Prisma returns: missing rows, duplicates, projections never merged', async () => {
    const prisma = cachedClient(ctx.db.prisma)
    const calls = [
      { where: { id: 1 } },
      { where: { id: 1 } },
      { where: { id: 9999 } },
      { where: { id: 2 }, select: { title: true } },
      { where: { id: 3 }, select: { title: true } },
      { where: { id: 2 }, include: { author: true } },
      { where: { id: 4 }, omit: { id: true, title: true } },
    ] as const
    const batched = await Promise.all(calls.map((args) => prisma.post.findUnique(args as Prisma.PostFindUniqueArgs)))
    const plain = await Promise.all(calls.map((args) => ctx.db.prisma.post.findUnique(args as Prisma.PostFindUniqueArgs)))
    expect(batched).toEqual(plain)
    expect(batched[3]).toEqual({ title: 'Post 1' }) // the routing key was added, then removed
    expect(batched[6]).not.toHaveProperty('id')
    expect(batched[0]).not.toBe(batched[1]) // duplicates get their own copies
  })

  it('routes compound unique keys', async () => {
    const prisma = cachedClient(ctx.db.prisma)
    const keys = [
      { tenant: 'a', code: 'x' },
      { tenant: 'b', code: 'y' },
      { tenant: 'a', code: 'nope' },
    ]
    const rows = await Promise.all(keys.map((k) => prisma.sample.findUnique({ where: { tenant_code: k }, select: { id: true, code: true } })))
    // MySQL compares strings case-insensitively: such keys are not batched, nor left to Prisma's own batching
    expect(ctx.db.queries()).toBe(provider === 'mysql' ? keys.length : 1)
    expect(rows).toEqual(await Promise.all(keys.map((k) => ctx.db.prisma.sample.findUnique({ where: { tenant_code: k }, select: { id: true, code: true } }))))
    expect(rows[2]).toBeNull()
  })

  it('fails only the member whose arguments are wrong, and gives OrThrow its own error', async () => {
    const prisma = cachedClient(ctx.db.prisma)
    const results = await Promise.allSettled([
      prisma.post.findUnique({ where: { id: 1 } }),
      prisma.post.findUnique({ where: { id: 'two' as unknown as number } }),
      prisma.post.findUniqueOrThrow({ where: { id: 9999 } }),
      prisma.post.findUnique({ where: { id: 3 } }),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    expect((results[0] as PromiseFulfilledResult<{ id: number }>).value.id).toBe(1)
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(Prisma.PrismaClientValidationError)
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    expect((results[3] as PromiseFulfilledResult<{ id: number }>).value.id).toBe(3)
  })

  it('merges resolver-style findMany, keeping each group\'s order and removing the grouping field it added', async () => {
    const prisma = cachedClient(ctx.db.prisma)
    const args = (authorId: number) => ({ where: { authorId, published: true }, orderBy: { title: 'desc' as const }, select: { title: true } })
    const groups = await Promise.all([1, 2, 3, 99].map((id) => prisma.post.findMany(args(id))))
    expect(ctx.db.queries()).toBe(1)
    expect(groups).toEqual(await Promise.all([1, 2, 3, 99].map((id) => ctx.db.prisma.post.findMany(args(id)))))
    expect(groups[0]![0]).toEqual({ title: expect.any(String) })
    expect(groups[3]).toEqual([])
  })

  it('does not merge findMany where it would not be equivalent: take, skip, cursor, distinct', async () => {
    const prisma = cachedClient(ctx.db.prisma)
    await Promise.all([1, 2, 3].map((authorId) => prisma.post.findMany({ where: { authorId }, take: 2, orderBy: { id: 'asc' } })))
    expect(ctx.db.queries()).toBe(3)
    const taken = await prisma.post.findMany({ where: { authorId: 1 }, take: 2, orderBy: { id: 'asc' } })
    expect(taken).toHaveLength(2)
  })

  it('respects cacheStrategy: false, disabled models and transactions', async () => {
    const prisma = cachedClient(ctx.db.prisma, { models: { User: false } })
    await Promise.all([1, 2, 3].map((id) => prisma.post.findUnique({ where: { id }, cacheStrategy: false })))
    await Promise.all([1, 2, 3].map((id) => prisma.post.findUnique({ where: { id }, cacheStrategy: false })))
    expect(prisma.$cache.metrics().models.Post).toMatchObject({ bypasses: 6, batches: 0, hitsL1: 0 })
    await Promise.all([1, 2].map((id) => prisma.user.findUnique({ where: { id } })))
    expect(prisma.$cache.metrics().models.User).toMatchObject({ bypasses: 2, batches: 0 })
    await prisma.$transaction(async (tx) => {
      await tx.post.update({ where: { id: 1 }, data: { title: 'in tx' } })
      const rows = await Promise.all([1, 2].map((id) => tx.post.findUnique({ where: { id } })))
      expect(rows[0]!.title).toBe('in tx')
    })
    expect(prisma.$cache.metrics().models.Post!.batches).toBe(0)
    expect((await prisma.post.findUnique({ where: { id: 1 } }))!.title).toBe('in tx')
  })

  it('never keeps a batch result that a write overlapped', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let queried!: () => void
    const started = new Promise<void>((r) => (queried = r))
    // an $allOperations hook: one that names findMany would keep findUniques out of batches (schema/lower-hooks.ts)
    const delayed = ctx.db.prisma.$extends({
      query: {
        post: {
          async $allOperations({ operation, args, query }) {
            const rows = await query(args)
            if (operation !== 'findMany') return rows
            queried()
            await gate
            return rows
          },
        },
      },
    })
    const prisma = cachedClient(delayed as never)
    const reads = Promise.all([1, 2].map((id) => prisma.post.findUnique({ where: { id } })))
    await started
    await prisma.post.update({ where: { id: 1 }, data: { title: 'changed' } })
    release()
    expect((await reads)[0]!.title).toBe('Post 0')
    expect((await prisma.post.findUnique({ where: { id: 1 } }))!.title).toBe('changed')
  })

  it('offers a request-scoped loader: one query per model per tick, each distinct load answered once', async () => {
    const prisma = cachedClient(ctx.db.prisma)
    const loader = prisma.$cache.loader()
    const [u1, p1, u2, missing] = await Promise.all([
      loader.load('User', { id: 1 }),
      loader.load('Post', { id: 5 }, { select: { title: true } }),
      loader.load('User', { email: 'u1@x.dev' }),
      loader.load('User', { id: 999 }),
    ])
    expect(ctx.db.queries()).toBe(3) // users by id, users by email, posts
    expect(u1).toEqual(await ctx.db.prisma.user.findUnique({ where: { id: 1 } }))
    expect(u2).toEqual(await ctx.db.prisma.user.findUnique({ where: { email: 'u1@x.dev' } }))
    expect(p1).toEqual({ title: 'Post 4' })
    expect(missing).toBeNull()
    ctx.db.resetQueries()
    const again = await loader.load<{ id: number; name: string }>('User', { id: 1 })
    expect(ctx.db.queries()).toBe(0)
    expect(again).toEqual(u1)
    expect(again).not.toBe(u1)
    await expect(loader.load('Nope', { id: 1 })).rejects.toThrow(/has no model 'Nope'/)
  })
})
