import { beforeEach, describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { withCache } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'

const ctx = useDatabase()

async function seed() {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  const bob = await db.user.create({ data: { email: 'bob@example.com', name: 'Bob' } })
  for (let i = 0; i < 3; i++) {
    await db.post.create({ data: { title: `post ${i}`, published: i % 2 === 0, authorId: ann.id } })
  }
  ctx.db.resetQueries()
  return { ann, bob }
}

describe('cache-aside reads through the L1 tier', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('serves a repeated read from cache, deep-equal to the database answer', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    const args = { where: { id: ann.id }, include: { posts: { orderBy: { id: 'asc' as const } } } }
    const first = await prisma.user.findUnique(args)
    const queriesAfterMiss = ctx.db.queries()
    const second = await prisma.user.findUnique(args)
    expect(ctx.db.queries()).toBe(queriesAfterMiss)
    expect(second).toEqual(await ctx.db.prisma.user.findUnique(args))
    expect(second).toEqual(first)
    expect(second!.createdAt).toBeInstanceOf(Date)
    expect(prisma.$cache.metrics().models.User).toMatchObject({ hitsL1: 1, misses: 1 })
  })

  it('caches findFirst, findMany and count, each under its own key', async () => {
    await seed()
    const prisma = cachedClient(ctx.db.prisma)
    const reads = async () => [
      await prisma.post.findFirst({ where: { published: true }, orderBy: { id: 'desc' } }),
      await prisma.post.findMany({ where: { published: true }, orderBy: { id: 'asc' } }),
      await prisma.post.count({ where: { published: true } }),
      await prisma.post.count(),
    ]
    const cold = await reads()
    const queries = ctx.db.queries()
    const warm = await reads()
    expect(ctx.db.queries()).toBe(queries)
    expect(warm).toEqual(cold)
    expect(warm[2]).toBe(2)
    expect(warm[3]).toBe(3)
    expect(prisma.$cache.metrics().models.Post).toMatchObject({ hitsL1: 4, misses: 4 })
  })

  it('returns the new data after a write to the model', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe('Ann')
    expect(await prisma.post.count()).toBe(3)
    await prisma.user.update({ where: { id: ann.id }, data: { name: 'Ann B.' } })
    await prisma.post.create({ data: { title: 'new', authorId: ann.id } })
    expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe('Ann B.')
    expect(await prisma.post.count()).toBe(4)
    await prisma.post.deleteMany({ where: { title: 'new' } })
    expect(await prisma.post.count()).toBe(3)
  })

  it('invalidates reads that include a related model when that model is written', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    const args = { where: { id: ann.id }, include: { posts: true } }
    expect((await prisma.user.findUnique(args))!.posts).toHaveLength(3)
    await prisma.post.create({ data: { title: 'another', authorId: ann.id } })
    expect((await prisma.user.findUnique(args))!.posts).toHaveLength(4)
  })

  it('never touches the cache for a disabled model', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma, { models: { User: false } })
    await prisma.user.findUnique({ where: { id: ann.id } })
    await prisma.user.findUnique({ where: { id: ann.id } })
    await prisma.user.findMany()
    expect(ctx.db.queries()).toBe(3)
    expect(prisma.$cache.metrics().models.User).toMatchObject({ hitsL1: 0, misses: 0, bypasses: 3 })
  })

  it('never touches the cache for cacheStrategy: false, and strips it before Prisma sees it', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    await prisma.user.findUnique({ where: { id: ann.id } }) // fills the entry
    ctx.db.resetQueries()
    const bypassed = await prisma.user.findUnique({ where: { id: ann.id }, cacheStrategy: false })
    expect(bypassed).toEqual(ann)
    expect(ctx.db.queries()).toBe(1)
    expect(prisma.$cache.metrics().models.User).toMatchObject({ hitsL1: 0, bypasses: 1 })
  })

  it('caches only the operations a model policy names', async () => {
    await seed()
    const prisma = cachedClient(ctx.db.prisma, { models: { Post: { operations: ['count'] } } })
    await prisma.post.count()
    await prisma.post.count()
    await prisma.post.findMany()
    await prisma.post.findMany()
    expect(ctx.db.queries()).toBe(3)
  })

  it('keys canonically: argument order does not matter, every argument that changes the result does', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    await prisma.post.findMany({ where: { authorId: ann.id, published: true }, orderBy: { id: 'asc' } })
    await prisma.post.findMany({ orderBy: { id: 'asc' }, where: { published: true, authorId: ann.id } })
    expect(ctx.db.queries()).toBe(1)
    const variants = await Promise.all([
      prisma.post.findMany({ where: { authorId: ann.id, published: false }, orderBy: { id: 'asc' } }),
      prisma.post.findMany({ where: { authorId: ann.id, published: true }, orderBy: { id: 'desc' } }),
      prisma.post.findMany({ where: { authorId: ann.id, published: true }, orderBy: { id: 'asc' }, take: 1 }),
      prisma.post.findMany({ where: { authorId: ann.id, published: true }, orderBy: { id: 'asc' }, skip: 1 }),
      prisma.post.findMany({ where: { authorId: ann.id, published: true }, orderBy: { id: 'asc' }, select: { id: true } }),
    ])
    expect(ctx.db.queries()).toBe(6)
    expect(variants.map((v) => v.length)).toEqual([1, 2, 1, 1, 2])
    expect(variants[4]![0]).toEqual({ id: variants[1]![1]!.id })
  })

  it('hands every caller a fresh object: mutating a result never changes the next one', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    const first = (await prisma.user.findUnique({ where: { id: ann.id }, include: { posts: true } }))!
    first.name = 'mutated'
    first.createdAt.setFullYear(1999)
    first.posts.pop()
    const second = (await prisma.user.findUnique({ where: { id: ann.id }, include: { posts: true } }))!
    second.posts[0]!.title = 'mutated too'
    const third = (await prisma.user.findUnique({ where: { id: ann.id }, include: { posts: true } }))!
    expect(third.name).toBe('Ann')
    expect(third.createdAt).toEqual(ann.createdAt)
    expect(third.posts).toHaveLength(3)
    expect(third.posts[0]!.title).toBe('post 0')
  })

  it('expires entries after their ttl, from the policy or from cacheStrategy', async () => {
    const { ann } = await seed()
    let now = 1_000_000
    const prisma = cachedClient(ctx.db.prisma, { defaults: { ttl: 10 }, now: () => now })
    await prisma.user.findUnique({ where: { id: ann.id } })
    await prisma.user.findMany({ cacheStrategy: { ttl: 100 } })
    now += 9_999
    await prisma.user.findUnique({ where: { id: ann.id } })
    expect(ctx.db.queries()).toBe(2)
    now += 2
    await prisma.user.findUnique({ where: { id: ann.id } })
    await prisma.user.findMany({ cacheStrategy: { ttl: 100 } })
    expect(ctx.db.queries()).toBe(3)
  })

  it('drops entries by tag and by model on request', async () => {
    await seed()
    const prisma = cachedClient(ctx.db.prisma)
    await prisma.post.findMany({ where: { published: true }, cacheStrategy: { tags: ['feed'] } })
    await prisma.user.findMany()
    await prisma.$cache.invalidate({ tags: ['feed'] })
    await prisma.post.findMany({ where: { published: true }, cacheStrategy: { tags: ['feed'] } })
    await prisma.user.findMany()
    expect(ctx.db.queries()).toBe(3)
    await prisma.$cache.invalidate({ models: ['User'] })
    await prisma.user.findMany()
    expect(ctx.db.queries()).toBe(4)
    await prisma.$cache.invalidateAll()
    await prisma.post.findMany({ where: { published: true }, cacheStrategy: { tags: ['feed'] } })
    expect(ctx.db.queries()).toBe(5)
    await expect(prisma.$cache.invalidate({ models: ['Nope'] })).rejects.toThrow(/has no model 'Nope'/)
  })

  it('runs a read with a malformed cacheStrategy uncached instead of failing it', async () => {
    const { ann } = await seed()
    const warnings: object[] = []
    const logger = { info() {}, error() {}, warn: (o: object) => void warnings.push(o) }
    const prisma = cachedClient(ctx.db.prisma, { logger })
    const user = await prisma.user.findUnique({ where: { id: ann.id }, cacheStrategy: { ttl: -5 } })
    expect(user).toEqual(ann)
    expect(warnings).toHaveLength(1)
    expect(prisma.$cache.metrics().models.User!.bypasses).toBe(1)
  })

  it('makes the OrThrow variants throw the same Prisma error from a cached null', async () => {
    await seed()
    const prisma = cachedClient(ctx.db.prisma)
    expect(await prisma.user.findUnique({ where: { id: 999 } })).toBeNull()
    const uncached = await ctx.db.prisma.user.findUniqueOrThrow({ where: { id: 999 } }).catch((e: unknown) => e)
    const cached = await prisma.user.findUniqueOrThrow({ where: { id: 999 } }).catch((e: unknown) => e)
    expect(uncached).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    expect(cached).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    expect((cached as Prisma.PrismaClientKnownRequestError).code).toBe((uncached as Prisma.PrismaClientKnownRequestError).code)
    await expect(prisma.post.findFirstOrThrow({ where: { title: 'none' } })).rejects.toThrow(Prisma.PrismaClientKnownRequestError)
  })

  it('is lazy like a Prisma promise: nothing runs until awaited', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    const pending = prisma.user.findUnique({ where: { id: ann.id } })
    await new Promise((r) => setTimeout(r, 20))
    expect(ctx.db.queries()).toBe(0)
    expect((await pending)!.id).toBe(ann.id)
    expect(ctx.db.queries()).toBe(1)
  })
})

