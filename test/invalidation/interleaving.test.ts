// Randomized, seeded interleavings of cached reads and writes of every kind, judged by the oracle
// of test/support/interleave.ts. A failure names its tier and seed;
//   INTERLEAVING_SEED=17 npx vitest run test/invalidation/interleaving.test.ts -t 'L1 seed'
// replays seed 17 (the same operations with the same pauses; database latency still varies, so a
// race may take a few replays). INTERLEAVING_SEEDS=200 runs seeds 1..200 of every tier;
// INTERLEAVING_VERBOSE=1 prints how many reads the oracle judged.
import type { Cluster, Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js'
import { withCache, type CacheApi, type CacheOptions } from '../../src/index.js'
import { resetTables, useDatabase } from '../support/db.js'
import { provider, rawSql, supports } from '../support/provider.js'
import { actorRng, linger, pause, Rng, settle, WriteClock, type Outcome } from '../support/interleave.js'
import { scanKeys, useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()

const tiers: { name: string; options: (ns: string) => CacheOptions }[] = [
  { name: 'L1', options: () => ({}) },
  { name: 'L2 only', options: (ns: string) => ({ redis: redisCtx.redis, l1: false as const, namespace: ns }) },
  { name: 'L1+L2', options: (ns: string) => ({ redis: redisCtx.redis, namespace: ns }) },
]

/** Sized so the whole file (every tier) stays near 2 minutes on 2 cores. */
const DEFAULT_SEEDS = 30
const seeds = process.env.INTERLEAVING_SEED
  ? process.env.INTERLEAVING_SEED.split(',').map((s) => Number(s.trim()))
  : Array.from({ length: Number(process.env.INTERLEAVING_SEEDS ?? DEFAULT_SEEDS) }, (_, i) => i + 1)

// ---------------------------------------------------------------------------------------------
// The world: ids and names the random operations draw from

const NAMES = ['ann', 'bob', 'cyd', 'dee', 'zed']
const TITLES = ['alpha', 'beta', 'gamma', 'delta']
const TAGS = Array.from({ length: 7 }, (_, i) => `tag${i}`)
const POOL_EMAILS = Array.from({ length: 4 }, (_, i) => `pool${i}@example.com`)

type Model = 'user' | 'post' | 'comment' | 'tag'

/**
 * Where the ids are: `top` estimates the ids handed out so far (sequences only grow and never
 * reuse an id), counting the rows each write tries to create. The seeded rows are the hot ones:
 * most reads and updates go to them, most deletes to rows created during the run, so that reads
 * and writes keep meeting on the same live rows. Nothing is drawn from database state or from
 * timing: each actor works on its own copy during a round (`child`) and the copies are merged at
 * the end of it, so a seed replays the same operations whatever the timing.
 */
class World {
  top: Record<Model, number> = { user: 0, post: 0, comment: 0, tag: 0 }
  seeded: Record<Model, number> = { user: 0, post: 0, comment: 0, tag: 0 }

  child(): World {
    const copy = new World()
    copy.top = { ...this.top }
    copy.seeded = this.seeded
    return copy
  }

  merge(children: readonly World[]): void {
    const start = { ...this.top }
    for (const child of children) for (const m of Object.keys(start) as Model[]) this.top[m] += child.top[m] - start[m]
  }

  /**
   * Mostly a hot (seeded) row; else any id so far, or the next one: deleted, live or never was.
   * Now and then the next id itself, so that reads cache the null a create must drop.
   */
  id(r: Rng, model: Model): number {
    if (this.seeded[model] > 0 && r.chance(0.6)) return r.between(1, this.seeded[model])
    if (r.chance(0.15)) return this.top[model] + 1
    return r.between(1, this.top[model] + 1)
  }

  /** A row to delete: mostly one created during the run. */
  victim(r: Rng, model: Model): number {
    if (this.top[model] > this.seeded[model] && r.chance(0.75)) return r.between(this.seeded[model] + 1, this.top[model])
    return r.between(1, this.top[model] + 1)
  }

  ids(r: Rng, model: Model, max: number): number[] {
    return [...new Set(Array.from({ length: r.between(0, max) }, () => this.id(r, model)))]
  }

  /** Records that `n` rows of `model` may have been created (ids are spent even on failure). */
  created(model: Model, n = 1): void {
    this.top[model] += n
  }

  email(r: Rng): string {
    return r.chance(0.5) ? r.pick(POOL_EMAILS) : `user${r.between(1, 4)}@example.com`
  }

  uniqueEmail(r: Rng): string {
    return `u${r.int(1e9)}@example.com`
  }

  /** New values differ from old ones, so that a write changes what reads of its rows return. */
  name(r: Rng): string {
    return `${r.pick(NAMES)}${r.int(1e6)}`
  }

  title(r: Rng): string {
    return `${r.pick(TITLES)} ${r.int(1e6)}`
  }

  text(r: Rng): string {
    return `text ${r.int(1e6)}`
  }
}

type Client = PrismaClient
/** Tables as the database has them; `PostTag` is the implicit many-to-many table `_PostToTag`. */
type Table = 'User' | 'Profile' | 'Post' | 'Comment' | 'Tag' | 'PostTag'

/**
 * SQLite through adapter-better-sqlite3 is one connection: a write from outside that runs while a
 * transaction is open becomes part of it (undone by its rollback), and reads from outside see its
 * uncommitted rows. There a transaction, committed or not, is a write in flight on every table.
 */
const IN_ANY_TRANSACTION: readonly Table[] | undefined =
  provider === 'sqlite' ? ['User', 'Profile', 'Post', 'Comment', 'Tag', 'PostTag'] : undefined
interface Op {
  label: string
  /** Reads: every table the answer depends on. Writes: every table the write can change. */
  tables: readonly Table[]
  run: (c: Client, api: CacheApi) => PromiseLike<unknown>
}
const op = (label: string, tables: readonly Table[], run: Op['run']): Op => ({ label, tables, run })

// ---------------------------------------------------------------------------------------------
// Reads: every cached operation, with include/select trees, relation filters, orderBy, take...
// Every list has a total order (an id tiebreaker): without one, two correct answers may differ.

const userById = (id: number) => op(`user.findUnique({id:${id}})`, ['User'], (c) => c.user.findUnique({ where: { id } }))

const READS: Array<(r: Rng, w: World) => Op> = [
  (r, w) => {
    const id = w.id(r, 'user')
    return op(`user.findUnique({id:${id}}) include posts, profile`, ['User', 'Post', 'Profile'], (c) =>
      c.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: 'asc' } }, profile: true } }),
    )
  },
  (r, w) => userById(w.id(r, 'user')),
  (r, w) => {
    const email = w.email(r)
    return op(`user.findUnique({email:${email}})`, ['User'], (c) => c.user.findUnique({ where: { email } }))
  },
  (r, w) => {
    const id = w.id(r, 'user')
    return op(`user.findUniqueOrThrow({id:${id}}) select name, _count`, ['User', 'Post', 'Comment'], (c) =>
      c.user.findUniqueOrThrow({
        where: { id },
        select: { id: true, name: true, _count: { select: { posts: true, comments: true } } },
      }),
    )
  },
  (r) => {
    const published = r.chance(0.5)
    const dir = r.pick(['asc', 'desc'] as const)
    return op(`user.findFirst(posts some published=${published}, id ${dir})`, ['User', 'Post'], (c) =>
      c.user.findFirst({ where: { posts: { some: { published } } }, orderBy: { id: dir } }),
    )
  },
  (r) => {
    const prefix = r.pick(NAMES)
    return op(`user.findFirstOrThrow(name^=${prefix}) include profile`, ['User', 'Profile'], (c) =>
      c.user.findFirstOrThrow({ where: { name: { startsWith: prefix } }, orderBy: { id: 'asc' }, include: { profile: true } }),
    )
  },
  () =>
    op('user.findMany(posts none) select id, email', ['User', 'Post'], (c) =>
      c.user.findMany({ where: { posts: { none: {} } }, select: { id: true, email: true }, orderBy: { id: 'asc' } }),
    ),
  (r) => {
    const take = r.between(1, 4)
    return op(`user.findMany(orderBy posts._count desc, take ${take}) select _count`, ['User', 'Post'], (c) =>
      c.user.findMany({
        orderBy: [{ posts: { _count: 'desc' } }, { id: 'asc' }],
        take,
        select: { id: true, _count: { select: { posts: true } } },
      }),
    )
  },
  (r) => {
    const published = r.chance(0.5)
    const take = r.between(1, 4)
    const skip = r.int(2)
    return op(`post.findMany(published=${published}, take ${take}, skip ${skip}) include author, tags`, ['Post', 'User', 'PostTag', 'Tag'], (c) =>
      c.post.findMany({
        where: { published },
        include: { author: true, tags: { orderBy: { id: 'asc' } } },
        orderBy: [{ title: 'asc' }, { id: 'asc' }],
        take,
        skip,
      }),
    )
  },
  (r) => {
    const tag = r.pick(TAGS)
    return op(`post.findMany(tags some ${tag}) select title, comments`, ['Post', 'PostTag', 'Tag', 'Comment'], (c) =>
      c.post.findMany({
        where: { tags: { some: { name: tag } } },
        select: { id: true, title: true, comments: { select: { id: true, body: true }, orderBy: { id: 'asc' } } },
        orderBy: { id: 'desc' },
      }),
    )
  },
  (r) => {
    const prefix = r.chance(0.3) ? null : r.pick(NAMES)
    return op(`post.findMany(author ${prefix ?? 'is null'})`, ['Post', 'User'], (c) =>
      c.post.findMany({
        where: { author: prefix === null ? { is: null } : { is: { name: { startsWith: prefix } } } },
        orderBy: { id: 'asc' },
      }),
    )
  },
  () =>
    op('post.findFirst(comments none) include _count', ['Post', 'Comment', 'PostTag', 'Tag'], (c) =>
      c.post.findFirst({
        where: { comments: { none: {} } },
        orderBy: { id: 'asc' },
        include: { _count: { select: { comments: true, tags: true } } },
      }),
    ),
  (r, w) => {
    const id = w.id(r, 'post')
    return op(`post.findUnique({id:${id}}) include comments.author, author.profile`, ['Post', 'Comment', 'User', 'Profile'], (c) =>
      c.post.findUnique({
        where: { id },
        include: { comments: { orderBy: { id: 'asc' }, include: { author: true } }, author: { include: { profile: true } } },
      }),
    )
  },
  (r, w) => {
    const id = w.id(r, 'post')
    return op(`post.findMany(cursor ${id}, take 2)`, ['Post'], (c) => c.post.findMany({ cursor: { id }, take: 2, orderBy: { id: 'asc' } }))
  },
  () =>
    op('post.findMany(distinct authorId)', ['Post'], (c) =>
      c.post.findMany({ distinct: ['authorId'], orderBy: [{ authorId: 'asc' }, { id: 'asc' }], select: { id: true, authorId: true } }),
    ),
  (r) => {
    const published = r.chance(0.5)
    return op(`post.count(published=${published})`, ['Post'], (c) => c.post.count({ where: { published } }))
  },
  () => op('user.count()', ['User'], (c) => c.user.count()),
  // whole tables: almost any write to them changes these answers
  () => op('user.findMany()', ['User'], (c) => c.user.findMany({ orderBy: { id: 'asc' } })),
  () =>
    op('post.findMany() include tags', ['Post', 'PostTag', 'Tag'], (c) =>
      c.post.findMany({ orderBy: { id: 'asc' }, include: { tags: { select: { id: true }, orderBy: { id: 'asc' } } } }),
    ),
  () => op('comment.findMany()', ['Comment'], (c) => c.comment.findMany({ orderBy: { id: 'asc' } })),
  () => op('profile.findMany()', ['Profile'], (c) => c.profile.findMany({ orderBy: { id: 'asc' } })),
  () => op('tag.findMany()', ['Tag'], (c) => c.tag.findMany({ orderBy: { id: 'asc' } })),
  () => op('comment.count(post published)', ['Comment', 'Post'], (c) => c.comment.count({ where: { post: { published: true } } })),
  () => op('tag.count(posts some)', ['Tag', 'PostTag', 'Post'], (c) => c.tag.count({ where: { posts: { some: {} } } })),
  () =>
    op('post.aggregate(authorId not null)', ['Post'], (c) =>
      c.post.aggregate({
        where: { authorId: { not: null } },
        _count: { _all: true },
        _max: { id: true, createdAt: true },
        _min: { title: true },
      }),
    ),
  () =>
    op('comment.aggregate(author name ann)', ['Comment', 'User'], (c) =>
      c.comment.aggregate({ where: { author: { name: { startsWith: 'ann' } } }, _count: { _all: true }, _max: { postId: true } }),
    ),
  () =>
    op('post.groupBy(authorId)', ['Post'], (c) =>
      c.post.groupBy({ by: ['authorId'], _count: { _all: true }, _max: { id: true }, orderBy: { authorId: 'asc' } }),
    ),
  () =>
    op('comment.groupBy(postId, post published)', ['Comment', 'Post'], (c) =>
      c.comment.groupBy({
        by: ['postId'],
        where: { post: { published: true } },
        _count: { id: true },
        orderBy: { postId: 'asc' },
      }),
    ),
  () =>
    op('tag.findMany include _count posts', ['Tag', 'PostTag', 'Post'], (c) =>
      c.tag.findMany({ include: { _count: { select: { posts: true } } }, orderBy: { name: 'asc' } }),
    ),
  () =>
    op('tag.findMany(posts every published) select posts', ['Tag', 'PostTag', 'Post'], (c) =>
      c.tag.findMany({
        where: { posts: { every: { published: true } } },
        select: { name: true, posts: { select: { id: true }, orderBy: { id: 'asc' } } },
        orderBy: { id: 'asc' },
      }),
    ),
  (r) => {
    const take = r.between(2, 6)
    return op(`comment.findMany(author is null, take ${take})`, ['Comment', 'User'], (c) =>
      c.comment.findMany({ where: { author: { is: null } }, orderBy: { id: 'asc' }, take }),
    )
  },
  (r, w) => {
    const userId = w.id(r, 'user')
    return op(`profile.findUnique({userId:${userId}}) include user`, ['Profile', 'User'], (c) =>
      c.profile.findUnique({ where: { userId }, include: { user: true } }),
    )
  },
]

