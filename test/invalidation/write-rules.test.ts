import { Cluster, Redis } from 'ioredis'
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { CacheConfigError, type CacheOptions } from '../../src/index.js'
import type { WriteEvent } from '../../src/config/options.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { onCluster, useRedis } from '../support/redis.js'

/*
 * Write-triggered rules (`models.<Model>.invalidates`): what a write drops besides what the schema
 * says it changes. Rules exist for what the schema cannot see; here, a trigger that keeps each
 * user's post count in `User.name`, so a Post write changes User rows behind Prisma's back.
 *
 * Every scenario runs twice: on L1 alone (one client), and on L2 alone, where the reads go through a
 * second client on the same namespace (another process), so only Redis can tell it what was dropped.
 */

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
const namespace = () => `${redisCtx.namespace}.${run++}`

beforeAll(async () => {
  await ctx.db.prisma.$executeRawUnsafe(`
    CREATE FUNCTION post_count_in_user_name() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE "User" SET name = (SELECT count(*) FROM "Post" WHERE "authorId" = NEW."authorId") || ' posts'
        WHERE id = NEW."authorId";
      END IF;
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE "User" SET name = (SELECT count(*) FROM "Post" WHERE "authorId" = OLD."authorId") || ' posts'
        WHERE id = OLD."authorId";
      END IF;
      RETURN NULL;
    END $$`)
  await ctx.db.prisma.$executeRawUnsafe(`
    CREATE TRIGGER post_count_in_user_name AFTER INSERT OR UPDATE OR DELETE ON "Post"
    FOR EACH ROW EXECUTE FUNCTION post_count_in_user_name()`)
})

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
})

async function seed() {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  const bob = await db.user.create({ data: { email: 'bob@example.com', name: 'Bob' } })
  const annPost = await db.post.create({ data: { title: 'ann 1', published: true, authorId: ann.id } })
  const bobPost = await db.post.create({ data: { title: 'bob 1', published: false, authorId: bob.id } })
  const annDraft = await db.post.create({ data: { title: 'ann 2', published: false, authorId: ann.id } })
  await db.comment.create({ data: { body: 'on ann 1', postId: annPost.id, authorId: bob.id } })
  await db.comment.create({ data: { body: 'on bob 1', postId: bobPost.id, authorId: ann.id } })
  await db.tag.create({ data: { name: 'news' } })
  await db.tag.create({ data: { name: 'tech' } })
  ctx.db.resetQueries()
  return { ann, bob, annPost, bobPost, annDraft }
}

type Cached = ReturnType<typeof cachedClient>
const TIERS = [['L1'], ['L2 only']] as const
type Tier = (typeof TIERS)[number][0]

/** The writing client, and the client reads go through (the same one on L1, another on L2). */
function clients(tier: Tier, options: CacheOptions): { writer: Cached; reader: Cached } {
  if (tier === 'L1') {
    const client = cachedClient(ctx.db.prisma, options)
    return { writer: client, reader: client }
  }
  // a generous timeout: on a busy machine a slow reply would turn an expected hit into a miss
  const shared: CacheOptions = { ...options, redis: redisCtx.redis, namespace: namespace(), l1: false, redisTimeoutMs: 5_000 }
  return { writer: cachedClient(ctx.db.prisma, shared), reader: cachedClient(ctx.db.prisma, shared) }
}

/** Whether a read reached PostgreSQL (a cache miss), and what it returned. */
async function served<T>(read: () => PromiseLike<T>): Promise<{ value: T; fromDb: boolean }> {
  const before = ctx.db.queries()
  const value = await read()
  return { value, fromDb: ctx.db.queries() > before }
}

/** Bounded polling for what rules do in the background (pattern drops): true once `read` misses. */
async function eventuallyFromDb(read: () => PromiseLike<unknown>, tries = 200): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if ((await served(read)).fromDb) return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return false
}

const db = () => ctx.db.prisma

