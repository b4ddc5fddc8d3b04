// Row-level invalidation, end to end, both directions:
// - the matrix: every write kind against every read kind its rows can change; after the write,
//   every cached read returns the database's answer (and the write did change some answers);
// - the converse, the point of row-level keys: a write leaves the cached reads it cannot change
//   cached, counted in database queries;
// - deterministic races of a read's snapshot, query and store against a write's statement and
//   its bumps, with equality keys, each ordering forced by gates in a lower extension.
import { beforeEach, describe, expect, it } from 'vitest'
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { freshNamespaces, useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()

const freshNamespace = freshNamespaces(redisCtx)

const tiers = [
  { name: 'L1', options: (): CacheOptions => ({}) },
  { name: 'L2 only', options: (): CacheOptions => ({ redis: redisCtx.redis, l1: false as const, namespace: freshNamespace() }) },
  { name: 'L1+L2', options: (): CacheOptions => ({ redis: redisCtx.redis, namespace: freshNamespace() }) },
]

type Cached = ReturnType<typeof cachedClient>
type Read = (client: Cached) => PromiseLike<unknown>

function database(): Cached {
  return ctx.db.prisma as unknown as Cached
}

const byId = { id: 'asc' } as const

/**
 * Users Ann (profile) and Bob; posts Hello (Ann, published, tags ts + orm), Draft (Ann), Notes
 * (Bob, tag sql); comments Nice (Bob on Hello), Thanks (Ann on Hello), Hi (Ann on Notes).
 */
async function seed() {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann', profile: { create: { bio: 'Ann writes' } } } })
  const bob = await db.user.create({ data: { email: 'bob@example.com', name: 'Bob' } })
  const ts = await db.tag.create({ data: { name: 'ts' } })
  const orm = await db.tag.create({ data: { name: 'orm' } })
  const sql = await db.tag.create({ data: { name: 'sql' } })
  const hello = await db.post.create({ data: { title: 'Hello', published: true, authorId: ann.id, tags: { connect: [{ id: ts.id }, { id: orm.id }] } } })
  const draft = await db.post.create({ data: { title: 'Draft', authorId: ann.id } })
  const notes = await db.post.create({ data: { title: 'Notes', authorId: bob.id, tags: { connect: { id: sql.id } } } })
  const nice = await db.comment.create({ data: { body: 'Nice', postId: hello.id, authorId: bob.id } })
  await db.comment.create({ data: { body: 'Thanks', postId: hello.id, authorId: ann.id } })
  await db.comment.create({ data: { body: 'Hi', postId: notes.id, authorId: ann.id } })
  ctx.db.resetQueries()
  return { ann: ann.id, bob: bob.id, ts: ts.id, orm: orm.id, sql: sql.id, hello: hello.id, draft: draft.id, notes: notes.id, nice: nice.id }
}
type Seed = Awaited<ReturnType<typeof seed>>

/** Every read kind a row of the seed can change, by what pins it. */
function matrixReads(s: Seed): Record<string, Read> {
  return {
    'post by id': (c) => c.post.findUnique({ where: { id: s.hello } }),
    'draft by id': (c) => c.post.findUnique({ where: { id: s.draft } }),
    'user by email': (c) => c.user.findUnique({ where: { email: 'ann@example.com' } }),
    'user by a new email (null)': (c) => c.user.findUnique({ where: { email: 'new@example.com' } }),
    'user by id 99 (null)': (c) => c.user.findUnique({ where: { id: 99 } }),
    "Ann's posts": (c) => c.post.findMany({ where: { authorId: s.ann }, orderBy: byId }),
    "Bob's posts": (c) => c.post.findMany({ where: { authorId: s.bob }, orderBy: byId }),
    "Bob's first post": (c) => c.post.findFirst({ where: { authorId: s.bob }, orderBy: { title: 'desc' } }),
    'published posts': (c) => c.post.findMany({ where: { published: true }, orderBy: byId }),
    "Ann's posts, a page after Hello": (c) => c.post.findMany({ where: { authorId: s.ann }, orderBy: byId, cursor: { id: s.hello }, take: 2 }),
    'distinct authors of posts': (c) => c.post.findMany({ distinct: ['authorId'], select: { authorId: true }, orderBy: byId }),
    "Hello's comments": (c) => c.comment.findMany({ where: { postId: s.hello }, orderBy: byId }),
    "Notes' comments": (c) => c.comment.findMany({ where: { postId: s.notes }, orderBy: byId }),
    "count of Ann's posts": (c) => c.post.count({ where: { authorId: s.ann } }),
    'count of posts': (c) => c.post.count(),
    'aggregate of comment ids on Hello': (c) => c.comment.aggregate({ where: { postId: s.hello }, _count: { _all: true }, _max: { id: true } }),
    'posts grouped by author': (c) => c.post.groupBy({ by: ['authorId'], _count: { _all: true }, orderBy: { authorId: 'asc' } }),
    'Ann with posts': (c) => c.user.findUnique({ where: { id: s.ann }, include: { posts: { orderBy: byId } } }),
    'Ann with _count': (c) => c.user.findUnique({ where: { id: s.ann }, include: { _count: true } }),
    'Bob with _count of posts': (c) => c.user.findUnique({ where: { id: s.bob }, select: { _count: { select: { posts: true } } } }),
    'Hello with comments and tags': (c) => c.post.findUnique({ where: { id: s.hello }, include: { comments: { orderBy: byId }, tags: { orderBy: byId } } }),
    'Draft with tags': (c) => c.post.findUnique({ where: { id: s.draft }, include: { tags: { orderBy: byId } } }),
    'Hello with _count of tags': (c) => c.post.findUnique({ where: { id: s.hello }, select: { _count: { select: { tags: true } } } }),
    'sql tag with posts': (c) => c.tag.findUnique({ where: { id: s.sql }, include: { posts: { orderBy: byId } } }),
    'Ann with profile': (c) => c.user.findUnique({ where: { id: s.ann }, include: { profile: true } }),
    'profile of Ann': (c) => c.profile.findUnique({ where: { userId: s.ann } }),
    'users with posts': (c) => c.user.findMany({ orderBy: byId, include: { posts: { orderBy: byId } } }),
  }
}

/** Every write kind, through the cached client. */
const matrixWrites: Array<{ name: string; write: (p: Cached, s: Seed) => PromiseLike<unknown> }> = [
  { name: 'create', write: (p, s) => p.post.create({ data: { title: 'New', authorId: s.bob, published: true } }) },
  { name: 'create of the null row', write: (p) => p.user.create({ data: { email: 'new@example.com' } }) },
  { name: 'createMany', write: (p, s) => p.comment.createMany({ data: [{ body: 'A', postId: s.hello }, { body: 'B', postId: s.notes }] }) },
  { name: 'update by unique', write: (p, s) => p.post.update({ where: { id: s.hello }, data: { title: 'Hello again' } }) },
  { name: 'update with a select that hides the keys', write: (p, s) => p.post.update({ where: { id: s.hello }, data: { title: 'Quiet' }, select: { title: true } }) },
  { name: 'update of a foreign key', write: (p, s) => p.post.update({ where: { id: s.draft }, data: { authorId: s.bob } }) },
  { name: 'update of a unique field', write: (p) => p.user.update({ where: { email: 'ann@example.com' }, data: { email: 'new@example.com' } }) },
  { name: 'upsert, update path', write: (p, s) => p.post.upsert({ where: { id: s.draft }, update: { published: true }, create: { title: 'x' } }) },
  { name: 'upsert, create path', write: (p, s) => p.post.upsert({ where: { id: 99 }, update: { title: 'never' }, create: { title: 'Made', authorId: s.ann } }) },
  { name: 'delete', write: (p, s) => p.comment.delete({ where: { id: s.nice } }) },
  { name: 'updateMany', write: (p, s) => p.post.updateMany({ where: { authorId: s.ann }, data: { published: false } }) },
  { name: 'deleteMany', write: (p, s) => p.comment.deleteMany({ where: { postId: s.hello } }) },
  { name: 'nested create', write: (p, s) => p.user.update({ where: { id: s.bob }, data: { posts: { create: { title: 'Nested' } } } }) },
  { name: 'nested connect (to-one, key on the row)', write: (p, s) => p.post.update({ where: { id: s.draft }, data: { author: { connect: { id: s.bob } } } }) },
  { name: 'nested connect (to-many)', write: (p, s) => p.user.update({ where: { id: s.bob }, data: { posts: { connect: { id: s.draft } } } }) },
  { name: 'nested disconnect (to-one)', write: (p, s) => p.post.update({ where: { id: s.notes }, data: { author: { disconnect: true } } }) },
  { name: 'nested update', write: (p, s) => p.user.update({ where: { id: s.ann }, data: { posts: { update: { where: { id: s.hello }, data: { title: 'Via Ann' } } } } }) },
  { name: 'nested delete', write: (p, s) => p.post.update({ where: { id: s.hello }, data: { comments: { delete: { id: s.nice } } } }) },
  { name: 'cascade (user delete: profile, comments of posts)', write: (p, s) => p.user.delete({ where: { id: s.ann } }) },
  { name: 'SetNull (user delete: posts keep, author null)', write: (p, s) => p.user.delete({ where: { id: s.bob } }) },
  { name: 'm2m connect', write: (p, s) => p.post.update({ where: { id: s.draft }, data: { tags: { connect: { id: s.sql } } } }) },
  { name: 'm2m disconnect', write: (p, s) => p.post.update({ where: { id: s.hello }, data: { tags: { disconnect: { id: s.ts } } } }) },
  { name: 'm2m set', write: (p, s) => p.post.update({ where: { id: s.notes }, data: { tags: { set: [{ id: s.ts }] } } }) },
  { name: 'm2m connect from the other side', write: (p, s) => p.tag.update({ where: { id: s.sql }, data: { posts: { connect: { id: s.draft } } } }) },
  { name: 'delete of a linked tag', write: (p, s) => p.tag.delete({ where: { id: s.ts } }) },
  { name: 'raw', write: (p, s) => p.$executeRaw`UPDATE "Post" SET "title" = 'Raw' WHERE "id" = ${s.hello}` },
]

describe.each(tiers)('row-level invalidation, $name', (tier) => {
  let prisma: Cached
  let s: Seed

  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    s = await seed()
    prisma = cachedClient(ctx.db.prisma, tier.options())
  })

  describe('every write kind against every read its rows can change: the database answer after the write', () => {
    for (const { name, write } of matrixWrites) {
      it(name, async () => {
        const reads = matrixReads(s)
        const before: Record<string, unknown> = {}
        for (const [readName, read] of Object.entries(reads)) {
          before[readName] = await read(prisma)
          expect(before[readName], `${readName}: first read`).toEqual(await read(database()))
        }
        await write(prisma, s)
        const changed: string[] = []
        for (const [readName, read] of Object.entries(reads)) {
          const truth = await read(database())
          if (JSON.stringify(truth) !== JSON.stringify(before[readName])) changed.push(readName)
          expect(await read(prisma), `${readName}: cached read after "${name}"`).toEqual(truth)
        }
        expect(changed.length, `"${name}" must change some read (else this case proves nothing)`).toBeGreaterThan(0)
      })
    }
  })

  describe('what a write cannot change stays cached', () => {
    it('updating one of 20 cached rows and reading all 20 again costs at most 2 queries', async () => {
      const ids: number[] = []
      for (let i = 0; i < 20; i++) ids.push((await ctx.db.prisma.post.create({ data: { title: `p${i}`, authorId: s.bob } })).id)
      // one after another, so that no batching hides a miss
      for (const id of ids) await prisma.post.findUnique({ where: { id } })
      await prisma.post.update({ where: { id: ids[7]! }, data: { title: 'changed' } })
      ctx.db.resetQueries()
      const again = []
      for (const id of ids) again.push(await prisma.post.findUnique({ where: { id } }))
      expect(ctx.db.queries()).toBeLessThanOrEqual(2)
      expect(again[7]).toMatchObject({ title: 'changed' })
      expect(again).toEqual(await ctx.db.prisma.post.findMany({ where: { id: { in: ids } }, orderBy: byId }))
    })

    it("a create under one of 10 parents, then every parent's list and count: at most 3 queries", async () => {
      const parents: number[] = []
      for (let i = 0; i < 10; i++) parents.push((await ctx.db.prisma.post.create({ data: { title: `parent${i}`, comments: { create: { body: 'c' } } } })).id)
      const lists = (c: Cached, id: number) => c.comment.findMany({ where: { postId: id }, orderBy: byId })
      const counts = (c: Cached, id: number) => c.comment.count({ where: { postId: id } })
      const withCount = (c: Cached, id: number) => c.post.findUnique({ where: { id }, include: { _count: { select: { comments: true } } } })
      for (const id of parents) {
        await lists(prisma, id)
        await counts(prisma, id)
        await withCount(prisma, id)
      }
      await prisma.comment.create({ data: { body: 'new', postId: parents[3]! } })
      ctx.db.resetQueries()
      for (const id of parents) {
        expect(await lists(prisma, id)).toEqual(await lists(database(), id))
        expect(await counts(prisma, id)).toEqual(await counts(database(), id))
        expect(await withCount(prisma, id)).toEqual(await withCount(database(), id))
      }
      // the truth reads went to the database too: 30 of them; the cached reads add at most 3
      expect(ctx.db.queries() - 30).toBeLessThanOrEqual(3)
      expect(await counts(prisma, parents[3]!)).toBe(2)
    })

    it('an update of a field no read filters on leaves the lists by author and by flag cached', async () => {
      const reads: Record<string, Read> = {
        "Ann's posts": (c) => c.post.findMany({ where: { authorId: s.ann }, orderBy: byId }),
        "Bob's posts": (c) => c.post.findMany({ where: { authorId: s.bob }, orderBy: byId }),
        'Notes by id': (c) => c.post.findUnique({ where: { id: s.notes } }),
        "Bob's count": (c) => c.post.count({ where: { authorId: s.bob } }),
      }
      for (const read of Object.values(reads)) await read(prisma)
      await prisma.post.update({ where: { id: s.hello }, data: { title: 'Edited' } })
      ctx.db.resetQueries()
      for (const [name, read] of Object.entries(reads)) {
        const queries = ctx.db.queries()
        await read(prisma)
        const missed = ctx.db.queries() - queries
        // only Ann's list holds Hello
        expect(missed, name).toBe(name === "Ann's posts" ? 1 : 0)
      }
    })

    it('linking a tag to one post leaves the other posts, and the counts of other tags, cached', async () => {
      const notesTags = (c: Cached) => c.post.findUnique({ where: { id: s.notes }, include: { tags: { orderBy: byId } } })
      const ormCount = (c: Cached) => c.tag.findUnique({ where: { id: s.orm }, include: { _count: { select: { posts: true } } } })
      const sqlCount = (c: Cached) => c.tag.findUnique({ where: { id: s.sql }, include: { _count: { select: { posts: true } } } })
      const draftTags = (c: Cached) => c.post.findUnique({ where: { id: s.draft }, include: { tags: { orderBy: byId } } })
      const reads = { notesTags, ormCount, sqlCount, draftTags }
      for (const read of Object.values(reads)) await read(prisma)
      await prisma.post.update({ where: { id: s.draft }, data: { tags: { connect: { id: s.sql } } } })
      const missed: string[] = []
      for (const [name, read] of Object.entries(reads)) {
        const queries = ctx.db.queries()
        const cached = await read(prisma)
        if (ctx.db.queries() > queries) missed.push(name)
        expect(cached, name).toEqual(await read(database()))
      }
      // the two rows of the new link miss; the other post and the other tag do not
      expect(missed.sort()).toEqual(['draftTags', 'sqlCount'])
    })
  })
})