// ---------------------------------------------------------------------------------------------
// Row-level reads and writes, by family: each read pins rows by an equality (a unique key, a
// foreign key, a parent pinned by its id, an implicit many-to-many link), the keys row-level
// invalidation records instead of a model's (DESIGN.md, "Fine-grained invalidation"), and each
// write is one of the kinds it keys differently (src/invalidation/write-keys.ts). Many reads
// answer null or [] (ids past the last row, emails nobody has yet), so that creates, key changes
// and moves must reach them. Every run samples from all kinds, and more from one family (its
// focus), so that the writes of a family meet the reads they can change within one run.

type Kind = (r: Rng, w: World) => Op
const FAMILIES = ['author', 'comments', 'email', 'tags', 'profile'] as const
type Family = (typeof FAMILIES)[number]

const ROW_READS: Record<Family, Kind[]> = {
  // posts by their author: the foreign key Post.authorId, from either side
  author: [
    (r, w) => {
      const id = w.id(r, 'post')
      return op(`post.findUnique({id:${id}})`, ['Post'], (c) => c.post.findUnique({ where: { id } }))
    },
    (r, w) => {
      const id = w.id(r, 'user')
      const take = r.between(1, 3)
      return op(`user.findUnique({id:${id}}) include posts take ${take}, _count`, ['User', 'Post', 'Comment'], (c) =>
        c.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: 'desc' }, take }, _count: true } }),
      )
    },
    (r, w) => {
      // null is a value too: posts whose author was disconnected or deleted (SetNull)
      const authorId = r.chance(0.3) ? null : w.id(r, 'user')
      const take = r.between(1, 3)
      const dir = r.pick(['asc', 'desc'] as const)
      return op(`post.findMany(authorId ${authorId}, id ${dir}, take ${take})`, ['Post'], (c) =>
        c.post.findMany({ where: { authorId }, orderBy: { id: dir }, take }),
      )
    },
    (r, w) => {
      // no take: the resolver pattern, batched with same-tick reads of other authors
      const authorId = w.id(r, 'user')
      return op(`post.findMany(authorId ${authorId}) select id, title`, ['Post'], (c) =>
        c.post.findMany({ where: { authorId }, select: { id: true, title: true, published: true }, orderBy: { id: 'asc' } }),
      )
    },
    (r, w) => {
      const authorId = w.id(r, 'user')
      const published = r.chance(0.5)
      return op(`post.findFirst(authorId ${authorId}, published ${published}) by title`, ['Post'], (c) =>
        c.post.findFirst({ where: { authorId, published }, orderBy: [{ title: 'asc' }, { id: 'asc' }] }),
      )
    },
    (r, w) => {
      const ids = [w.id(r, 'user'), w.id(r, 'user')]
      return op(`post.findMany(authorId in ${ids}) select authorId`, ['Post'], (c) =>
        c.post.findMany({ where: { authorId: { in: ids } }, select: { id: true, authorId: true }, orderBy: { id: 'asc' } }),
      )
    },
    (r, w) => {
      const authorId = r.chance(0.3) ? null : w.id(r, 'user')
      return op(`post.count(authorId ${authorId})`, ['Post'], (c) => c.post.count({ where: { authorId } }))
    },
    (r, w) => {
      const id = w.id(r, 'user')
      return op(`user.findUnique({id:${id}}) select _count posts published`, ['User', 'Post'], (c) =>
        c.user.findUnique({ where: { id }, select: { id: true, _count: { select: { posts: { where: { published: true } } } } } }),
      )
    },
  ],
  // comments by their post: the foreign key Comment.postId
  comments: [
    (r, w) => {
      const id = w.id(r, 'comment')
      return op(`comment.findUnique({id:${id}})`, ['Comment'], (c) => c.comment.findUnique({ where: { id } }))
    },
    (r, w) => {
      const postId = w.id(r, 'post')
      const take = r.between(1, 3)
      return op(`comment.findMany(postId ${postId}, take ${take})`, ['Comment'], (c) =>
        c.comment.findMany({ where: { postId }, orderBy: { id: 'desc' }, take }),
      )
    },
    (r, w) => {
      const postId = w.id(r, 'post')
      return op(`comment.findMany(postId ${postId})`, ['Comment'], (c) => c.comment.findMany({ where: { postId }, orderBy: { id: 'asc' } }))
    },
    (r, w) => {
      const postId = w.id(r, 'post')
      return op(`comment.count(postId ${postId})`, ['Comment'], (c) => c.comment.count({ where: { postId } }))
    },
    (r, w) => {
      const authorId = r.chance(0.3) ? null : w.id(r, 'user')
      return op(`comment.findMany(authorId ${authorId}) include post`, ['Comment', 'Post'], (c) =>
        c.comment.findMany({ where: { authorId }, orderBy: { id: 'asc' }, include: { post: { select: { id: true, title: true } } } }),
      )
    },
    (r, w) => {
      const id = w.id(r, 'post')
      return op(`post.findUnique({id:${id}}) include _count`, ['Post', 'Comment', 'PostTag'], (c) =>
        c.post.findUnique({ where: { id }, include: { _count: true } }),
      )
    },
    (r, w) => {
      const id = w.id(r, 'post')
      return op(`post.findUnique({id:${id}}) include comments, tags`, ['Post', 'Comment', 'PostTag', 'Tag'], (c) =>
        c.post.findUnique({ where: { id }, include: { comments: { orderBy: { id: 'asc' } }, tags: { select: { name: true }, orderBy: { id: 'asc' } } } }),
      )
    },
    (r, w) => {
      const id = w.id(r, 'user')
      return op(`user.findUnique({id:${id}}) select comments`, ['User', 'Comment'], (c) =>
        c.user.findUnique({ where: { id }, select: { id: true, comments: { select: { id: true, postId: true }, orderBy: { id: 'asc' } } } }),
      )
    },
  ],
  // users by their unique email, answers that are null until a create or an email change
  email: [
    (r, w) => {
      const email = w.email(r)
      return op(`user.findUniqueOrThrow({email:${email}}) select id`, ['User'], (c) =>
        c.user.findUniqueOrThrow({ where: { email }, select: { id: true, email: true } }),
      )
    },
    (r, w) => {
      const email = w.email(r)
      return op(`user.findUnique({email:${email}}) select posts, _count`, ['User', 'Post', 'Comment'], (c) =>
        c.user.findUnique({
          where: { email },
          select: { id: true, email: true, posts: { select: { id: true, title: true }, orderBy: { id: 'asc' } }, _count: true },
        }),
      )
    },
    (r, w) => {
      const emails = [w.email(r), w.email(r)]
      return op(`user.count(email in ${emails})`, ['User'], (c) => c.user.count({ where: { email: { in: emails } } }))
    },
    (r, w) => {
      const email = w.email(r)
      return op(`user.findFirst(email ${email}) select name`, ['User'], (c) =>
        c.user.findFirst({ where: { email }, select: { id: true, name: true } }),
      )
    },
  ],
  // implicit many-to-many links of a post pinned by its id, and of a tag by its id or name
  tags: [
    (r, w) => {
      const id = w.id(r, 'post')
      return op(`post.findUnique({id:${id}}) select tags, _count tags`, ['Post', 'PostTag', 'Tag'], (c) =>
        c.post.findUnique({ where: { id }, select: { id: true, tags: { orderBy: { id: 'asc' } }, _count: { select: { tags: true } } } }),
      )
    },
    (r, w) => {
      const id = w.id(r, 'post')
      return op(`post.findUnique({id:${id}}) include tags`, ['Post', 'PostTag', 'Tag'], (c) =>
        c.post.findUnique({ where: { id }, include: { tags: { select: { id: true }, orderBy: { id: 'asc' } } } }),
      )
    },
    (r, w) => {
      const id = w.id(r, 'tag')
      return op(`tag.findUnique({id:${id}}) include posts`, ['Tag', 'PostTag', 'Post'], (c) =>
        c.tag.findUnique({ where: { id }, include: { posts: { select: { id: true, authorId: true }, orderBy: { id: 'asc' } } } }),
      )
    },
    (r) => {
      const name = r.pick(TAGS)
      return op(`tag.findUnique({name:${name}}) select _count posts`, ['Tag', 'PostTag', 'Post'], (c) =>
        c.tag.findUnique({ where: { name }, select: { id: true, _count: { select: { posts: true } } } }),
      )
    },
    (r, w) => {
      const ids = [w.id(r, 'post'), w.id(r, 'post')]
      return op(`post.findMany(id in ${ids}) select tags`, ['Post', 'PostTag', 'Tag'], (c) =>
        c.post.findMany({ where: { id: { in: ids } }, select: { id: true, tags: { select: { name: true }, orderBy: { id: 'asc' } } }, orderBy: { id: 'asc' } }),
      )
    },
  ],
  // the one-to-one Profile, its foreign key (userId) unique and on the child's side
  profile: [
    (r, w) => {
      const userId = w.id(r, 'user')
      return op(`profile.findUnique({userId:${userId}})`, ['Profile'], (c) => c.profile.findUnique({ where: { userId } }))
    },
    (r, w) => {
      const id = w.id(r, 'user')
      return op(`user.findUnique({id:${id}}) select profile`, ['User', 'Profile'], (c) =>
        c.user.findUnique({ where: { id }, select: { id: true, profile: { select: { bio: true, userId: true } } } }),
      )
    },
    (r, w) => {
      const email = w.email(r)
      return op(`user.findUnique({email:${email}}) include profile`, ['User', 'Profile'], (c) =>
        c.user.findUnique({ where: { email }, include: { profile: true } }),
      )
    },
    (r, w) => {
      const ids = [w.id(r, 'user'), w.id(r, 'user')]
      return op(`profile.findMany(userId in ${ids})`, ['Profile'], (c) =>
        c.profile.findMany({ where: { userId: { in: ids } }, orderBy: { id: 'asc' } }),
      )
    },
  ],
}