describe('tag templates filled from the written row', () => {
  const rules: CacheOptions = { models: { Post: { invalidates: { tags: ['post:{id}', 'user:{authorId}'] } } } }

  it.each(TIERS)('%s: a Post write drops the tags of its author and of itself, and no others', async (tier) => {
    const { ann, bob, annPost, bobPost, annDraft } = await seed()
    const { writer, reader } = clients(tier, rules)
    const user = (id: number) => () => reader.user.findUnique({ where: { id }, cacheStrategy: { tags: [`user:${id}`] } })
    const comments = (postId: number) => () =>
      reader.comment.findMany({ where: { postId }, orderBy: { id: 'asc' }, cacheStrategy: { tags: [`post:${postId}`] } })
    const all: Array<() => PromiseLike<unknown>> = [user(ann.id), user(bob.id), comments(annPost.id), comments(bobPost.id)]
    for (const read of all) await read()
    for (const read of all) expect((await served(read)).fromDb).toBe(false)

    // create: the trigger renamed Ann; only 'user:<ann>' tells the cache
    await writer.post.create({ data: { title: 'ann 3', authorId: ann.id } })
    let annRead = await served(user(ann.id))
    expect(annRead.fromDb).toBe(true)
    expect(annRead.value).toEqual(await db().user.findUnique({ where: { id: ann.id } }))
    expect(annRead.value!.name).toBe('3 posts')
    expect((await served(user(bob.id))).fromDb).toBe(false)
    expect((await served(comments(annPost.id))).fromDb).toBe(false)
    expect((await served(comments(bobPost.id))).fromDb).toBe(false)

    // update: 'post:<id>' from the where, 'user:<authorId>' from the returned row
    await writer.post.update({ where: { id: annPost.id }, data: { title: 'ann 1, edited' } })
    expect((await served(comments(annPost.id))).fromDb).toBe(true)
    expect((await served(comments(bobPost.id))).fromDb).toBe(false)
    expect((await served(user(ann.id))).fromDb).toBe(true)
    expect((await served(user(bob.id))).fromDb).toBe(false)

    // delete: from the deleted row
    await writer.post.delete({ where: { id: annDraft.id } })
    annRead = await served(user(ann.id))
    expect(annRead.fromDb).toBe(true)
    expect(annRead.value!.name).toBe('2 posts')
    expect(annRead.value).toEqual(await db().user.findUnique({ where: { id: ann.id } }))
    expect((await served(user(bob.id))).fromDb).toBe(false)

    // and the other way round (the delete cascaded to Comment: warm its reads again first)
    for (const read of all) await read()
    await writer.post.update({ where: { id: bobPost.id }, data: { published: true } })
    expect((await served(user(bob.id))).fromDb).toBe(true)
    expect((await served(user(ann.id))).fromDb).toBe(false)
    expect((await served(comments(bobPost.id))).fromDb).toBe(true)
    expect((await served(comments(annPost.id))).fromDb).toBe(false)
    for (const read of all) await read()
    expect(await user(ann.id)()).toEqual(await db().user.findUnique({ where: { id: ann.id } }))
    expect(await user(bob.id)()).toEqual(await db().user.findUnique({ where: { id: bob.id } }))
  })

  // The written row names the new author only. The old one is not in the write's arguments or
  // result, so the rule must drop it some other way (read it first, or drop every 'user:*' as for
  // a template the write cannot fill). On L1 that is immediate; through Redis a pattern drop is
  // only eventual, so the L2 variant polls (bounded) for the old author's tag to be dropped.
  it.each(TIERS)('%s: a post moved to another author drops the previous author\'s tag too', async (tier) => {
    const { ann, bob, annDraft } = await seed()
    const { writer, reader } = clients(tier, rules)
    const user = (id: number) => () => reader.user.findUnique({ where: { id }, cacheStrategy: { tags: [`user:${id}`] } })
    expect((await user(ann.id)())!.name).toBe('2 posts')
    expect((await user(bob.id)())!.name).toBe('1 posts')
    await writer.post.update({ where: { id: annDraft.id }, data: { authorId: bob.id } })
    // the trigger recounted both authors
    const annNow = await db().user.findUnique({ where: { id: ann.id } })
    expect(annNow!.name).toBe('1 posts')
    expect(await user(bob.id)()).toEqual(await db().user.findUnique({ where: { id: bob.id } }))
    if (tier === 'L1') {
      expect(await user(ann.id)()).toEqual(annNow)
    } else {
      expect(await eventuallyFromDb(user(ann.id))).toBe(true)
      expect(await user(ann.id)()).toEqual(annNow)
    }
  })

  it.each(TIERS)('%s: an updateMany whose where does not name the id drops every post:* tag (in the background)', async (tier) => {
    const { ann, annPost, bobPost } = await seed()
    const { writer, reader } = clients(tier, { models: { Post: { invalidates: { tags: ['post:{id}'] } } } })
    const comments = (postId: number) => () =>
      reader.comment.findMany({ where: { postId }, orderBy: { id: 'asc' }, cacheStrategy: { tags: [`post:${postId}`] } })
    const unrelated = () => reader.comment.count({ cacheStrategy: { tags: [`user:${ann.id}`] } })
    const reads: Array<() => PromiseLike<unknown>> = [comments(annPost.id), comments(bobPost.id), unrelated]
    for (const read of reads) await read()

    // naming the id, the template is filled: that post's tag only, at once
    await writer.post.updateMany({ where: { id: annPost.id }, data: { content: 'one' } })
    expect((await served(comments(annPost.id))).fromDb).toBe(true)
    expect((await served(comments(bobPost.id))).fromDb).toBe(false)

    // otherwise every tag the template could name: a pattern, applied in the background
    await writer.post.updateMany({ where: { published: false }, data: { content: 'bulk' } })
    expect(await eventuallyFromDb(comments(annPost.id))).toBe(true)
    expect(await eventuallyFromDb(comments(bobPost.id))).toBe(true)
    expect((await served(unrelated)).fromDb).toBe(false)
  })
})