describe('model-wide invalidation (`invalidation: \'model\'`)', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('`_count: true` depends on every relation it counts', async () => {
    const s = await seed()
    const prisma = cachedClient(ctx.db.prisma, { invalidation: 'model' })
    const reads: Record<string, Read> = {
      'include _count': (c) => c.user.findUnique({ where: { id: s.ann }, include: { _count: true } }),
      'select _count': (c) => c.user.findUnique({ where: { id: s.ann }, select: { _count: true } }),
      'nested _count': (c) => c.user.findUnique({ where: { id: s.ann }, include: { posts: { orderBy: byId, include: { _count: true } } } }),
    }
    const before: Record<string, unknown> = {}
    for (const [name, read] of Object.entries(reads)) before[name] = await read(prisma)
    await prisma.comment.create({ data: { body: 'counted', postId: s.hello, authorId: s.ann } })
    for (const [name, read] of Object.entries(reads)) {
      const truth = await read(database())
      expect(truth, `${name}: the create changes the count`).not.toEqual(before[name])
      expect(await read(prisma), name).toEqual(truth)
    }
  })
})

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void
  const promise = new Promise<void>((resolve) => (fire = resolve))
  return { promise, fire }
}

/**
 * Gates in an extension applied below the cache, so that they hold the cache's own database
 * calls: a marked read waits before its query is sent or after its answer came back; a write
 * waits before its statement or after it committed (before the cache's second bump).
 */