/** Every kind of read: the ones above and the row-level ones of every family. */
const ALL_READS: Kind[] = [...READS, ...FAMILIES.flatMap((f) => ROW_READS[f])]

// ---------------------------------------------------------------------------------------------
// Writes: every kind, nested writes, referential actions, transactions and raw SQL

class Rollback extends Error {}

const READ_OPERATIONS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy'])

const WRITES: Array<(r: Rng, w: World) => Op> = [
  (r, w) => {
    const email = w.uniqueEmail(r)
    const name = w.name(r)
    const withPosts = r.chance(0.5)
    const tagIds = w.ids(r, 'tag', 2)
    w.created('user')
    if (withPosts) w.created('post', 2)
    return op(`user.create(${email}, posts=${withPosts}, tags ${tagIds})`, ['User', 'Profile', 'Post', 'PostTag'], (c) =>
      c.user.create({
        data: {
          email,
          name,
          profile: r.chance(0.5) ? { create: { bio: `bio of ${name}` } } : undefined,
          posts: withPosts
            ? {
                create: [
                  { title: w.title(r), published: true, tags: { connect: tagIds.map((id) => ({ id })) } },
                  { title: w.title(r) },
                ],
              }
            : undefined,
        },
      }),
    )
  },
  (r, w) => {
    const id = w.id(r, 'user')
    const name = w.name(r)
    return op(`user.update({id:${id}}, name ${name})`, ['User'], (c) => c.user.update({ where: { id }, data: { name } }))
  },
  (r, w) => {
    const id = w.id(r, 'user')
    const kind = r.int(4)
    if (kind === 0) w.created('post')
    const prefix = r.pick(TITLES)
    const title = w.title(r)
    const published = r.chance(0.5)
    // posts.deleteMany cascades to the posts' comments and tag links
    const tables: Table[][] = [['User', 'Post'], ['User', 'Post'], ['User', 'Post', 'Comment', 'PostTag'], ['User', 'Profile']]
    return op(`user.update({id:${id}}) nested posts/profile #${kind}`, tables[kind]!, (c) =>
      c.user.update({
        where: { id },
        data:
          kind === 0
            ? { posts: { create: { title, published } } }
            : kind === 1
              ? { posts: { updateMany: { where: { title: { startsWith: prefix } }, data: { published } } } }
              : kind === 2
                ? { posts: { deleteMany: { published: false, title: { startsWith: prefix } } } }
                : { profile: { upsert: { create: { bio: title }, update: { bio: title } } } },
      }),
    )
  },
  (r, w) => {
    const email = w.email(r)
    const name = w.name(r)
    w.created('user')
    return op(`user.upsert(${email}, ${name})`, ['User'], (c) =>
      c.user.upsert({ where: { email }, create: { email, name }, update: { name } }),
    )
  },
  (r, w) => {
    const id = w.victim(r, 'user')
    // cascades to Profile, nulls Post.authorId and Comment.authorId
    return op(`user.delete({id:${id}})`, ['User', 'Profile', 'Post', 'Comment'], (c) => c.user.delete({ where: { id } }))
  },
  (r) => {
    const prefix = r.pick(NAMES)
    return op(`user.deleteMany(name^=${prefix}, no posts)`, ['User', 'Profile', 'Post', 'Comment'], (c) =>
      c.user.deleteMany({ where: { name: { startsWith: prefix }, posts: { none: {} } } }),
    )
  },
  (r, w) => {
    const authorId = w.id(r, 'user')
    const tag = r.pick(TAGS)
    const title = w.title(r)
    w.created('post')
    w.created('tag')
    return op(`post.create(author ${authorId}, tag ${tag})`, ['Post', 'Tag', 'PostTag'], (c) =>
      c.post.create({
        data: {
          title,
          published: r.chance(0.5),
          author: { connect: { id: authorId } },
          tags: { connectOrCreate: [{ where: { name: tag }, create: { name: tag } }] },
        },
      }),
    )
  },
  (r, w) => {
    const id = w.id(r, 'post')
    const tagIds = w.ids(r, 'tag', 3)
    const title = w.title(r)
    return op(`post.update({id:${id}}, title ${title}, tags set ${tagIds})`, ['Post', 'PostTag'], (c) =>
      c.post.update({ where: { id }, data: { title, tags: { set: tagIds.map((t) => ({ id: t })) } } }),
    )
  },
  (r, w) => {
    const id = w.id(r, 'post')
    return op(`post.update({id:${id}}) author disconnect`, ['Post'], (c) =>
      c.post.update({ where: { id }, data: { author: { disconnect: true } } }),
    )
  },
  (r, w) => {
    const id = w.id(r, 'post')
    const authorId = w.id(r, 'user')
    const body = w.text(r)
    w.created('comment')
    return op(`post.update({id:${id}}) comments create by ${authorId}`, ['Post', 'Comment'], (c) =>
      c.post.update({
        where: { id },
        data: { published: r.chance(0.5), comments: { create: { body, author: { connect: { id: authorId } } } } },
      }),
    )
  },
  (r, w) => {
    const authorId = w.id(r, 'user')
    const published = r.chance(0.5)
    return op(`post.updateMany(author ${authorId}, published ${published})`, ['Post'], (c) =>
      c.post.updateMany({ where: { authorId }, data: { published } }),
    )
  },
  (r, w) => {
    const ids = w.ids(r, 'post', 3)
    const title = w.title(r)
    // MySQL has no updateManyAndReturn: updateMany there (the same rows change)
    return op(`post.updateMany${supports.andReturn ? 'AndReturn' : ''}(${ids}, ${title})`, ['Post'], (c) =>
      supports.andReturn
        ? c.post.updateManyAndReturn({ where: { id: { in: ids } }, data: { title } })
        : c.post.updateMany({ where: { id: { in: ids } }, data: { title } }),
    )
  },
  (r, w) => {
    const id = w.victim(r, 'post')
    // cascades to its comments and its tag links
    return op(`post.delete({id:${id}})`, ['Post', 'Comment', 'PostTag'], (c) => c.post.delete({ where: { id } }))
  },
  (r) => {
    const prefix = r.pick(TITLES)
    return op(`post.deleteMany(unpublished ${prefix}*)`, ['Post', 'Comment', 'PostTag'], (c) =>
      c.post.deleteMany({ where: { published: false, title: { startsWith: prefix } } }),
    )
  },
  (r, w) => {
    const rows = Array.from({ length: r.between(1, 3) }, () => ({
      body: w.text(r),
      postId: w.id(r, 'post'),
      authorId: r.chance(0.7) ? w.id(r, 'user') : null,
    }))
    w.created('comment', rows.length)
    const andReturn = r.chance(0.5) && supports.andReturn
    return op(`comment.createMany${andReturn ? 'AndReturn' : ''}(${JSON.stringify(rows)})`, ['Comment'], (c) =>
      andReturn ? c.comment.createManyAndReturn({ data: rows }) : c.comment.createMany({ data: rows }),
    )
  },
  (r, w) => {
    const postId = w.id(r, 'post')
    return op(`comment.deleteMany(post ${postId})`, ['Comment'], (c) => c.comment.deleteMany({ where: { postId } }))
  },
  (r, w) => {
    const id = w.id(r, 'comment')
    const body = w.text(r)
    return op(`comment.update({id:${id}}, ${body})`, ['Comment'], (c) => c.comment.update({ where: { id }, data: { body } }))
  },
  (r, w) => {
    const name = r.pick(TAGS)
    const postIds = w.ids(r, 'post', 2)
    w.created('tag')
    return op(`tag.upsert(${name}) connect posts ${postIds}`, ['Tag', 'PostTag'], (c) =>
      c.tag.upsert({
        where: { name },
        create: { name, posts: { connect: postIds.map((id) => ({ id })) } },
        update: { posts: { connect: postIds.map((id) => ({ id })) } },
      }),
    )
  },
  (r, w) => {
    const id = w.victim(r, 'tag')
    return op(`tag.delete({id:${id}})`, ['Tag', 'PostTag'], (c) => c.tag.delete({ where: { id } }))
  },
]