describe('tags computed by a function', () => {
  it.each(TIERS)('%s: drops what the function returns for each write, nothing when it returns nothing', async (tier) => {
    const { ann, bobPost } = await seed()
    const seen: WriteEvent[] = []
    const { writer, reader } = clients(tier, {
      models: {
        Post: {
          invalidates: {
            tags: [
              (write) => {
                seen.push(write)
                const row = write.result as { published?: boolean; authorId?: number } | undefined
                return row?.published ? ['feed:public', `feed:author:${row.authorId}`] : undefined
              },
            ],
          },
        },
      },
    })
    const publicFeed = () => reader.tag.findMany({ orderBy: { id: 'asc' }, cacheStrategy: { tags: ['feed:public'] } })
    const annFeed = () => reader.tag.count({ cacheStrategy: { tags: [`feed:author:${ann.id}`] } })
    await publicFeed()
    await annFeed()

    await writer.post.create({ data: { title: 'draft', authorId: ann.id } })
    expect((await served(publicFeed)).fromDb).toBe(false)
    expect((await served(annFeed)).fromDb).toBe(false)
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ model: 'Post', operation: 'create', args: { data: { title: 'draft', authorId: ann.id } } })
    expect(seen[0]!.result).toMatchObject({ title: 'draft', published: false })

    await writer.post.update({ where: { id: bobPost.id }, data: { published: true } })
    expect((await served(publicFeed)).fromDb).toBe(true)
    expect((await served(annFeed)).fromDb).toBe(false)

    await writer.post.create({ data: { title: 'public', published: true, authorId: ann.id } })
    expect((await served(publicFeed)).fromDb).toBe(true)
    expect((await served(annFeed)).fromDb).toBe(true)
    expect(await publicFeed()).toEqual(await db().tag.findMany({ orderBy: { id: 'asc' } }))
  })
})

describe('models a write invalidates', () => {
  it.each(TIERS)('%s: models: [\'Tag\'] drops Tag reads on a Post write the schema alone would keep', async (tier) => {
    const { annPost } = await seed()
    const { writer, reader } = clients(tier, { models: { Post: { invalidates: { models: ['Tag'] } } } })
    const control = clients(tier, {})
    const tags = (client: Cached) => () => client.tag.findMany({ orderBy: { id: 'asc' } })
    await tags(reader)()
    await tags(control.reader)()

    await writer.post.update({ where: { id: annPost.id }, data: { title: 'retitled' } })
    await control.writer.post.update({ where: { id: annPost.id }, data: { title: 'retitled again' } })
    expect((await served(tags(reader))).fromDb).toBe(true)
    expect((await served(tags(control.reader))).fromDb).toBe(false) // the schema: a title is not a Tag
    expect(await tags(reader)()).toEqual(await db().tag.findMany({ orderBy: { id: 'asc' } }))
    expect(reader.$cache.metrics().models.Tag).toMatchObject({ misses: 2 })
  })
})

