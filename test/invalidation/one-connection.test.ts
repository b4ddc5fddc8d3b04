// A read from outside an open interactive transaction, compared with the plain client at the same
// moment and after the transaction ends. On PostgreSQL it sees committed rows only; on SQLite
// (adapter-better-sqlite3, one connection) it sees the transaction's uncommitted writes, cached
// or not, and the cache must not keep that answer past a rollback (src/invalidation/open-transactions.ts).
import { AsyncResource } from 'node:async_hooks'
import { beforeEach, describe, expect, it } from 'vitest'
import type { CacheOptions } from '../../src/index.js'
import { cachedClient, countingClient, resetTables, useDatabase } from '../support/db.js'
import { dropNamespace, useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()

let namespaceCount = 0
const tiers = [
  { name: 'L1', options: (): CacheOptions => ({}) },
  { name: 'L2 only', options: (): CacheOptions => ({ redis: redisCtx.redis, l1: false as const, namespace: `${redisCtx.namespace}-${namespaceCount++}` }) },
  { name: 'L1+L2', options: (): CacheOptions => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}-${namespaceCount++}` }) },
]

describe.each(tiers)('reads from outside an open transaction, $name', (tier) => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    await ctx.db.prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  })

  const titles = (rows: Array<{ title: string }>) => rows.map((p) => p.title)
  const posts = { orderBy: { id: 'asc' as const }, select: { title: true } }

  it('answer as the plain client does, and no rolled-back row stays cached', async () => {
    const options = tier.options()
    const prisma = cachedClient(ctx.db.prisma, options)
    const plain = ctx.db.prisma
    expect(titles(await prisma.post.findMany(posts))).toEqual([])
    // the transaction's callback marks its async context (reads there bypass the cache): these run outside it
    const outside = new AsyncResource('outside-the-transaction')
    const during: Array<{ cached: string[]; plain: string[] }> = []
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.post.create({ data: { title: 'rolled back' } })
        // twice: a first miss, then what the cache kept of it
        for (let i = 0; i < 2; i++) {
          const cached = await outside.runInAsyncScope(() => prisma.post.findMany(posts).then(titles))
          during.push({ cached, plain: titles(await plain.post.findMany(posts)) })
        }
        throw new Error('roll back')
      }),
    ).rejects.toThrow('roll back')
    for (const moment of during) expect(moment.cached).toEqual(moment.plain)
    expect(titles(await plain.post.findMany(posts))).toEqual([])
    expect(titles(await prisma.post.findMany(posts))).toEqual([])
    // once no transaction is open, answers are kept again: the next read is a hit
    const queries = ctx.db.queries()
    expect(titles(await prisma.post.findMany(posts))).toEqual([])
    expect(ctx.db.queries()).toBe(queries)
    await prisma.$cache.close()
    if (options.namespace !== undefined) await dropNamespace(redisCtx.redis, options.namespace)
  })

  it('answer the committed rows after a commit', async () => {
    const options = tier.options()
    const prisma = cachedClient(ctx.db.prisma, options)
    const plain = ctx.db.prisma
    expect(titles(await prisma.post.findMany(posts))).toEqual([])
    const outside = new AsyncResource('outside-the-transaction')
    await prisma.$transaction(async (tx) => {
      await tx.post.create({ data: { title: 'committed' } })
      const cached = await outside.runInAsyncScope(() => prisma.post.findMany(posts).then(titles))
      expect(cached).toEqual(titles(await plain.post.findMany(posts)))
    })
    expect(titles(await prisma.post.findMany(posts))).toEqual(['committed'])
    await prisma.$cache.close()
    if (options.namespace !== undefined) await dropNamespace(redisCtx.redis, options.namespace)
  })
})

describe('a write from outside an open transaction, seen by another process (L2 only)', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('is in its answers once the transaction commits', async () => {
    const options: CacheOptions = { redis: redisCtx.redis, l1: false, namespace: `${redisCtx.namespace}-${namespaceCount++}` }
    const prisma = cachedClient(ctx.db.prisma, options)
    // another process: its own client, so its own connection (on SQLite, it sees committed rows only)
    const other = countingClient(ctx.url)
    ctx.clients.push(other)
    const elsewhere = cachedClient(other.prisma, options)
    const posts = { orderBy: { id: 'asc' as const }, select: { title: true } }
    const titles = (rows: Array<{ title: string }>) => rows.map((p) => p.title)
    const compare = async () => expect(titles(await elsewhere.post.findMany(posts))).toEqual(titles(await other.prisma.post.findMany(posts)))
    expect(titles(await elsewhere.post.findMany(posts))).toEqual([])
    const outside = new AsyncResource('outside-the-transaction')
    await prisma.$transaction(async (tx) => {
      await tx.tag.create({ data: { name: 'unrelated' } })
      // on SQLite's one connection this create runs inside the open transaction, and commits with it
      // (`.then` inside the scope: Prisma's promise runs where it is first awaited)
      await outside.runInAsyncScope(() => prisma.post.create({ data: { title: 'joined' } }).then((post) => post))
      // the other process reads (and may keep) the committed rows after the create's bumps
      await compare()
    })
    await compare()
    expect(titles(await other.prisma.post.findMany(posts))).toEqual(['joined'])
    await prisma.$cache.close()
    await elsewhere.$cache.close()
    await dropNamespace(redisCtx.redis, options.namespace!)
  })
})