const ROW_WRITES: Record<Family, Kind[]> = {
  author: [
    (r, w) => {
      const authorId = r.chance(0.15) ? null : w.id(r, 'user')
      const title = w.title(r)
      const published = r.chance(0.5)
      w.created('post')
      return op(`post.create(authorId ${authorId}, published ${published})`, ['Post'], (c) =>
        c.post.create({ data: { title, published, authorId } }),
      )
    },
    (r, w) => {
      const rows = Array.from({ length: r.between(1, 3) }, () => ({
        title: w.title(r),
        published: r.chance(0.5),
        authorId: r.chance(0.2) ? null : w.id(r, 'user'),
      }))
      w.created('post', rows.length)
      return op(`post.createMany(${JSON.stringify(rows)})`, ['Post'], (c) => c.post.createMany({ data: rows }))
    },
    (r, w) => {
      // an update by id that keeps the foreign key: the author's lists change through the post-image
      const id = w.id(r, 'post')
      const published = r.chance(0.5)
      const title = w.title(r)
      return op(`post.update({id:${id}}, published ${published}, title)`, ['Post'], (c) =>
        c.post.update({ where: { id }, data: { published, title }, select: { id: true } }),
      )
    },
    (r, w) => {
      // a foreign key changes: the post leaves one author's lists and counts and joins another's
      const id = w.id(r, 'post')
      const authorId = r.chance(0.2) ? null : w.id(r, 'user')
      const how = r.int(3)
      return op(`post.update({id:${id}}) move to author ${authorId} #${how}`, ['Post'], (c) =>
        c.post.update({
          where: { id },
          data:
            authorId === null
              ? how === 0
                ? { authorId: null }
                : { author: { disconnect: true } }
              : how === 0
                ? { authorId }
                : how === 1
                  ? { author: { connect: { id: authorId } } }
                  : { author: { connect: { email: `user${((authorId - 1) % 4) + 1}@example.com` } } },
        }),
      )
    },
    (r, w) => {
      // an id past the last row takes the create path; a live one the update path (a move)
      const id = r.chance(0.5) ? w.id(r, 'post') : w.top.post + 1
      const authorId = r.chance(0.2) ? null : w.id(r, 'user')
      const published = r.chance(0.5)
      const title = w.title(r)
      w.created('post')
      return op(`post.upsert({id:${id}}, author ${authorId}, published ${published})`, ['Post'], (c) =>
        c.post.upsert({ where: { id }, create: { title, authorId, published }, update: { authorId, published } }),
      )
    },
    (r, w) => {
      // nested, from the parent's side: the posts' foreign keys change, not the user's row
      const id = w.id(r, 'user')
      const postIds = w.ids(r, 'post', 2)
      const kind = r.int(4)
      const title = w.title(r)
      if (kind === 3) w.created('post')
      const ops = ['connect', 'disconnect', 'set', 'create'] as const
      const posts = postIds.map((p) => ({ id: p }))
      return op(`user.update({id:${id}}) posts ${ops[kind]} ${postIds}`, ['User', 'Post'], (c) =>
        c.user.update({
          where: { id },
          data: {
            posts:
              kind === 0
                ? { connect: posts }
                : kind === 1
                  ? { disconnect: posts }
                  : kind === 2
                    ? { set: posts }
                    : { create: { title, published: true } },
          },
        }),
      )
    },
  ],
  comments: [
    (r, w) => {
      const postId = w.id(r, 'post')
      const authorId = r.chance(0.3) ? null : w.id(r, 'user')
      const body = w.text(r)
      const nested = r.chance(0.5)
      w.created('comment')
      return op(`comment.create(post ${postId}, author ${authorId}${nested ? ', post connect' : ''})`, ['Comment'], (c) =>
        nested ? c.comment.create({ data: { body, post: { connect: { id: postId } } } }) : c.comment.create({ data: { body, postId, authorId } }),
      )
    },
    (r, w) => {
      const id = w.id(r, 'comment')
      const postId = w.id(r, 'post')
      const nested = r.chance(0.5)
      return op(`comment.update({id:${id}}) move to post ${postId}${nested ? ' (connect)' : ''}`, ['Comment'], (c) =>
        c.comment.update({ where: { id }, data: nested ? { post: { connect: { id: postId } } } : { postId } }),
      )
    },
    (r, w) => {
      const id = r.chance(0.5) ? w.id(r, 'comment') : w.top.comment + 1
      const postId = w.id(r, 'post')
      const body = w.text(r)
      w.created('comment')
      return op(`comment.upsert({id:${id}}, post ${postId})`, ['Comment'], (c) =>
        c.comment.upsert({ where: { id }, create: { body, postId }, update: { body, postId } }),
      )
    },
    (r, w) => {
      const id = w.victim(r, 'comment')
      return op(`comment.delete({id:${id}})`, ['Comment'], (c) => c.comment.delete({ where: { id } }))
    },
    (r, w) => {
      const from = w.id(r, 'post')
      const to = w.id(r, 'post')
      return op(`comment.updateMany(post ${from} -> post ${to})`, ['Comment'], (c) =>
        c.comment.updateMany({ where: { postId: from }, data: { postId: to } }),
      )
    },
    (r, w) => {
      const authorId = w.id(r, 'user')
      return op(`comment.deleteMany(author ${authorId})`, ['Comment'], (c) => c.comment.deleteMany({ where: { authorId } }))
    },
    (r, w) => {
      const id = w.id(r, 'post')
      const commentId = w.id(r, 'comment')
      return op(`post.update({id:${id}}) comments connect ${commentId}`, ['Post', 'Comment'], (c) =>
        c.post.update({ where: { id }, data: { comments: { connect: { id: commentId } } } }),
      )
    },
  ],
  email: [
    (r, w) => {
      // an email reads may have cached as null (or one taken: a unique violation)
      const email = w.email(r)
      const name = w.name(r)
      w.created('user')
      return op(`user.create(${email})`, ['User'], (c) => c.user.create({ data: { email, name } }))
    },
    (r, w) => {
      const emails = r.sample(POOL_EMAILS, r.between(1, 2))
      w.created('user', emails.length)
      const andReturn = r.chance(0.5) && supports.andReturn
      const data = emails.map((email) => ({ email, name: w.name(r) }))
      // SQLite has no skipDuplicates (not even `false`): there the same draws create all rows or fail on a taken email
      const skip: { skipDuplicates?: true } = provider === 'sqlite' ? {} : { skipDuplicates: true }
      return op(`user.createMany${andReturn ? 'AndReturn' : ''}(${emails}${'skipDuplicates' in skip ? ', skipDuplicates' : ''})`, ['User'], (c) =>
        andReturn ? c.user.createManyAndReturn({ data, ...skip }) : c.user.createMany({ data, ...skip }),
      )
    },
    (r, w) => {
      // a unique field changes: reads by the old email must see null, by the new one the row
      const id = w.id(r, 'user')
      const email = r.chance(0.6) ? w.email(r) : w.uniqueEmail(r)
      return op(`user.update({id:${id}}, email ${email})`, ['User'], (c) => c.user.update({ where: { id }, data: { email } }))
    },
    (r, w) => {
      const email = w.email(r)
      const name = w.name(r)
      return op(`user.update({email:${email}}, name ${name})`, ['User'], (c) => c.user.update({ where: { email }, data: { name } }))
    },
    (r, w) => {
      // the update path changes the unique key it was found by; the create path makes that key
      const email = w.email(r)
      const next = r.chance(0.5) ? w.email(r) : w.uniqueEmail(r)
      const name = w.name(r)
      w.created('user')
      return op(`user.upsert(${email} -> ${next})`, ['User'], (c) =>
        c.user.upsert({ where: { email }, create: { email, name }, update: { email: next } }),
      )
    },
    (r, w) => {
      // by email, cascading to the profile and nulling the posts' and comments' authorId
      const email = w.email(r)
      return op(`user.delete({email:${email}})`, ['User', 'Profile', 'Post', 'Comment'], (c) => c.user.delete({ where: { email } }))
    },
  ],
  tags: [
    (r, w) => {
      // implicit many-to-many links, by the tags' ids or by their names
      const id = w.id(r, 'post')
      const tagIds = w.ids(r, 'tag', 2)
      const byName = r.chance(0.3)
      const connect = r.chance(0.5)
      const targets = byName ? tagIds.map((t) => ({ name: TAGS[(t - 1) % TAGS.length]! })) : tagIds.map((t) => ({ id: t }))
      return op(`post.update({id:${id}}) tags ${connect ? 'connect' : 'disconnect'} ${JSON.stringify(targets)}`, ['Post', 'PostTag'], (c) =>
        c.post.update({ where: { id }, data: { tags: connect ? { connect: targets } : { disconnect: targets } }, select: { id: true } }),
      )
    },
    (r, w) => {
      const id = w.id(r, 'post')
      const tagIds = w.ids(r, 'tag', 3)
      return op(`post.update({id:${id}}) tags set ${tagIds}`, ['Post', 'PostTag'], (c) =>
        c.post.update({ where: { id }, data: { tags: { set: tagIds.map((t) => ({ id: t })) } } }),
      )
    },
    (r, w) => {
      const id = w.id(r, 'tag')
      const postIds = w.ids(r, 'post', 2)
      const kind = r.pick(['connect', 'disconnect', 'set'] as const)
      const posts = postIds.map((p) => ({ id: p }))
      return op(`tag.update({id:${id}}) posts ${kind} ${postIds}`, ['Tag', 'PostTag'], (c) =>
        c.tag.update({
          where: { id },
          data: { posts: kind === 'connect' ? { connect: posts } : kind === 'disconnect' ? { disconnect: posts } : { set: posts } },
        }),
      )
    },
    (r, w) => {
      const name = r.pick(TAGS)
      const postIds = w.ids(r, 'post', 2)
      w.created('tag')
      return op(`tag.create(${name}) posts connect ${postIds}`, ['Tag', 'PostTag'], (c) =>
        c.tag.create({ data: { name, posts: { connect: postIds.map((id) => ({ id })) } } }),
      )
    },
    (r, w) => {
      // a linked row's own content and unique key change (a rename), or it goes with its links
      const id = w.id(r, 'tag')
      const name = r.chance(0.5) ? r.pick(TAGS) : `tag-${r.int(1e6)}`
      const remove = r.chance(0.3)
      return op(remove ? `tag.delete({id:${id}})` : `tag.update({id:${id}}, name ${name})`, ['Tag', 'PostTag'], (c) =>
        remove ? c.tag.delete({ where: { id } }) : c.tag.update({ where: { id }, data: { name } }),
      )
    },
  ],
  profile: [
    (r, w) => {
      const userId = w.id(r, 'user')
      return op(`profile.delete({userId:${userId}})`, ['Profile'], (c) => c.profile.delete({ where: { userId } }))
    },
    (r, w) => {
      const id = w.id(r, 'user')
      const create = r.chance(0.5)
      const bio = w.text(r)
      return op(`user.update({id:${id}}) profile ${create ? 'create' : 'delete'}`, ['User', 'Profile'], (c) =>
        c.user.update({ where: { id }, data: { profile: create ? { create: { bio } } : { delete: true } } }),
      )
    },
    (r, w) => {
      const userId = w.id(r, 'user')
      const bio = w.text(r)
      return op(`profile.upsert({userId:${userId}}, ${bio})`, ['Profile'], (c) =>
        c.profile.upsert({ where: { userId }, create: { userId, bio }, update: { bio } }),
      )
    },
    (r, w) => {
      // its unique foreign key changes: the profile moves to another user (or collides)
      const userId = w.id(r, 'user')
      const to = w.id(r, 'user')
      return op(`profile.update({userId:${userId}}) move to user ${to}`, ['Profile'], (c) =>
        c.profile.update({ where: { userId }, data: { userId: to } }),
      )
    },
  ],
}