describe('patterns', () => {
  it.each(TIERS)('%s: patterns: [\'feed:*\'] drops every matching tag, eventually, and no other', async (tier) => {
    const { ann, annPost } = await seed()
    const { writer, reader } = clients(tier, { models: { Post: { invalidates: { patterns: ['feed:*'] } } } })
    const home = () => reader.tag.findMany({ orderBy: { id: 'asc' }, cacheStrategy: { tags: ['feed:home'] } })
    const userFeed = () => reader.tag.count({ cacheStrategy: { tags: [`feed:user:${ann.id}`] } })
    const news = () => reader.tag.findMany({ orderBy: { id: 'desc' }, cacheStrategy: { tags: ['news:home'] } })
    const reads: Array<() => PromiseLike<unknown>> = [home, userFeed, news]
    for (const read of reads) await read()
    for (const read of reads) expect((await served(read)).fromDb).toBe(false)

    await writer.post.update({ where: { id: annPost.id }, data: { title: 'in every feed' } })
    expect(await eventuallyFromDb(home)).toBe(true)
    expect(await eventuallyFromDb(userFeed)).toBe(true)
    expect((await served(news)).fromDb).toBe(false)
    expect(await home()).toEqual(await db().tag.findMany({ orderBy: { id: 'asc' } }))
  })
})

describe('patterns through a client with keyPrefix', () => {
  it('patterns drop the prefixed tag counters (ioredis does not prefix SCAN patterns)', async () => {
    const { annPost } = await seed()
    const prefixed = onCluster
      ? new Cluster(inject('clusterNodes'), { keyPrefix: `${redisCtx.namespace}.kp:` })
      : new Redis(redisCtx.url, { keyPrefix: `${redisCtx.namespace}.kp:` })
    try {
      const shared: CacheOptions = { redis: prefixed, namespace: namespace(), l1: false, redisTimeoutMs: 5_000, models: { Post: { invalidates: { patterns: ['feed:*'] } } } }
      const writer = cachedClient(ctx.db.prisma, shared)
      const reader = cachedClient(ctx.db.prisma, shared)
      const home = () => reader.tag.findMany({ orderBy: { id: 'asc' }, cacheStrategy: { tags: ['feed:home'] } })
      const news = () => reader.tag.findMany({ orderBy: { id: 'desc' }, cacheStrategy: { tags: ['news:home'] } })
      for (const read of [home, news]) await read()
      for (const read of [home, news]) expect((await served(read)).fromDb).toBe(false)
      await writer.post.update({ where: { id: annPost.id }, data: { title: 'in every feed' } })
      expect(await eventuallyFromDb(home)).toBe(true)
      expect((await served(news)).fromDb).toBe(false)
      writer.$cache.close()
      reader.$cache.close()
    } finally {
      prefixed.disconnect()
    }
  })
})

describe('invalid rules', () => {
  /** The error `$extends(withCache(options))` throws. */
  function configError(options: unknown): CacheConfigError {
    try {
      cachedClient(ctx.db.prisma, options as CacheOptions)
    } catch (error) {
      expect(error).toBeInstanceOf(CacheConfigError)
      return error as CacheConfigError
    }
    throw new Error('no error thrown')
  }

  it('rejects, at $extends, an unknown model in invalidates.models', () => {
    const error = configError({ models: { Post: { invalidates: { models: ['Nope'] } } } })
    expect(error.option).toBe('models.Post.invalidates.models')
    expect(error.message).toMatch(/Nope/)
  })

  it('rejects tags, models or patterns that are not arrays', () => {
    expect(configError({ models: { Post: { invalidates: { tags: 'post:{id}' } } } }).option).toBe('models.Post.invalidates.tags')
    expect(configError({ models: { Post: { invalidates: { models: 'Tag' } } } }).option).toBe('models.Post.invalidates.models')
    expect(configError({ models: { Post: { invalidates: { patterns: 'feed:*' } } } }).option).toBe('models.Post.invalidates.patterns')
    expect(configError({ models: { Post: { invalidates: 'Tag' } } }).option).toBe('models.Post.invalidates')
  })

  it('rejects tags that are neither non-empty strings nor functions', () => {
    expect(configError({ models: { Post: { invalidates: { tags: [''] } } } }).option).toBe('models.Post.invalidates.tags')
    expect(configError({ models: { Post: { invalidates: { tags: [42] } } } }).option).toBe('models.Post.invalidates.tags')
  })

  it('rejects patterns that are not strings (a RegExp would silently never match)', () => {
    expect(configError({ models: { Post: { invalidates: { patterns: [/feed:.*/] } } } }).option).toBe(
      'models.Post.invalidates.patterns',
    )
  })
})