describe('reads racing writes', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('does not keep a result read before a write that committed while it was being stored', async () => {
    const { ann } = await seed()
    // The read's query returns 'Ann', then waits on the gate; the write commits meanwhile.
    let queried!: () => void
    const readHasQueried = new Promise<void>((r) => (queried = r))
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const delayed = ctx.db.prisma.$extends({
      query: {
        user: {
          // a findUnique may reach the database as a batch's findMany
          async $allOperations({ operation, args, query }) {
            const row = await query(args)
            if (!operation.startsWith('find')) return row
            queried()
            await gate
            return row
          },
        },
      },
    })
    const prisma = delayed.$extends(withCache())
    const staleRead = prisma.user.findUnique({ where: { id: ann.id } }).then((u) => u)
    await readHasQueried
    await prisma.user.update({ where: { id: ann.id }, data: { name: 'Ann 2' } })
    release()
    expect((await staleRead)!.name).toBe('Ann') // it started before the write: old data is right
    const after = await prisma.user.findUnique({ where: { id: ann.id } })
    expect(after!.name).toBe('Ann 2')
  })
})

describe('transactions', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('serves no cached value inside an interactive transaction, and caches nothing it read', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    await prisma.user.findUnique({ where: { id: ann.id } })
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: ann.id }, data: { name: 'uncommitted' } })
        const inside = await tx.user.findUnique({ where: { id: ann.id } })
        expect(inside!.name).toBe('uncommitted')
        throw new Error('roll back')
      }),
    ).rejects.toThrow('roll back')
    expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe('Ann')
  })

  it('makes committed writes visible to cached reads', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe('Ann')
    await prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: ann.id }, data: { name: 'committed' } })
      // a read from outside the transaction, before commit, sees and may cache the old row (on
      // PostgreSQL and MariaDB; SQLite's one connection shows the uncommitted one, as uncached)
      const plain = (await ctx.db.prisma.user.findUnique({ where: { id: ann.id } }))!.name
      expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe(plain)
    })
    expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe('committed')
  })

  it('runs cached reads uncached inside an array $transaction, without hanging', async () => {
    const { ann } = await seed()
    const prisma = cachedClient(ctx.db.prisma)
    await prisma.user.findUnique({ where: { id: ann.id } })
    const [updated, read, count] = await prisma.$transaction([
      prisma.user.update({ where: { id: ann.id }, data: { name: 'in batch' } }),
      prisma.user.findUnique({ where: { id: ann.id }, cacheStrategy: { ttl: 5 } }),
      prisma.post.count(),
    ])
    expect(updated.name).toBe('in batch')
    expect(read!.name).toBe('in batch')
    expect(count).toBe(3)
    expect((await prisma.user.findUnique({ where: { id: ann.id } }))!.name).toBe('in batch')
  })
})