/** Every kind of write: the ones above and the row-level ones of every family. */
const ALL_WRITES: Kind[] = [...WRITES, ...FAMILIES.flatMap((f) => ROW_WRITES[f])]

/**
 * Writes that combine others: an interactive `$transaction` of 1–3 plain writes, with pauses
 * between them and before the commit (reads from outside run while its rows are written but not
 * yet visible), that commits or rolls back; an array `$transaction` of two; raw SQL. `undefined`
 * most of the time: then a plain write runs.
 */
function compound(
  r: Rng,
  w: World,
  pick: () => Op,
  report: (v: Violation) => void,
  remember: (read: Op) => void,
): (Op & { exclusive?: boolean }) | undefined {
  const kind = r.next()
  if (kind < 0.25) {
    const inner = Array.from({ length: r.between(1, 3) }, pick)
    const commit = r.chance(0.7)
    // inside, a read of a row the transaction wrote sees that write, never a cached entry
    const probe = r.chance(0.5) ? { id: w.id(r, 'user'), name: w.name(r) } : undefined
    // and no read from the transaction leaves its rows in the shared cache: the sweep re-reads it
    if (probe !== undefined) remember(userById(probe.id))
    // a rolled-back transaction never changes what another connection sees
    const tables = IN_ANY_TRANSACTION ?? (commit ? union(inner, probe ? ['User'] : []) : [])
    const label =
      `$transaction(${commit ? 'commit' : 'rollback'}: ${inner.map((o) => o.label).join('; ')}` +
      `${probe ? `; user.update({id:${probe.id}}, name ${probe.name}) then read it` : ''})`
    return {
      ...op(label, tables, (c, api) =>
        c.$transaction(async (tx) => {
          for (const o of inner) {
            await o.run(tx as unknown as Client, api)
            await pause(r)
          }
          if (probe !== undefined) {
            await tx.user.update({ where: { id: probe.id }, data: { name: probe.name } })
            await pause(r)
            const seen = await settle(() => tx.user.findUnique({ where: { id: probe.id } }))
            const expected = await settle(() => tx.$queryRaw`SELECT name FROM "User" WHERE id = ${probe.id}`)
            const name = (value: unknown) => (value as { name?: unknown } | null)?.name
            if (!seen.ok || name(seen.value) !== probe.name) {
              report({ where: 'read inside the transaction', label, cached: seen, direct: expected })
            }
          }
          // held open before the commit: other actors read the old rows meanwhile
          await linger(r)
          await linger(r)
          if (!commit) throw new Rollback('rolled back on purpose')
        }),
      ),
      exclusive: true,
    }
  }
  if (kind < 0.32) {
    const inner = [pick(), pick()]
    return op(`$transaction([${inner.map((o) => o.label).join('; ')}])`, IN_ANY_TRANSACTION ?? union(inner), (c, api) =>
      c.$transaction(inner.map((o) => o.run(c, api) as Prisma.PrismaPromise<unknown>)),
    )
  }
  if (kind < 0.4) {
    // raw SQL changes rows the cache cannot name: everything, or the models the caller names
    const raw = rawWrite(r, w)
    const named = r.chance(0.5)
    return op(`$executeRaw(${raw.label}${named ? `, affecting ${raw.models}` : ''})`, raw.tables, (c, api) =>
      named ? api.affecting(raw.models, () => raw.run(c)) : raw.run(c),
    )
  }
  return undefined
}

