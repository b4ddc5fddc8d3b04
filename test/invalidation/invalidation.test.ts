// End to end: a cached read is never stale after a write, whatever shape the write takes (nested
// writes of every kind, referential actions, many-to-many from both sides, relation filters and
// _count, transactions, raw SQL). Every check follows one pattern: fill the cache, prove the next
// read is a hit, write through the cached client, then prove the read returns the database's new
// answer (read from the plain client), and that the answer did change.
import { AsyncResource } from 'node:async_hooks'
import { beforeEach, describe, expect, it } from 'vitest'
import type { CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { provider, rawSql } from '../support/provider.js'
import { freshNamespaces, useRedis } from '../support/redis.js'

const ctx = useDatabase()

/**
 * SQLite through adapter-better-sqlite3 is one connection: a read from outside an open
 * interactive transaction runs inside it and sees its uncommitted writes (the plain client too),
 * and a second transaction waits for the first to end.
 */
const oneConnection = provider === 'sqlite'
const redisCtx = useRedis()

const freshNamespace = freshNamespaces(redisCtx)

const tiers = [
  { name: 'L1', options: (): CacheOptions => ({}) },
  {
    name: 'L2 only',
    options: (): CacheOptions => ({ redis: redisCtx.redis, l1: false as const, namespace: freshNamespace() }),
  },
  { name: 'L1+L2', options: (): CacheOptions => ({ redis: redisCtx.redis, namespace: freshNamespace() }) },
]

type Cached = ReturnType<typeof cachedClient>
/** A read, run either through the cached client or, for the truth, through the plain one. */
type Read = (client: Cached) => PromiseLike<unknown>
type Reads = Record<string, Read>
type Values<R extends Reads> = { [K in keyof R]: Awaited<ReturnType<R[K]>> }

/**
 * The database's answer: the plain, counting client. It has the same model methods as the cached
 * one (the reads here pass no `cacheStrategy`), so it is typed as one to run the same `Read`s.
 */
function database(): Cached {
  return ctx.db.prisma as unknown as Cached
}

/** Reads each once through the cache (a miss that fills it), then proves the next read is a hit. */
async function fill<R extends Reads>(prisma: Cached, reads: R): Promise<Values<R>> {
  const values = {} as Record<string, unknown>
  for (const [name, read] of Object.entries(reads)) {
    values[name] = await read(prisma)
    expect(values[name], `${name}: first read`).toEqual(await read(database()))
    const queries = ctx.db.queries()
    expect(await read(prisma), `${name}: second read`).toEqual(values[name])
    expect(ctx.db.queries() - queries, `${name}: second read must be a cache hit`).toBe(0)
  }
  return values as Values<R>
}

/** Each read, through the cache, must give the database's current answer. */
async function expectCurrent<R extends Reads>(prisma: Cached, reads: R): Promise<Values<R>> {
  const values = {} as Record<string, unknown>
  for (const [name, read] of Object.entries(reads)) {
    values[name] = await read(prisma)
    expect(values[name], `${name}: cached read`).toEqual(await read(database()))
  }
  return values as Values<R>
}

/**
 * fill → assert hit → write → assert fresh. Each read's database answer must have changed (else the
 * check would pass with a stale cache), and the cached read must return the new answer.
 */
async function expectNeverStale<R extends Reads>(
  prisma: Cached,
  reads: R,
  write: () => PromiseLike<unknown>,
): Promise<{ before: Values<R>; after: Values<R> }> {
  const before = await fill(prisma, reads)
  await write()
  const after = {} as Record<string, unknown>
  for (const [name, read] of Object.entries(reads)) {
    const truth = await read(database())
    expect(truth, `${name}: the write must change the database's answer`).not.toEqual(before[name])
    after[name] = await read(prisma)
    expect(after[name], `${name}: cached read after the write`).toEqual(truth)
  }
  return { before, after: after as Values<R> }
}

/** Reads each through the cache and returns how many of them reached the database. */
async function misses(prisma: Cached, reads: Reads): Promise<number> {
  let missed = 0
  for (const read of Object.values(reads)) {
    const queries = ctx.db.queries()
    await read(prisma)
    if (ctx.db.queries() > queries) missed++
  }
  return missed
}

/** A promise and the function that resolves it, to hold a transaction open at a chosen point. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void
  const promise = new Promise<void>((resolve) => (fire = resolve))
  return { promise, fire }
}

/**
 * Users Ann (with a profile) and Bob (without); posts Hello (Ann, published, tags ts + orm), Draft
 * (Ann, unpublished, no tag), Notes (Bob, unpublished, tag sql); comments Nice (Bob on Hello),
 * Thanks (Ann on Hello), Hi (Ann on Notes). Tables are truncated with RESTART IDENTITY first.
 */
async function seed() {
  const db = ctx.db.prisma
  const ann = await db.user.create({
    data: { email: 'ann@example.com', name: 'Ann', profile: { create: { bio: 'Ann writes' } } },
  })
  const bob = await db.user.create({ data: { email: 'bob@example.com', name: 'Bob' } })
  const ts = await db.tag.create({ data: { name: 'ts' } })
  const orm = await db.tag.create({ data: { name: 'orm' } })
  const sql = await db.tag.create({ data: { name: 'sql' } })
  const hello = await db.post.create({
    data: { title: 'Hello', published: true, authorId: ann.id, tags: { connect: [{ id: ts.id }, { id: orm.id }] } },
  })
  const draft = await db.post.create({ data: { title: 'Draft', authorId: ann.id } })
  const notes = await db.post.create({ data: { title: 'Notes', authorId: bob.id, tags: { connect: { id: sql.id } } } })
  const nice = await db.comment.create({ data: { body: 'Nice', postId: hello.id, authorId: bob.id } })
  await db.comment.create({ data: { body: 'Thanks', postId: hello.id, authorId: ann.id } })
  await db.comment.create({ data: { body: 'Hi', postId: notes.id, authorId: ann.id } })
  ctx.db.resetQueries()
  return { ann: ann.id, bob: bob.id, ts: ts.id, orm: orm.id, sql: sql.id, hello: hello.id, draft: draft.id, notes: notes.id, nice: nice.id }
}
type Seed = Awaited<ReturnType<typeof seed>>

const byId = { id: 'asc' } as const

interface NestedWrite {
  name: string
  write: (prisma: Cached, s: Seed) => PromiseLike<unknown>
  /** Reads of a model other than the write's target, each changed by the write. */
  reads: (s: Seed) => Reads
}

const nestedWrites: NestedWrite[] = [
  {
    name: 'create under user.posts',
    write: (p, s) => p.user.update({ where: { id: s.bob }, data: { posts: { create: { title: 'New' } } } }),
    reads: (s) => ({
      'post.count': (c) => c.post.count(),
      "Bob's posts": (c) => c.post.findMany({ where: { authorId: s.bob }, orderBy: byId }),
    }),
  },
  {
    name: 'create two levels down (user.posts.update → comments.create)',
    write: (p, s) =>
      p.user.update({
        where: { id: s.ann },
        data: { posts: { update: { where: { id: s.hello }, data: { comments: { create: { body: 'Deep' } } } } } },
      }),
    reads: (s) => ({
      'comment.count': (c) => c.comment.count(),
      "Hello's comments": (c) => c.comment.findMany({ where: { postId: s.hello }, orderBy: byId }),
    }),
  },
  {
    name: 'create nested in a create (post → author → profile, comments, tags.connect)',
    write: (p, s) =>
      p.post.create({
        data: {
          title: 'Everything',
          author: { create: { email: 'cy@example.com', name: 'Cy', profile: { create: { bio: 'Cy writes' } } } },
          comments: { create: [{ body: 'First' }] },
          tags: { connect: { id: s.ts } },
        },
      }),
    reads: () => ({
      'user.count': (c) => c.user.count(),
      'profile.findMany': (c) => c.profile.findMany({ orderBy: byId }),
      'comment.count': (c) => c.comment.count(),
      'tags with posts': (c) => c.tag.findMany({ orderBy: byId, include: { posts: { orderBy: byId } } }),
    }),
  },
  {
    name: 'connect under user.posts (moves a post to another author)',
    write: (p, s) => p.user.update({ where: { id: s.bob }, data: { posts: { connect: { id: s.draft } } } }),
    reads: (s) => ({
      "Bob's posts": (c) => c.post.findMany({ where: { authorId: s.bob }, orderBy: byId }),
      "Ann's post count": (c) => c.post.count({ where: { authorId: s.ann } }),
    }),
  },
  {
    name: 'connect under post.author',
    write: (p, s) => p.post.update({ where: { id: s.draft }, data: { author: { connect: { id: s.bob } } } }),
    reads: (s) => ({
      'users with posts': (c) => c.user.findMany({ orderBy: byId, include: { posts: { orderBy: byId } } }),
      "Bob's _count": (c) => c.user.findUnique({ where: { id: s.bob }, include: { _count: { select: { posts: true } } } }),
    }),
  },
  {
    name: 'connectOrCreate under post.tags (one connected, one created)',
    write: (p, s) =>
      p.post.update({
        where: { id: s.draft },
        data: {
          tags: {
            connectOrCreate: [
              { where: { name: 'sql' }, create: { name: 'sql' } },
              { where: { name: 'new' }, create: { name: 'new' } },
            ],
          },
        },
      }),
    reads: () => ({
      'tag.count': (c) => c.tag.count(),
      'tags with posts': (c) => c.tag.findMany({ orderBy: byId, include: { posts: { orderBy: byId } } }),
    }),
  },
  {
    name: 'connectOrCreate under comment.post (creates the post)',
    write: (p, s) =>
      p.comment.create({
        data: { body: 'On a new post', post: { connectOrCreate: { where: { id: 999 }, create: { title: 'Made by a comment', authorId: s.bob } } } },
      }),
    reads: (s) => ({
      'post.count': (c) => c.post.count(),
      "Bob's posts": (c) => c.post.findMany({ where: { authorId: s.bob }, orderBy: byId }),
    }),
  },
  {
    name: 'set under user.posts (nulls the author of the posts left out)',
    write: (p, s) => p.user.update({ where: { id: s.ann }, data: { posts: { set: [{ id: s.hello }] } } }),
    reads: (s) => ({
      'posts without author': (c) => c.post.findMany({ where: { authorId: null }, orderBy: byId }),
      "Ann's post count": (c) => c.post.count({ where: { authorId: s.ann } }),
    }),
  },
  {
    name: 'set under post.tags',
    write: (p, s) => p.post.update({ where: { id: s.hello }, data: { tags: { set: [{ id: s.sql }] } } }),
    reads: () => ({
      'tags with posts': (c) => c.tag.findMany({ orderBy: byId, include: { posts: { orderBy: byId } } }),
    }),
  },
  {
    name: 'disconnect under post.author',
    write: (p, s) => p.post.update({ where: { id: s.draft }, data: { author: { disconnect: true } } }),
    reads: (s) => ({
      'Ann with posts': (c) => c.user.findUnique({ where: { id: s.ann }, include: { posts: { orderBy: byId } } }),
      "Ann's _count": (c) => c.user.findUnique({ where: { id: s.ann }, include: { _count: { select: { posts: true } } } }),
    }),
  },
  {
    name: 'disconnect under user.posts',
    write: (p, s) => p.user.update({ where: { id: s.ann }, data: { posts: { disconnect: [{ id: s.draft }] } } }),
    reads: () => ({
      'posts without author': (c) => c.post.findMany({ where: { authorId: null }, orderBy: byId }),
    }),
  },
  {
    name: 'update under user.posts',
    write: (p, s) =>
      p.user.update({
        where: { id: s.ann },
        data: { posts: { update: { where: { id: s.hello }, data: { title: 'Hello again' } } } },
      }),
    reads: (s) => ({
      'post.findUnique': (c) => c.post.findUnique({ where: { id: s.hello } }),
      'titles starting with Hello': (c) =>
        c.post.findMany({ where: { title: { startsWith: 'Hello' } }, select: { title: true }, orderBy: byId }),
    }),
  },
  {
    name: 'update under user.profile',
    write: (p, s) => p.user.update({ where: { id: s.ann }, data: { profile: { update: { bio: 'Ann edits' } } } }),
    reads: () => ({ 'profile.findMany': (c) => c.profile.findMany({ orderBy: byId }) }),
  },
  {
    name: 'update under comment.post (child updates its parent)',
    write: (p, s) => p.comment.update({ where: { id: s.nice }, data: { post: { update: { title: 'Renamed by a comment' } } } }),
    reads: (s) => ({ 'post.findUnique': (c) => c.post.findUnique({ where: { id: s.hello } }) }),
  },
  {
    name: 'upsert under user.profile (creates)',
    write: (p, s) =>
      p.user.update({
        where: { id: s.bob },
        data: { profile: { upsert: { create: { bio: 'Bob arrives' }, update: { bio: 'unused' } } } },
      }),
    reads: (s) => ({
      'profile.findMany': (c) => c.profile.findMany({ orderBy: byId }),
      'profile.count': (c) => c.profile.count(),
      "Bob's profile": (c) => c.profile.findUnique({ where: { userId: s.bob } }),
    }),
  },
  {
    name: 'upsert under user.profile (updates)',
    write: (p, s) =>
      p.user.update({
        where: { id: s.ann },
        data: { profile: { upsert: { create: { bio: 'unused' }, update: { bio: 'Ann upserts' } } } },
      }),
    reads: (s) => ({ "Ann's profile": (c) => c.profile.findUnique({ where: { userId: s.ann } }) }),
  },
  {
    name: 'upsert under user.posts',
    write: (p, s) =>
      p.user.update({
        where: { id: s.ann },
        data: { posts: { upsert: { where: { id: s.draft }, create: { title: 'unused' }, update: { title: 'Draft 2' } } } },
      }),
    reads: () => ({ titles: (c) => c.post.findMany({ select: { title: true }, orderBy: byId }) }),
  },
  {
    name: 'delete under user.profile',
    write: (p, s) => p.user.update({ where: { id: s.ann }, data: { profile: { delete: true } } }),
    reads: () => ({
      'profile.findMany': (c) => c.profile.findMany({ orderBy: byId }),
      'profile.count': (c) => c.profile.count(),
    }),
  },
  {
    name: 'delete under user.posts (its comments and tag links go with it)',
    write: (p, s) => p.user.update({ where: { id: s.ann }, data: { posts: { delete: { id: s.hello } } } }),
    reads: () => ({
      'post.count': (c) => c.post.count(),
      'comment.findMany': (c) => c.comment.findMany({ orderBy: byId }),
      'tags with posts': (c) => c.tag.findMany({ orderBy: byId, include: { posts: { orderBy: byId } } }),
    }),
  },
  {
    name: 'createMany under user.posts',
    write: (p, s) =>
      p.user.update({ where: { id: s.bob }, data: { posts: { createMany: { data: [{ title: 'B1' }, { title: 'B2' }] } } } }),
    reads: (s) => ({
      "Bob's post count": (c) => c.post.count({ where: { authorId: s.bob } }),
      titles: (c) => c.post.findMany({ select: { title: true }, orderBy: byId }),
    }),
  },
  {
    name: 'updateMany under user.posts',
    write: (p, s) =>
      p.user.update({
        where: { id: s.ann },
        data: { posts: { updateMany: { where: { published: false }, data: { published: true } } } },
      }),
    reads: () => ({
      'published count': (c) => c.post.count({ where: { published: true } }),
      'users whose posts are all published': (c) =>
        c.user.findMany({ where: { posts: { every: { published: true } } }, orderBy: byId }),
    }),
  },
  {
    name: 'deleteMany under post.comments',
    write: (p, s) => p.post.update({ where: { id: s.hello }, data: { comments: { deleteMany: {} } } }),
    reads: (s) => ({
      'comment.count': (c) => c.comment.count(),
      "Hello's comments": (c) => c.comment.findMany({ where: { postId: s.hello }, orderBy: byId }),
    }),
  },
  {
    name: 'deleteMany under user.posts (comments of the deleted posts go with them)',
    write: (p, s) => p.user.update({ where: { id: s.ann }, data: { posts: { deleteMany: { published: true } } } }),
    reads: () => ({
      'post ids': (c) => c.post.findMany({ select: { id: true }, orderBy: byId }),
      'comment.count': (c) => c.comment.count(),
    }),
  },
]

describe.each(tiers)('$name', (tier) => {
  let prisma: Cached
  let s: Seed

  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    s = await seed()
    prisma = cachedClient(ctx.db.prisma, tier.options())
  })

  describe('nested writes', () => {
    it.each(nestedWrites)('$name', async ({ write, reads }) => {
      await expectNeverStale(prisma, reads(s), () => write(prisma, s))
    })

    it('nested writes of several kinds in one call', async () => {
      const reads = {
        'profile.findMany': (c: Cached) => c.profile.findMany({ orderBy: byId }),
        titles: (c: Cached) => c.post.findMany({ select: { title: true, authorId: true }, orderBy: byId }),
        'comment.count': (c: Cached) => c.comment.count(),
      }
      await expectNeverStale(prisma, reads, () =>
        prisma.user.update({
          where: { id: s.bob },
          data: {
            profile: { create: { bio: 'Bob arrives' } },
            posts: {
              create: { title: 'Fresh', comments: { create: { body: 'On Fresh' } } },
              connect: { id: s.draft },
              update: { where: { id: s.notes }, data: { title: 'Notes 2' } },
            },
          },
        }),
      )
    })
  })

  describe('referential actions', () => {
    it('deleting a post removes its cached comments (Cascade) and its tag links', async () => {
      const reads = {
        'comment.findMany': (c: Cached) => c.comment.findMany({ orderBy: byId }),
        "Hello's comment count": (c: Cached) => c.comment.count({ where: { postId: s.hello } }),
        'tags with posts': (c: Cached) => c.tag.findMany({ orderBy: byId, include: { posts: { orderBy: byId } } }),
      }
      const { after } = await expectNeverStale(prisma, reads, () => prisma.post.delete({ where: { id: s.hello } }))
      expect(after['comment.findMany'].map((c) => c.body)).toEqual(['Hi'])
      expect(after["Hello's comment count"]).toBe(0)
    })

    it('deleting a user drops its profile (Cascade) and nulls the author of its posts and comments (SetNull)', async () => {
      const reads = {
        'profile.findMany': (c: Cached) => c.profile.findMany({ orderBy: byId }),
        "Ann's posts": (c: Cached) => c.post.findMany({ where: { authorId: s.ann }, orderBy: byId }),
        'posts without author': (c: Cached) => c.post.count({ where: { authorId: null } }),
        "Ann's comments": (c: Cached) => c.comment.findMany({ where: { authorId: s.ann }, orderBy: byId }),
      }
      const { before, after } = await expectNeverStale(prisma, reads, () => prisma.user.delete({ where: { id: s.ann } }))
      expect(before["Ann's posts"]).toHaveLength(2)
      expect(after['profile.findMany']).toEqual([])
      expect(after["Ann's posts"]).toEqual([])
      expect(after['posts without author']).toBe(2)
      expect(after["Ann's comments"]).toEqual([])
    })

    it('deleteMany of users applies the same referential actions', async () => {
      const reads = {
        'profile.count': (c: Cached) => c.profile.count(),
        'posts with their author': (c: Cached) => c.post.findMany({ orderBy: byId, include: { author: true } }),
        'comments by someone': (c: Cached) => c.comment.count({ where: { authorId: { not: null } } }),
      }
      await expectNeverStale(prisma, reads, () => prisma.user.deleteMany({ where: { email: { startsWith: 'ann' } } }))
    })

    it("changing a user's id cascades to the rows that reference it (onUpdate Cascade)", async () => {
      const reads = {
        "user 100's posts": (c: Cached) => c.post.findMany({ where: { authorId: 100 }, orderBy: byId }),
        "user 100's profile": (c: Cached) => c.profile.findUnique({ where: { userId: 100 } }),
        "user 100's comments": (c: Cached) => c.comment.count({ where: { authorId: 100 } }),
      }
      const { after } = await expectNeverStale(prisma, reads, () =>
        prisma.user.update({ where: { id: s.ann }, data: { id: 100 } }),
      )
      expect(after["user 100's posts"]).toHaveLength(2)
    })
  })

  describe('many-to-many, seen from both sides', () => {
    const bothSides = (x: Seed) => ({
      'tags with posts': (c: Cached) =>
        c.tag.findMany({ orderBy: byId, include: { posts: { select: { id: true }, orderBy: byId } } }),
      "sql's _count": (c: Cached) => c.tag.findUnique({ where: { id: x.sql }, include: { _count: { select: { posts: true } } } }),
      'posts with tags': (c: Cached) =>
        c.post.findMany({ orderBy: byId, include: { tags: { select: { name: true }, orderBy: { name: 'asc' } } } }),
      'posts tagged sql': (c: Cached) => c.post.count({ where: { tags: { some: { name: 'sql' } } } }),
    })
    const m2m: { name: string; write: (p: Cached, x: Seed) => PromiseLike<unknown> }[] = [
      { name: 'connect from the Post side', write: (p, x) => p.post.update({ where: { id: x.draft }, data: { tags: { connect: { id: x.sql } } } }) },
      { name: 'connect from the Tag side', write: (p, x) => p.tag.update({ where: { id: x.sql }, data: { posts: { connect: { id: x.draft } } } }) },
      { name: 'disconnect from the Post side', write: (p, x) => p.post.update({ where: { id: x.notes }, data: { tags: { disconnect: { id: x.sql } } } }) },
      { name: 'disconnect from the Tag side', write: (p, x) => p.tag.update({ where: { id: x.sql }, data: { posts: { disconnect: { id: x.notes } } } }) },
      { name: 'set from the Post side', write: (p, x) => p.post.update({ where: { id: x.hello }, data: { tags: { set: [{ id: x.sql }] } } }) },
      {
        name: 'set from the Tag side',
        write: (p, x) => p.tag.update({ where: { id: x.sql }, data: { posts: { set: [{ id: x.hello }, { id: x.notes }] } } }),
      },
    ]

    it.each(m2m)('$name', async ({ write }) => {
      await expectNeverStale(prisma, bothSides(s), () => write(prisma, s))
    })

    it('deleting a tag drops it from the posts that carried it', async () => {
      const reads = {
        'posts with tags': (c: Cached) => c.post.findMany({ orderBy: byId, include: { tags: { orderBy: byId } } }),
        'posts tagged sql': (c: Cached) => c.post.count({ where: { tags: { some: { name: 'sql' } } } }),
      }
      await expectNeverStale(prisma, reads, () => prisma.tag.delete({ where: { id: s.sql } }))
    })
  })

  describe('relation filters and _count', () => {
    it('some / every / none filters on posts, after a post is published', async () => {
      const reads = {
        'some published': (c: Cached) => c.user.findMany({ where: { posts: { some: { published: true } } }, orderBy: byId }),
        'every published': (c: Cached) => c.user.findMany({ where: { posts: { every: { published: true } } }, orderBy: byId }),
        'none published': (c: Cached) => c.user.findMany({ where: { posts: { none: { published: true } } }, orderBy: byId }),
      }
      const { after } = await expectNeverStale(prisma, reads, () =>
        prisma.post.update({ where: { id: s.notes }, data: { published: true } }),
      )
      expect(after['some published'].map((u) => u.name)).toEqual(['Ann', 'Bob'])
      expect(after['none published']).toEqual([])
    })

    it('_count of posts, after a post is created with a scalar foreign key and after one is deleted', async () => {
      const reads = {
        "Ann's _count": (c: Cached) =>
          c.user.findUnique({ where: { id: s.ann }, include: { _count: { select: { posts: true } } } }),
        "Ann's published _count": (c: Cached) =>
          c.user.findUnique({
            where: { id: s.ann },
            select: { _count: { select: { posts: { where: { published: true } } } } },
          }),
      }
      const created = await expectNeverStale(prisma, reads, () =>
        prisma.post.create({ data: { title: 'Third', published: true, authorId: s.ann } }),
      )
      expect(created.after["Ann's _count"]!._count.posts).toBe(3)
      const deleted = await expectNeverStale(prisma, reads, () =>
        prisma.post.deleteMany({ where: { authorId: s.ann, published: true } }),
      )
      expect(deleted.after["Ann's _count"]!._count.posts).toBe(1)
    })

    it('orderBy a relation count, after posts change author', async () => {
      const reads = {
        'users by post count': (c: Cached) =>
          c.user.findMany({ orderBy: [{ posts: { _count: 'desc' } }, byId], select: { name: true } }),
      }
      const { after } = await expectNeverStale(prisma, reads, () =>
        prisma.post.updateMany({ where: { authorId: s.ann }, data: { authorId: s.bob } }),
      )
      expect(after['users by post count'].map((u) => u.name)).toEqual(['Bob', 'Ann'])
    })

    it('to-one filters (is) and filters two relations deep, after the related row changes', async () => {
      const reads = {
        "posts by 'Ann'": (c: Cached) => c.post.findMany({ where: { author: { is: { name: 'Ann' } } }, orderBy: byId }),
        'users who commented on Hello': (c: Cached) =>
          c.user.findMany({ where: { comments: { some: { post: { title: 'Hello' } } } }, orderBy: byId }),
        'comments on published posts': (c: Cached) => c.comment.count({ where: { post: { published: true } } }),
      }
      await expectNeverStale(prisma, reads, async () => {
        await prisma.user.update({ where: { id: s.ann }, data: { name: 'Annie' } })
        await prisma.post.update({ where: { id: s.hello }, data: { title: 'Hello, renamed', published: false } })
      })
    })
  })

  describe('transactions', () => {
    const postReads = (x: Seed) => ({
      'post.count': (c: Cached) => c.post.count(),
      'Ann with posts': (c: Cached) => c.user.findUnique({ where: { id: x.ann }, include: { posts: { orderBy: byId } } }),
    })

    it('interactive commit: a read from outside, between the write and the commit, leaves nothing stale', async () => {
      const reads = postReads(s)
      const { after } = await expectNeverStale(prisma, reads, async () => {
        const written = signal()
        const commit = signal()
        const transaction = prisma.$transaction(async (tx) => {
          await tx.post.create({ data: { title: 'In a transaction', authorId: s.ann } })
          written.fire()
          await commit.promise
        })
        await written.promise
        // this code runs outside the transaction: it sees, and may cache, the committed rows (on
        // SQLite's one connection the uncommitted one, as the plain client does, and keeps nothing)
        expect(await reads['post.count'](prisma)).toBe(oneConnection ? 4 : 3)
        expect(await reads['post.count'](database())).toBe(oneConnection ? 4 : 3)
        await expectCurrent(prisma, reads)
        commit.fire()
        await transaction
      })
      expect(after['post.count']).toBe(4)
    })

    it('interactive rollback: the cache keeps the committed answer, and tx sees its own write', async () => {
      const reads = postReads(s)
      const before = await fill(prisma, reads)
      const rolledBack = new Error('roll back')
      await expect(
        prisma.$transaction(async (tx) => {
          await tx.post.create({ data: { title: 'Never committed', authorId: s.ann } })
          expect(await tx.post.count()).toBe(4)
          expect((await tx.user.findUnique({ where: { id: s.ann }, include: { posts: true } }))!.posts).toHaveLength(3)
          // the outer client is not the transaction: it still sees the committed count (on SQLite's
          // one connection, the transaction's own write, as the plain client does)
          expect(await prisma.post.count()).toBe(oneConnection ? 4 : 3)
          expect(await database().post.count()).toBe(oneConnection ? 4 : 3)
          throw rolledBack
        }),
      ).rejects.toBe(rolledBack)
      const after = await expectCurrent(prisma, reads)
      expect(after).toEqual(before)
      // and the cache still works: a repeated read is a hit
      await fill(prisma, reads)
    })

    it('a transaction client used where the async context is lost still bypasses the cache, and caches nothing it read', async () => {
      // Libraries that pool callbacks (or emit from elsewhere) drop AsyncLocalStorage: then only
      // the transaction client's own mark (prisma-internals.ts, isTransactionClient) tells.
      const reads = postReads(s)
      const before = await fill(prisma, reads)
      const outside = new AsyncResource('outside-the-transaction')
      const rolledBack = new Error('roll back')
      await expect(
        prisma.$transaction(async (tx) => {
          await tx.post.create({ data: { title: 'Never committed', authorId: s.ann } })
          const count = await outside.runInAsyncScope(() => tx.post.count().then((n) => n))
          expect(count, "the transaction's own write").toBe(4)
          throw rolledBack
        }),
      ).rejects.toBe(rolledBack)
      expect(await expectCurrent(prisma, reads)).toEqual(before)
    })

    it('nested tx.$transaction: the inner writes are seen once the outer transaction commits', async () => {
      const reads = { ...postReads(s), 'tag.count': (c: Cached) => c.tag.count() }
      await expectNeverStale(prisma, reads, async () => {
        const written = signal()
        const commit = signal()
        const transaction = prisma.$transaction(async (tx) => {
          await tx.$transaction(async (inner) => {
            await inner.post.create({ data: { title: 'Inner', authorId: s.ann } })
            await inner.tag.create({ data: { name: 'inner' } })
          })
          written.fire()
          await commit.promise
        })
        await written.promise
        // the inner transaction is done but the outer one is not: outside, nothing changed yet
        // (on SQLite's one connection the outside sees it, as the plain client does)
        expect(await reads['tag.count'](prisma)).toBe(oneConnection ? 4 : 3)
        expect(await reads['tag.count'](database())).toBe(oneConnection ? 4 : 3)
        await expectCurrent(prisma, reads)
        commit.fire()
        await transaction
      })
    })

    it('nested tx.$transaction that rolls back: only the outer writes remain, and are seen', async () => {
      const reads = {
        titles: (c: Cached) => c.post.findMany({ select: { title: true }, orderBy: byId }),
        'post.count': (c: Cached) => c.post.count(),
      }
      const { after } = await expectNeverStale(prisma, reads, () =>
        prisma.$transaction(async (tx) => {
          await tx.post.create({ data: { title: 'Outer' } })
          await tx
            .$transaction(async (inner) => {
              await inner.post.create({ data: { title: 'Inner, rolled back' } })
              throw new Error('inner rollback')
            })
            .catch(() => undefined)
        }),
      )
      expect(after.titles.map((p) => p.title)).toEqual(['Hello', 'Draft', 'Notes', 'Outer'])
    })

    if (oneConnection) it('an independent prisma.$transaction run inside another transaction callback cannot start on SQLite, cached or not', async () => {
      // adapter-better-sqlite3 runs one transaction at a time: the inner one waits for the outer
      // one, which waits for it, until maxWait (no race: it can never start)
      const reads = { 'post.count': (c: Cached) => c.post.count() }
      await fill(prisma, reads)
      const nested = (client: Cached) =>
        client.$transaction(async () =>
          client.$transaction((other) => other.post.create({ data: { title: 'Independent' } }), { maxWait: 100 }).then(
            () => 'started',
            (error: { code?: string }) => error.code,
          ),
        )
      expect(await nested(database())).toBe('P2028')
      expect(await nested(prisma)).toBe('P2028')
      await expectCurrent(prisma, reads)
    })

    else it('an independent prisma.$transaction run inside another transaction callback is seen as soon as it commits', async () => {
      const reads = { 'post.count': (c: Cached) => c.post.count() }
      await fill(prisma, reads)
      const written = signal()
      const commit = signal()
      const committed = signal()
      const finish = signal()
      const rolledBack = new Error('the outer transaction rolls back')
      const outer = prisma.$transaction(async () => {
        // `prisma`, not `tx`: a transaction of its own on another connection, not a nested one
        await prisma.$transaction(async (other) => {
          await other.post.create({ data: { title: 'Independent' } })
          written.fire()
          await commit.promise
        })
        committed.fire()
        await finish.promise
        throw rolledBack
      })
      await written.promise
      // outside both transactions: the committed answer, which the cache may keep
      expect(await reads['post.count'](prisma)).toBe(3)
      commit.fire()
      await committed.promise
      expect(await ctx.db.prisma.post.count()).toBe(4)
      await expectCurrent(prisma, reads)
      finish.fire()
      await expect(outer).rejects.toBe(rolledBack)
      // its rows stay committed whatever the outer transaction does
      await expectCurrent(prisma, reads)
    })

    it('array $transaction: its reads run uncached inside it, its writes are seen after it', async () => {
      const reads = {
        'post.count': (c: Cached) => c.post.count(),
        'tags with posts': (c: Cached) => c.tag.findMany({ orderBy: byId, include: { posts: { orderBy: byId } } }),
      }
      await expectNeverStale(prisma, reads, async () => {
        const [created, count, tags] = await prisma.$transaction([
          prisma.post.create({ data: { title: 'Batched', authorId: s.bob, tags: { connect: { id: s.ts } } } }),
          prisma.post.count(),
          prisma.tag.findMany({ orderBy: byId, include: { posts: { orderBy: byId } } }),
        ])
        expect(created.title).toBe('Batched')
        // read after the create, in the same transaction: not the cached 3
        expect(count).toBe(4)
        expect(tags).toEqual(await reads['tags with posts'](database()))
      })
    })

    it('reads inside transactions neither come from nor fill the shared cache', async () => {
      const reads = {
        'post.count': (c: Cached) => c.post.count(),
        'users with profile': (c: Cached) => c.user.findMany({ orderBy: byId, include: { profile: true } }),
      }
      await fill(prisma, reads)
      // a write the cache cannot know of (another process): the cached count says 3, the database 4
      await ctx.db.prisma.post.create({ data: { title: 'Behind the cache' } })
      expect(await reads['post.count'](prisma)).toBe(3)
      await prisma.$transaction(async (tx) => {
        expect(await tx.post.count()).toBe(4)
      })
      const [count] = await prisma.$transaction([prisma.post.count(), prisma.user.findMany()])
      expect(count).toBe(4)

      // reads only in transactions, on a cold cache: the first reads after them must be misses
      await prisma.$cache.invalidateAll()
      await prisma.$transaction(async (tx) => {
        await tx.post.count()
        await tx.user.findMany({ orderBy: byId, include: { profile: true } })
      })
      await prisma.$transaction([prisma.post.count(), prisma.user.findMany({ orderBy: byId, include: { profile: true } })])
      expect(await misses(prisma, reads), 'first reads after the transactions').toBe(2)
      expect(await misses(prisma, reads), 'second reads').toBe(0)
    })

    it('$executeRaw inside an interactive transaction invalidates on commit', async () => {
      const reads = postReads(s)
      await expectNeverStale(prisma, reads, async () => {
        const written = signal()
        const commit = signal()
        const transaction = prisma.$transaction(async (tx) => {
          await tx.$executeRaw`INSERT INTO "Post" ("title", "authorId") VALUES ('Raw in tx', ${s.ann})`
          written.fire()
          await commit.promise
        })
        await written.promise
        await expectCurrent(prisma, reads)
        commit.fire()
        await transaction
      })
    })
  })

  describe('raw SQL', () => {
    it('$executeRaw invalidates every model', async () => {
      const reads = {
        'user.findMany': (c: Cached) => c.user.findMany({ orderBy: byId }),
        'tag names': (c: Cached) => c.tag.findMany({ orderBy: byId, select: { name: true } }),
        'posts with tags': (c: Cached) => c.post.findMany({ orderBy: byId, include: { tags: { orderBy: byId } } }),
      }
      const untouched = { 'comment.count': (c: Cached) => c.comment.count() }
      await fill(prisma, untouched)
      // SQLite has no statement that writes two tables: there two statements, each invalidating every model
      const write = oneConnection
        ? async () => {
            await prisma.$executeRaw`UPDATE "User" SET "name" = upper("name")`
            await prisma.$executeRaw`UPDATE "Tag" SET "name" = "name" || '!'`
          }
        : () => prisma.$executeRaw`${rawSql.writeUsersAndTags}`
      await expectNeverStale(prisma, reads, write)
      // a model the statement did not write is invalidated as well: the cache cannot know
      expect(await misses(prisma, untouched)).toBe(1)
    })

    it('$executeRawUnsafe invalidates every model', async () => {
      const reads = { 'profile.findMany': (c: Cached) => c.profile.findMany({ orderBy: byId }) }
      await expectNeverStale(prisma, reads, () => prisma.$executeRawUnsafe(`UPDATE "Profile" SET "bio" = ${rawSql.param(1)}`, 'raw'))
    })

    it('$executeRaw in an array $transaction invalidates too', async () => {
      const reads = { 'post titles': (c: Cached) => c.post.findMany({ orderBy: byId, select: { title: true } }) }
      await expectNeverStale(prisma, reads, () =>
        prisma.$transaction([prisma.$executeRaw`UPDATE "Post" SET "title" = "title" || ' (raw)'`, prisma.post.count()]),
      )
    })

    it("$cache.affecting(['Post'], ...) invalidates Post reads and keeps a cached User read", async () => {
      const userRead = { Ann: (c: Cached) => c.user.findUnique({ where: { id: s.ann } }) }
      const reads = {
        'post titles': (c: Cached) => c.post.findMany({ orderBy: byId, select: { title: true } }),
        'Ann with posts': (c: Cached) => c.user.findUnique({ where: { id: s.ann }, include: { posts: { orderBy: byId } } }),
      }
      await fill(prisma, userRead)
      await expectNeverStale(prisma, reads, () =>
        prisma.$cache.affecting(['Post'], () => prisma.$executeRaw`UPDATE "Post" SET "title" = "title" || ' (raw)'`),
      )
      expect(await misses(prisma, userRead), 'the User read is still a cache hit').toBe(0)
      await expectCurrent(prisma, userRead)
    })

    it("a writing $queryRaw (UPDATE … RETURNING) named through $cache.affecting(['Post'], ...) invalidates Post reads", async () => {
      const reads = { 'post titles': (c: Cached) => c.post.findMany({ orderBy: byId, select: { title: true } }) }
      await expectNeverStale(prisma, reads, () =>
        // an async callback, so that the raw query starts inside affecting()'s scope
        prisma.$cache.affecting(['Post'], async () => await prisma.$queryRaw`UPDATE "Post" SET "title" = "title" || ' (raw)'${rawSql.returningId}`),
      )
    })

    it('$queryRaw is never cached', async () => {
      const count = () => prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM "Post"`
      expect(await count()).toEqual([{ n: 3n }])
      const queries = ctx.db.queries()
      expect(await count()).toEqual([{ n: 3n }])
      expect(ctx.db.queries() - queries).toBe(1)
      // a write the cache cannot know of: $queryRaw sees it at once
      await ctx.db.prisma.post.create({ data: { title: 'Behind the cache' } })
      expect(await count()).toEqual([{ n: 4n }])
    })
  })
})