function gated(base: PrismaClient) {
  const gates = {
    readBefore: undefined as Promise<void> | undefined,
    readAfter: undefined as Promise<void> | undefined,
    writeBefore: undefined as Promise<void> | undefined,
    writeAfter: undefined as Promise<void> | undefined,
    /** The read reached the database side: its snapshot (and any L2 lookup) is done. */
    readArrived: signal(),
    readAnswered: signal(),
    /** The write reached the database side: its first bump is done. */
    writeArrived: signal(),
    writeCommitted: signal(),
  }
  // a marked read waits before its query is sent or after its answer came back
  const held = async <T>(run: () => Promise<T>): Promise<T> => {
    gates.readArrived.fire()
    if (gates.readBefore) await gates.readBefore
    const answer = await run()
    gates.readAnswered.fire()
    if (gates.readAfter) await gates.readAfter
    return answer
  }
  const client = base.$extends({
    query: {
      post: {
        findUnique: ({ args, query }) => held(() => query(args)),
        findMany: ({ args, query }) => held(() => query(args)),
        async update({ args, query }) {
          gates.writeArrived.fire()
          if (gates.writeBefore) await gates.writeBefore
          const result = await query(args)
          gates.writeCommitted.fire()
          if (gates.writeAfter) await gates.writeAfter
          return result
        },
      },
    },
  })
  return { client: client as unknown as PrismaClient, gates }
}