/** One raw statement: what it changes (tables), the models a caller names for it, and the statement. */
function rawWrite(r: Rng, w: World): { label: string; tables: Table[]; models: string[]; run: (c: Client) => Promise<number> } {
  const kind = r.int(5)
  if (kind === 0) {
    const id = r.between(1, 8)
    const title = w.title(r)
    return { label: `post ${id} title ${title}`, tables: ['Post'], models: ['Post'], run: (c) => c.$executeRaw`UPDATE "Post" SET title = ${title} WHERE id = ${id}` }
  }
  if (kind === 1) {
    const id = w.id(r, 'post')
    const authorId = w.id(r, 'user')
    return {
      label: `post ${id} moved to author ${authorId}`,
      tables: ['Post'],
      models: ['Post'],
      run: (c) => c.$executeRaw`UPDATE "Post" SET "authorId" = ${authorId} WHERE id = ${id} AND EXISTS (SELECT 1 FROM "User" WHERE id = ${authorId})`,
    }
  }
  if (kind === 2) {
    const id = w.id(r, 'comment')
    return { label: `delete comment ${id}`, tables: ['Comment'], models: ['Comment'], run: (c) => c.$executeRaw`DELETE FROM "Comment" WHERE id = ${id}` }
  }
  if (kind === 3) {
    const post = w.id(r, 'post')
    const tag = w.id(r, 'tag')
    const link = r.chance(0.5)
    return {
      label: `${link ? 'link' : 'unlink'} post ${post} tag ${tag}`,
      tables: ['PostTag'],
      models: ['Post', 'Tag'],
      run: (c) =>
        link
          ? c.$executeRaw`${rawSql.insertIgnore.insert} INTO "_PostToTag" ("A", "B") SELECT p.id, t.id FROM "Post" p, "Tag" t WHERE p.id = ${post} AND t.id = ${tag} ${rawSql.insertIgnore.onConflict}`
          : c.$executeRaw`DELETE FROM "_PostToTag" WHERE "A" = ${post} AND "B" = ${tag}`,
    }
  }
  const id = w.id(r, 'user')
  const email = r.chance(0.6) ? w.email(r) : w.uniqueEmail(r)
  return {
    label: `user ${id} email ${email}`,
    tables: ['User'],
    models: ['User'],
    // through a derived table: MariaDB refuses a subquery on the UPDATE's own table (error 1093)
    run: (c) => c.$executeRaw`UPDATE "User" SET email = ${email} WHERE id = ${id} AND NOT EXISTS (SELECT 1 FROM (SELECT email FROM "User") u WHERE u.email = ${email})`,
  }
}

