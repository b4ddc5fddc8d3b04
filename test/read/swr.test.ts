// Stale-while-revalidate, on an injected clock: an entry is fresh for `ttl`, then served stale for
// `swr` more while one refresh runs in the background; stale-if-error keeps serving it while the
// database fails; a value a write invalidated is never served, stale or not.
import { Redis } from 'ioredis'
import { beforeEach, describe, expect, it } from 'vitest'
import { withCache, type CacheOptions } from '../../src/index.js'
import { resetTables, useDatabase } from '../support/db.js'
import { scanKeys, useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
/** A namespace of its own for each test, under the file's (cleaned up after the file). */
const namespace = () => `${redisCtx.namespace}.${run++}`

const TTL_MS = 1_000
const SWR_MS = 60_000

let now = 0
/** While set, every query waits for it before it reaches the database. */
let gate: Promise<void> | undefined
/** While true, every query fails before it reaches the database. */
let failing = false
/** Queries that reached the test's database hook. */
let entered = 0
let warnings: string[] = []
/** Info lines, where a clean `$cache.close()` says its bus closed. */
let notices: string[] = []

const logger = {
  info: (_obj: object, msg?: string) => void notices.push(msg ?? ''),
  warn: (_obj: object, msg?: string) => void warnings.push(msg ?? ''),
  error: (_obj: object, msg?: string) => void warnings.push(msg ?? ''),
}

/** The database as the cache sees it: counted by `ctx.db`, held by `gate`, failed by `failing`. */
function database() {
  return ctx.db.prisma.$extends({
    query: {
      $allModels: {
        async $allOperations({ args, query }) {
          entered++
          if (gate !== undefined) await gate
          if (failing) throw new Error('database unavailable (test)')
          return query(args)
        },
      },
    },
  })
}

function cached(options: CacheOptions) {
  return database().$extends(withCache({ now: () => now, defaults: { ttl: TTL_MS / 1000, swr: SWR_MS / 1000 }, logger, ...options }))
}

/** Holds every query at the hook until the returned function is called. */
function hold(): () => void {
  let release!: () => void
  gate = new Promise<void>((resolve) => (release = resolve))
  return () => {
    gate = undefined
    release()
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`)
    await sleep(2)
  }
}

async function seed() {
  const ann = await ctx.db.prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  await ctx.db.prisma.post.create({ data: { title: 'first', authorId: ann.id } })
  return ann
}

/** Changes the row behind the cache's back (no invalidation): stale and fresh become visible. */
async function changeBehindTheCache(id: number, name: string) {
  await ctx.db.prisma.user.update({ where: { id }, data: { name } })
}

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
  now = 1_700_000_000_000
  gate = undefined
  failing = false
  entered = 0
  warnings = []
  notices = []
})

const tiers: Array<{ name: string; options: () => CacheOptions }> = [
  { name: 'L1 (no Redis)', options: () => ({}) },
  { name: 'L2 only (l1: false)', options: () => ({ redis: redisCtx.redis, namespace: namespace(), l1: false }) },
]

describe.each(tiers)('stale-while-revalidate in $name', ({ options }) => {
  it('serves an expired entry stale while exactly one refresh runs, then the refreshed value', async () => {
    const ann = await seed()
    const prisma = cached(options())
    const args = { where: { id: ann.id } }
    const name = async () => (await prisma.user.findUnique(args))!.name
    expect(await name()).toBe('Ann')
    now += TTL_MS - 1
    expect(await name()).toBe('Ann') // still fresh
    await changeBehindTheCache(ann.id, 'Ann 2')
    ctx.db.resetQueries()
    entered = 0

    now += 1 // exactly ttl: expired, within swr
    const release = hold()
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => prisma.user.findUnique(args)))
    expect(concurrent.map((user) => user!.name)).toEqual(Array(10).fill('Ann'))
    await until(() => entered === 1, 'the refresh to reach the database')
    for (let i = 0; i < 5; i++) expect(await name()).toBe('Ann') // while it runs, still stale
    const during = prisma.$cache.metrics().models.User!
    expect(during.stale + during.coalesced).toBe(15)
    expect(during.misses).toBe(1) // the fill; the refresh is not a caller's miss
    release()

    await until(async () => (await name()) === 'Ann 2', 'the refreshed value')
    expect(ctx.db.queries()).toBe(1)
    expect(entered).toBe(1)
    expect(await name()).toBe('Ann 2') // fresh again: no further query
    expect(ctx.db.queries()).toBe(1)
    expect(prisma.$cache.metrics().models.User!.refreshErrors).toBe(0)
  })

  it('stale-if-error: while the database fails, serves the stale value, counts each failed refresh, and recovers', async () => {
    const ann = await seed()
    const prisma = cached(options())
    const args = { where: { id: ann.id } }
    const name = async () => (await prisma.user.findUnique(args))!.name
    expect(await name()).toBe('Ann')
    await changeBehindTheCache(ann.id, 'Ann 2')

    now += TTL_MS
    failing = true
    for (let attempt = 1; attempt <= 3; attempt++) {
      await expect(name()).resolves.toBe('Ann')
      await until(() => prisma.$cache.metrics().models.User!.refreshErrors === attempt, `failed refresh ${attempt} to be counted`)
    }
    const concurrent = await Promise.allSettled(Array.from({ length: 10 }, () => prisma.user.findUnique(args)))
    expect(concurrent.map((r) => (r.status === 'fulfilled' ? r.value!.name : r.reason))).toEqual(Array(10).fill('Ann'))
    await until(() => prisma.$cache.metrics().models.User!.refreshErrors === 4, 'the refresh of the concurrent reads to fail')
    expect(warnings.filter((msg) => msg.includes('refresh failed'))).toHaveLength(4)

    failing = false
    await until(async () => (await name()) === 'Ann 2', 'a refresh to succeed once the database is back')
    expect(prisma.$cache.metrics().models.User!.refreshErrors).toBe(4)
  })

  it.each([
    ['while fresh', 0],
    ['while stale', TTL_MS],
  ])(
    'never serves, not even as stale or on a database error, a value that a write through the cache invalidated (%s)',
    async (_when, writeAt) => {
      const ann = await seed()
      const prisma = cached(options())
      const args = { where: { id: ann.id }, include: { posts: { orderBy: { id: 'asc' as const } } } }
      expect((await prisma.user.findUnique(args))!.posts).toHaveLength(1)
      const byName = { where: { id: ann.id } }
      expect((await prisma.user.findUnique(byName))!.name).toBe('Ann')

      now += writeAt
      await prisma.user.update({ where: { id: ann.id }, data: { name: 'Ann 2' } })
      await prisma.post.create({ data: { title: 'second', authorId: ann.id } })
      now += TTL_MS // whichever way, both entries are now within their swr window

      failing = true
      await expect(prisma.user.findUnique(byName)).rejects.toThrow('database unavailable (test)')
      await expect(prisma.user.findUnique(args)).rejects.toThrow('database unavailable (test)')
      failing = false
      expect((await prisma.user.findUnique(byName))!.name).toBe('Ann 2')
      expect((await prisma.user.findUnique(args))!.posts.map((p) => p.title)).toEqual(['first', 'second'])
      expect(prisma.$cache.metrics().models.User!.stale).toBe(0)
    },
  )

  it('after the swr window, an expired entry is a miss', async () => {
    const ann = await seed()
    const prisma = cached(options())
    const args = { where: { id: ann.id } }
    expect((await prisma.user.findUnique(args))!.name).toBe('Ann')
    await changeBehindTheCache(ann.id, 'Ann 2')
    ctx.db.resetQueries()

    now += TTL_MS + SWR_MS
    expect((await prisma.user.findUnique(args))!.name).toBe('Ann 2')
    expect(ctx.db.queries()).toBe(1)
    expect(prisma.$cache.metrics().models.User).toMatchObject({ stale: 0, misses: 2 })
  })
})

describe('stale-while-revalidate across clients sharing Redis (as processes do)', () => {
  /**
   * Records `redis`'s lease attempts (the lease script, src/tiers/lua/lease-2.lua; replies in order, as
   * `taken`) and, while `held` is set, holds each one back before it is sent. Call it after the
   * cached client is built: that registers the script on `redis`.
   */
  function leaseAttempts(redis: Redis) {
    const state = { replies: [] as Array<Promise<boolean>>, held: undefined as Promise<void> | undefined }
    const target = redis as unknown as Record<string, (...args: unknown[]) => Promise<[number, number]>>
    const lease = target.ptc_lease_v1!.bind(redis)
    target.ptc_lease_v1 = (...args: unknown[]) => {
      const reply = (state.held ?? Promise.resolve()).then(() => lease(...args))
      state.replies.push(reply.then(([taken]) => taken === 1))
      return reply
    }
    return state
  }


  it('L2 only: two clients serve the stale value and refresh it once between them (the lease)', async () => {
    const ann = await seed()
    const ns = namespace()
    const secondRedis = new Redis(redisCtx.url)
    try {
      const first = cached({ redis: redisCtx.redis, namespace: ns, l1: false })
      const second = cached({ redis: secondRedis, namespace: ns, l1: false })
      const leases = leaseAttempts(secondRedis)
      const args = { where: { id: ann.id } }
      expect((await first.user.findUnique(args))!.name).toBe('Ann')
      await changeBehindTheCache(ann.id, 'Ann 2')
      ctx.db.resetQueries()
      entered = 0

      now += TTL_MS
      const release = hold()
      expect((await first.user.findUnique(args))!.name).toBe('Ann')
      await until(() => entered === 1, "the first client's refresh to reach the database")
      expect((await second.user.findUnique(args))!.name).toBe('Ann')
      // the second client's refresh tried the lease and found it taken
      await until(() => leases.replies.length === 1, "the second client's refresh to try the lease")
      expect(await leases.replies[0]).toBe(false)
      release()

      // polled through the refreshing client: its reads start no refresh while its own one runs
      await until(async () => (await first.user.findUnique(args))!.name === 'Ann 2', 'the refreshed value')
      expect((await second.user.findUnique(args))!.name).toBe('Ann 2')
      expect(ctx.db.queries()).toBe(1)
      expect(entered).toBe(1)
    } finally {
      secondRedis.disconnect()
    }
  })

  it('L2 only: a refresh that wins the lease just after another client refreshed the entry does not query again', async () => {
    const ann = await seed()
    const ns = namespace()
    const secondRedis = new Redis(redisCtx.url)
    try {
      const first = cached({ redis: redisCtx.redis, namespace: ns, l1: false })
      // a generous timeout: the held-back lease attempt must not pass for Redis being down
      const second = cached({ redis: secondRedis, namespace: ns, l1: false, redisTimeoutMs: 10_000 })
      const leases = leaseAttempts(secondRedis)
      const args = { where: { id: ann.id } }
      const name = async (client: typeof first) => (await client.user.findUnique(args))!.name
      expect(await name(first)).toBe('Ann')
      await changeBehindTheCache(ann.id, 'Ann 2')
      ctx.db.resetQueries()
      entered = 0

      now += TTL_MS
      const releaseDatabase = hold()
      expect(await name(first)).toBe('Ann') // stale; its refresh takes the lease and queries (held)
      await until(() => entered === 1, "the first client's refresh to reach the database")
      let releaseLease!: () => void
      leases.held = new Promise<void>((resolve) => (releaseLease = resolve))
      expect(await name(second)).toBe('Ann') // stale; its refresh has looked the entry up and goes for the lease
      await until(() => leases.replies.length === 1, "the second client's refresh to try the lease")
      releaseDatabase()
      await until(async () => (await name(first)) === 'Ann 2', "the first client's refresh to store its value")
      await until(async () => (await scanKeys(redisCtx.redis, `${ns}:*:lease`)).length === 0, 'the first client to release the lease')
      releaseLease()
      expect(await leases.replies[0]).toBe(true) // the lease was free again: the second refresh has it
      await until(async () => (await scanKeys(redisCtx.redis, `${ns}:*:lease`)).length === 0, 'the second client to release the lease')
      // the entry it would refresh is fresh by now: nothing to query
      expect(ctx.db.queries()).toBe(1)
      expect(entered).toBe(1)
    } finally {
      secondRedis.disconnect()
    }
  })

  it('L1 + L2: a client whose L1 entry went stale takes the value another client already refreshed, without a query', async () => {
    const ann = await seed()
    const ns = namespace()
    const first = cached({ redis: redisCtx.redis, namespace: ns })
    const second = cached({ redis: redisCtx.redis, namespace: ns })
    try {
      await Promise.all([first.$cache.ready(), second.$cache.ready()])
      const args = { where: { id: ann.id } }
      const name = async (client: typeof first) => (await client.user.findUnique(args))!.name
      expect(await name(first)).toBe('Ann')
      expect(await name(second)).toBe('Ann') // from L2, into its L1
      expect(second.$cache.metrics().models.User).toMatchObject({ hitsL2: 1, misses: 0 })
      await changeBehindTheCache(ann.id, 'Ann 2')
      ctx.db.resetQueries()

      now += TTL_MS
      expect(await name(first)).toBe('Ann') // stale; its refresh queries once and stores in L2
      await until(async () => (await name(first)) === 'Ann 2', "the first client's refresh")
      expect(ctx.db.queries()).toBe(1)

      expect(await name(second)).toBe('Ann') // its own L1 entry: stale, and it refreshes
      await until(async () => (await name(second)) === 'Ann 2', "the second client's refresh")
      expect(ctx.db.queries()).toBe(1) // L2 had the fresh value: no second query
    } finally {
      first.$cache.close()
      second.$cache.close()
    }
  })

  it("strict L1 never serves as stale a value another client's write invalidated, even without the bus", async () => {
    const ann = await seed()
    const ns = namespace()
    const writer = cached({ redis: redisCtx.redis, namespace: ns })
    const reader = cached({ redis: redisCtx.redis, namespace: ns, l1: { consistency: 'strict', degradedTtlMs: 600_000 } })
    try {
      await Promise.all([writer.$cache.ready(), reader.$cache.ready()])
      reader.$cache.close()
      await until(() => notices.some((msg) => msg.includes('bus closed')), 'the reader to notice its bus is gone')
      const args = { where: { id: ann.id } }
      const name = async () => (await reader.user.findUnique(args))!.name
      expect(await name()).toBe('Ann')
      expect(await name()).toBe('Ann')
      expect(reader.$cache.metrics().models.User).toMatchObject({ hitsL1: 1 }) // a strict L1 hit

      await writer.user.update({ where: { id: ann.id }, data: { name: 'Ann 2' } })
      expect(await name()).toBe('Ann 2') // fresh entry: checked against Redis, so not served
      now += TTL_MS - 1
      expect(await name()).toBe('Ann 2')
      await writer.user.update({ where: { id: ann.id }, data: { name: 'Ann 3' } })
      now += 1 // the entry ('Ann 2') is now stale: it must be checked all the same
      expect(await name()).toBe('Ann 3')
    } finally {
      writer.$cache.close()
      reader.$cache.close()
    }
  })
})