type Step = 'read snapshots' | 'read queries' | 'read stores' | 'write bumps' | 'write commits' | 'write bumps again'

/**
 * Each ordering of a read (snapshot at call, query, store) against a write (first bump, statement,
 * second bump) that a gate can force, the read pinning the written row by an equality key. Every
 * ordering must end with the cache serving the new row: a read that raced the write may answer
 * the old row, but never store it.
 */
const orderings: Array<{ name: string; steps: Step[] }> = [
  { name: 'the read queries and stores between the write commit and its second bump', steps: ['write bumps', 'write commits', 'read snapshots', 'read queries', 'read stores', 'write bumps again'] },
  { name: 'the read queries before the commit and stores after the second bump', steps: ['read snapshots', 'read queries', 'write bumps', 'write commits', 'write bumps again', 'read stores'] },
  { name: 'the read queries before the commit and stores before the second bump', steps: ['read snapshots', 'write bumps', 'read queries', 'write commits', 'read stores', 'write bumps again'] },
  { name: 'the read snapshots after the first bump and queries before the commit', steps: ['write bumps', 'read snapshots', 'read queries', 'write commits', 'read stores', 'write bumps again'] },
]

describe.each(tiers)('races with equality keys, $name', (tier) => {
  let s: Seed
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    s = await seed()
  })

  for (const reader of ['findUnique by id', 'findMany by authorId'] as const) {
    for (const { name, steps } of orderings) {
      it(`${reader}: ${name}`, async () => {
        const { client, gates } = gated(ctx.db.prisma)
        const prisma = cachedClient(client, tier.options())
        const read = () =>
          reader === 'findUnique by id'
            ? prisma.post.findUnique({ where: { id: s.hello } }).then((p) => p?.title)
            : prisma.post.findMany({ where: { authorId: s.ann }, orderBy: byId }).then((ps) => ps.find((p) => p.id === s.hello)?.title)
        const release = { read: signal(), store: signal(), write: signal(), after: signal() }
        gates.readBefore = release.read.promise
        gates.readAfter = release.store.promise
        gates.writeBefore = release.write.promise
        gates.writeAfter = release.after.promise
        let reading: Promise<unknown> | undefined
        let writing: Promise<unknown> | undefined
        for (const step of steps) {
          if (step === 'read snapshots') {
            reading = read()
            await gates.readArrived.promise
          }
          if (step === 'read queries') {
            release.read.fire()
            await gates.readAnswered.promise
          }
          if (step === 'read stores') {
            release.store.fire()
            await reading
          }
          if (step === 'write bumps') {
            // `then` sends it: a Prisma promise is lazy
            writing = prisma.post.update({ where: { id: s.hello }, data: { title: 'v2' } }).then((row) => row)
            await gates.writeArrived.promise
          }
          if (step === 'write commits') {
            release.write.fire()
            await gates.writeCommitted.promise
          }
          if (step === 'write bumps again') {
            release.after.fire()
            await writing
          }
        }
        await Promise.all([reading, writing])
        gates.readBefore = gates.readAfter = gates.writeBefore = gates.writeAfter = undefined
        // the cache now serves the committed title, whatever the raced read stored
        expect(await read()).toBe('v2')
        expect(await read()).toBe('v2')
      })
    }
  }
})