function union(ops: readonly Op[], more: readonly Table[] = []): Table[] {
  return [...new Set([...ops.flatMap((o) => o.tables), ...more])]
}

/** Runs one task at a time, in call order. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    this.tail = result.catch(() => {})
    return result
  }
}

// ---------------------------------------------------------------------------------------------
// One run

/** A few rows of every model, in one transaction (ids start at 1: resetTables restarts them). */
async function seedRows(db: Client, world: World): Promise<void> {
  const users = [1, 2, 3, 4]
  const posts = [1, 2, 3, 4, 5, 6]
  const links = posts.flatMap((p) => [`(${p}, ${(p % 4) + 1})`, `(${p}, ${((p + 1) % 4) + 1})`])
  await db.$transaction([
    db.user.createMany({ data: users.map((i) => ({ email: `user${i}@example.com`, name: `${NAMES[i - 1]}0` })) }),
    db.profile.createMany({ data: [{ userId: 1, bio: 'bio 1' }, { userId: 3, bio: 'bio 3' }] }),
    db.tag.createMany({ data: TAGS.slice(0, 4).map((name) => ({ name })) }),
    db.post.createMany({
      data: posts.map((i) => ({ title: TITLES[i % TITLES.length]!, published: i % 3 !== 0, authorId: i === 6 ? null : (i % 4) + 1 })),
    }),
    db.comment.createMany({
      data: Array.from({ length: 8 }, (_, i) => ({ body: `seed ${i}`, postId: (i % 6) + 1, authorId: i % 3 ? (i % 4) + 1 : null })),
    }),
    db.$executeRawUnsafe(`INSERT INTO "_PostToTag" ("A", "B") VALUES ${links.join(', ')}`),
  ])
  world.created('user', users.length)
  world.created('tag', 4)
  world.created('post', posts.length)
  world.created('comment', 8)
  Object.assign(world.seeded, world.top)
}

interface Violation {
  where: string
  label: string
  cached: Outcome
  direct: Outcome
}

/** An actor's state across rounds: its random streams and the keys it read recently. */
interface Actor {
  index: number
  delays: Rng
  ops: Rng
  tail: { delays: Rng; ops: Rng }
  recent: Op[]
}

/** The caches of the run in progress, closed when it ends. */
const opened: CacheApi[] = []
/** The run in progress (settled: its outcome is its test's). */
let running: Promise<unknown> = Promise.resolve()

/** What the runs did, printed with INTERLEAVING_VERBOSE=1: how much the oracle got to judge. */
const stats = { runs: 0, reads: 0, quietReads: 0, sweptReads: 0, writes: 0, hitsL1: 0, writeErrors: {} as Record<string, number> }

async function run(seed: number, options: CacheOptions): Promise<void> {
  const db = ctx.db.prisma
  await resetTables(db)
  const world = new World()
  await seedRows(db, world)
  ctx.db.resetQueries()

  const rng = new Rng(seed)
  const delayed = db.$extends({
    query: {
      $allModels: {
        async $allOperations({ operation, args, query }) {
          // only the actors pause: seeding, oracle queries and sweeps run straight through
          const r = actorRng.getStore()
          if (r === undefined) return query(args)
          const isRead = READ_OPERATIONS.has(operation)
          // a pause before a write lets reads start after its first bump and query before it commits
          await (isRead ? pause(r) : linger(r))
          const result = await query(args)
          // a pause after a read's query lets a write commit between that query and the cache store
          await (isRead ? linger(r) : pause(r))
          return result
        },
      },
    },
  })
  const cached = delayed.$extends(withCache(options))
  const client = cached as unknown as Client
  const api = cached.$cache
  opened.push(api)

  // Each run works on a few kinds of reads and writes, so that keys are re-read and re-written
  // often, more of them from its focus family (reads and writes of the same rows and keys); the
  // seeds together cover every kind, and the final sweep replays every kind of read.
  const actors = rng.between(3, 5)
  const focus = rng.sample(FAMILIES, 2)
  const kinds = (plain: Kind[], rows: Record<Family, Kind[]>, n: number) => {
    const focused = focus.flatMap((f) => rows[f])
    const others = [...rng.sample(plain, n), ...rng.sample(FAMILIES.flatMap((f) => rows[f]), rng.between(1, 3))]
    // every kind of the focus families, each drawn three times as often as any other kind
    return [...new Set(others.filter((k) => !focused.includes(k))), ...focused, ...focused, ...focused]
  }
  const readKinds = kinds(READS, ROW_READS, rng.between(5, 10))
  const writeKinds = kinds(WRITES, ROW_WRITES, rng.between(5, 11))
  const rounds = rng.between(6, 10)
  const steps = rng.between(2, 4)
  const writeRate = rng.pick([0.15, 0.3, 0.5])
  const shape = `${actors} actors × ${rounds} rounds × ${steps} steps, write rate ${writeRate}, focus ${focus.join(' + ')}`

  const clock = new WriteClock<Table>()
  const oneTransactionAtATime = new Mutex()
  const violations: Violation[] = []
  const unexpected: string[] = []
  const replay = new Map<string, Op>()
  let round = new Map<string, Op>()
  const remember = (o: Op) => {
    replay.set(o.label, o)
    round.set(o.label, o)
  }

  const read = async (where: string, o: Op) => {
    remember(o)
    stats.reads++
    const judged = await clock.read(
      o.tables,
      () => o.run(client, api),
      () => o.run(db, api),
    )
    if (judged === undefined) return
    stats.quietReads++
    if (!deepEqual(judged.cached, judged.direct)) {
      violations.push({ where: `${where}, quiet read after ${judged.startAck} acknowledged writes`, label: o.label, ...judged })
    }
  }

  const write = async (where: string, o: Op & { exclusive?: boolean }) => {
    stats.writes++
    const go = () => clock.write(o.tables, () => o.run(client, api))
    const outcome = await (o.exclusive ? oneTransactionAtATime.run(go) : go())
    if (outcome.ok) return
    const kind = outcome.error.split(':')[0]!
    stats.writeErrors[kind] = (stats.writeErrors[kind] ?? 0) + 1
    // known request errors (missing rows, unique and foreign-key violations) and our own
    // rollbacks are part of the game; anything else is a broken test or a broken cache
    if (!/^P\d{4}$/.test(kind) && kind !== 'Rollback') unexpected.push(`${where}: ${o.label} -> ${outcome.error}`)
  }

  const team: Actor[] = Array.from({ length: actors }, (_, a) => ({
    index: a,
    delays: rng.fork(a),
    ops: rng.fork(100 + a),
    tail: { delays: rng.fork(200 + a), ops: rng.fork(300 + a) },
    recent: [],
  }))

  // an actor re-reads its own recent reads often, as applications re-read hot keys
  const pickRead = (r: Rng, w: World, recent: Op[], keep: boolean) => {
    const o = recent.length > 0 && r.chance(0.5) ? r.pick(recent) : r.pick(readKinds)(r, w)
    if (keep) recent.push(o)
    if (recent.length > 8) recent.shift()
    return o
  }

  let busy = 0
  // Each operation draws its pauses from a stream of its own (forked by position, not by how
  // many pauses came before): a hit takes none, a miss takes two, and which one a read gets
  // depends on timing; the pauses of later operations must not.
  const paused = <T>(stream: Rng, position: number, run: () => Promise<T>) => actorRng.run(stream.fork(position), run)

  const act = async (actor: Actor, w: World, first: number) => {
    const r = actor.ops
    busy++
    for (let step = first; step < first + steps; step++) {
      const where = `actor ${actor.index} step ${step}`
      if (r.chance(writeRate)) {
        const plain = () => r.pick(writeKinds)(r, w)
        const report = (v: Violation) => violations.push({ ...v, where: `${where}, ${v.where}` })
        const o = compound(r, w, plain, report, remember) ?? plain()
        await paused(actor.delays, step * 8, () => write(where, o))
        // read-your-writes: the writer re-reads a few of its recent reads at once, so that an
        // entry its write should have dropped is found before a later, wider write drops it
        const again = r.sample(actor.recent, 2)
        for (const [k, o] of again.entries()) await paused(actor.delays, step * 8 + 4 + k, () => read(`${where}, after its write`, o))
      } else if (r.chance(0.2)) {
        // a burst of concurrent reads: same-tick lookups, shared keys
        const burst = Array.from({ length: r.between(2, 4) }, () => pickRead(r, w, actor.recent, true))
        await Promise.all(burst.map((o, k) => paused(actor.delays, step * 8 + k, () => read(where, o))))
      } else {
        const o = pickRead(r, w, actor.recent, true)
        await paused(actor.delays, step * 8, () => read(where, o))
      }
      await pause(r)
    }
    busy--
    // Done with its steps, an actor keeps reading while others still write (a long transaction
    // held open, a write waiting on row locks) rather than idle until the round ends. How many
    // reads that takes depends on timing, so they draw from streams of their own and leave
    // `recent` alone: the steps of later rounds stay the same whatever the timing.
    for (let extra = 0; busy > 0 && extra < 12; extra++) {
      const o = pickRead(actor.tail.ops, w, actor.recent, false)
      await paused(actor.tail.delays, first * 16 + extra, () => read(`actor ${actor.index} after step ${first + steps - 1}`, o))
      await pause(actor.tail.ops)
    }
  }

  // Quiescent: every write is acknowledged, none runs. Each read, through the cache twice (a miss
  // then a hit, or two hits), must equal the database. Four keys at a time: nothing changes anyway.
  const sweep = async (where: string, ops: Iterable<Op>) => {
    const queue = [...ops]
    const worker = async () => {
      for (let o = queue.shift(); o !== undefined; o = queue.shift()) {
        const direct = await settle(() => o!.run(db, api))
        for (const pass of ['first', 'second']) {
          const fromCache = await settle(() => o!.run(client, api))
          stats.sweptReads++
          if (!deepEqual(fromCache, direct)) violations.push({ where: `${where}, ${pass} read`, label: o.label, cached: fromCache, direct })
        }
      }
    }
    await Promise.all([worker(), worker(), worker(), worker()])
  }

  // Rounds of concurrent actors, each ending when every actor is done, then a sweep of the reads
  // of the round: a stale entry, stored by a read that overlapped a write, is found there unless a
  // later write of the round dropped it first (and then a quiet read may have found it).
  for (let n = 0; n < rounds; n++) {
    round = new Map()
    const views = team.map(() => world.child())
    await Promise.all(team.map((actor, a) => act(actor, views[a]!, n * steps)))
    world.merge(views)
    await sweep(`sweep after round ${n}`, round.values())
  }

  // the final sweep adds every kind of read, including those this run did not use
  const finalRng = rng.fork(2000)
  for (const make of ALL_READS) remember(make(finalRng, world))
  await sweep('final sweep', replay.values())

  stats.runs++
  for (const m of Object.values(api.metrics().models)) stats.hitsL1 += m.hitsL1
  expect(unexpected, `seed ${seed} (${shape}): unexpected write errors`).toEqual([])
  expect(
    violations.slice(0, 3),
    `seed ${seed} (${shape}): ${violations.length} cached answers differ from the database (first 3 shown)`,
  ).toEqual([])
}

/** `toEqual`, as a predicate. */
function deepEqual(a: Outcome, b: Outcome): boolean {
  try {
    expect(a).toEqual(b)
    return true
  } catch {
    return false
  }
}

/** Removes the keys of one run, whatever the layout of keys under the namespace (SCAN, never KEYS). */
/** The run's keys, on every master; one UNLINK each (keys of several slots fail on a cluster). */
async function dropKeys(redis: Redis | Cluster, namespace: string): Promise<void> {
  for (const key of await scanKeys(redis, `*${namespace}[^0-9]*`)) await redis.unlink(key)
}

// ---------------------------------------------------------------------------------------------

describe.each(tiers.map((t, i) => ({ ...t, index: i })))('interleaved reads and writes, $name', (tier) => {
  for (const seed of seeds) {
    it(`${tier.name} seed ${seed}`, async () => {
      // a run that timed out goes on in the background; the next must not share its tables with it
      await running
      // each run removes its own keys as it ends (useRedis clears the rest after the file)
      const namespace = `${redisCtx.namespace}.${tier.index}.${seed}`
      const options = tier.options(namespace)
      const current = (async () => {
        try {
          await run(seed, options)
        } finally {
          // its bus subscription and summary timer: hundreds of seeds would otherwise pile them up
          for (const api of opened.splice(0)) api.close()
          if (options.redis !== undefined) await dropKeys(redisCtx.redis, namespace)
        }
      })()
      running = current.catch(() => {})
      await current
      // runs are bounded by their operations, not by time: this only stops one that hangs (a
      // long INTERLEAVING_SEEDS hunt on a loaded machine makes later seeds a few times slower)
    }, 120_000)
  }
})

afterAll(() => {
  if (process.env.INTERLEAVING_VERBOSE) console.log('interleaving:', stats)
})
