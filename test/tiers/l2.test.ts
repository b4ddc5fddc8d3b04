import { beforeEach, describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { decode, encode } from '../../src/codec/codec.js'
import { withCache } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { scanKeys, useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
/** A namespace of its own for each test, under the file's (cleaned up after the file). */
const namespace = () => `${redisCtx.namespace}.${run++}`

async function seed() {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  for (let i = 0; i < 3; i++) await db.post.create({ data: { title: `post ${i}`, published: i !== 1, authorId: ann.id } })
  const sample = await db.sample.create({
    data: {
      tenant: 'a',
      code: 'x',
      at: new Date('2026-03-04T05:06:07.089Z'),
      big: 9007199254740993n,
      price: new Prisma.Decimal('12345678901234.000001'),
      bytes: new Uint8Array([0, 1, 2, 255]),
      json: { nested: [1, 'two', null, { three: 3.5 }] },
      status: 'ACTIVE',
    },
  })
  await db.sample.create({
    data: { tenant: 'a', code: 'jsonnull', at: new Date(0), big: -1n, price: 0, bytes: new Uint8Array(), json: Prisma.JsonNull, status: 'DRAFT' },
  })
  await db.sample.create({
    data: { tenant: 'a', code: 'dbnull', at: new Date(0), big: 0n, price: '0.5', bytes: new Uint8Array(), json: Prisma.DbNull, status: 'ARCHIVED', note: 'n' },
  })
  ctx.db.resetQueries()
  return { ann, sample }
}

describe('many caches on one Redis client', () => {
  it('a clean close() logs nothing alarming', async () => {
    const warnings: string[] = []
    const logger = { info: () => {}, warn: (_: object, msg?: string) => void warnings.push(msg ?? ''), error: (_: object, msg?: string) => void warnings.push(msg ?? '') }
    const redis = redisCtx.redis as unknown as { duplicate(): { status: string } }
    const duplicate = redis.duplicate.bind(redis)
    let subscriber: { status: string } | undefined
    redis.duplicate = () => (subscriber = duplicate())
    try {
      const prisma = ctx.db.prisma.$extends(withCache({ redis: redisCtx.redis, namespace: namespace(), logger }))
      await prisma.$cache.ready()
      prisma.$cache.close()
      for (let i = 0; i < 10_000 && subscriber!.status !== 'end'; i++) await new Promise((resolve) => setImmediate(resolve))
      expect(subscriber!.status).toBe('end')
      expect(warnings).toEqual([])
    } finally {
      redis.duplicate = duplicate
    }
  })

  it('twelve cached clients on one ioredis client print no MaxListenersExceededWarning, and closing them detaches them', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => void warnings.push(warning.name)
    process.on('warning', onWarning)
    const listeners = redisCtx.redis.listenerCount('end')
    try {
      const clients = Array.from({ length: 12 }, () => ctx.db.prisma.$extends(withCache({ redis: redisCtx.redis, namespace: namespace() })))
      await Promise.all(clients.map((c) => c.$cache.ready()))
      expect(redisCtx.redis.listenerCount('end')).toBe(listeners + 12)
      await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
      expect(warnings).not.toContain('MaxListenersExceededWarning')
      for (const client of clients) client.$cache.close()
      expect(redisCtx.redis.listenerCount('end')).toBe(listeners)
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('the Redis tier', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('serves another client (another process) from L2, deep-equal to the database', async () => {
    const { ann } = await seed()
    const ns = namespace()
    const a = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns })
    const b = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    const args = { where: { id: ann.id }, include: { posts: { orderBy: { id: 'asc' as const } } } }
    const fromDb = await a.user.findUnique(args)
    const queries = ctx.db.queries()
    const fromL2 = await b.user.findUnique(args)
    expect(ctx.db.queries()).toBe(queries)
    expect(fromL2).toEqual(fromDb)
    expect(fromL2).toEqual(await ctx.db.prisma.user.findUnique(args))
    expect(b.$cache.metrics().models.User).toMatchObject({ hitsL2: 1, misses: 0 })
  })

  it.each([
    ['L1', { l1: undefined }],
    ['L2', { l1: false as const }],
  ])('returns every Prisma type exactly, with its class, from %s', async (_tier, tierOptions) => {
    await seed()
    const ns = namespace()
    const fill = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, ...tierOptions })
    const serve = tierOptions.l1 === false ? cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false }) : fill
    const args = { orderBy: { id: 'asc' as const } }
    await fill.sample.findMany(args)
    const aggregateArgs = { _sum: { big: true, price: true }, _avg: { price: true }, _max: { at: true } } as const
    const groupArgs = { by: ['status' as const], _count: { _all: true as const }, _max: { at: true as const }, orderBy: { status: 'asc' as const } }
    await fill.sample.aggregate(aggregateArgs)
    await fill.sample.groupBy(groupArgs)
    const queries = ctx.db.queries()
    const rows = await serve.sample.findMany(args)
    const aggregate = await serve.sample.aggregate(aggregateArgs)
    const groups = await serve.sample.groupBy(groupArgs)
    expect(ctx.db.queries()).toBe(queries)
    expect(rows).toEqual(await ctx.db.prisma.sample.findMany(args))
    expect(aggregate).toEqual(await ctx.db.prisma.sample.aggregate(aggregateArgs))
    expect(groups).toEqual(await ctx.db.prisma.sample.groupBy(groupArgs))
    const [full, jsonNull, dbNull] = rows
    expect(full!.at).toBeInstanceOf(Date)
    expect(full!.at.toISOString()).toBe('2026-03-04T05:06:07.089Z')
    expect(full!.big).toBe(9007199254740993n)
    expect(full!.price).toBeInstanceOf(Prisma.Decimal)
    expect(full!.price.toFixed(6)).toBe('12345678901234.000001')
    expect(full!.bytes.constructor).toBe(Uint8Array)
    expect([...full!.bytes]).toEqual([0, 1, 2, 255])
    expect(full!.json).toEqual({ nested: [1, 'two', null, { three: 3.5 }] })
    expect(full!.status).toBe('ACTIVE')
    expect(full!.note).toBeNull()
    expect(jsonNull!.json).toBeNull()
    expect(dbNull!.json).toBeNull()
    expect(aggregate._sum.price).toBeInstanceOf(Prisma.Decimal)
    expect(typeof aggregate._sum.big).toBe('bigint')
    expect(aggregate._max.at).toBeInstanceOf(Date)
    expect(groups.map((g) => g._max.at)).toEqual(groups.map(() => expect.any(Date)))
  })

  it('sees a write made through another client', async () => {
    const { ann } = await seed()
    const ns = namespace()
    const a = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    const b = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    expect(await b.post.count({ where: { authorId: ann.id } })).toBe(3)
    await a.post.create({ data: { title: 'new', authorId: ann.id } })
    expect(await b.post.count({ where: { authorId: ann.id } })).toBe(4)
    await a.user.update({ where: { id: ann.id }, data: { name: 'Ann 2' } })
    expect((await b.user.findFirst({ include: { posts: true } }))!.name).toBe('Ann 2')
  })

  it('backfills L1 from L2 with the remaining ttl, not a full one', async () => {
    const { ann } = await seed()
    const ns = namespace()
    let now = 5_000_000
    const clock = () => now
    const a = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, now: clock, defaults: { ttl: 10 } })
    const b = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, now: clock, defaults: { ttl: 10 } })
    await b.$cache.ready() // until its bus is subscribed, L1 keeps entries for a second at most
    await a.user.findUnique({ where: { id: ann.id } })
    now += 6_000
    await b.user.findUnique({ where: { id: ann.id } }) // L2 hit, into b's L1 until +10 s
    now += 3_000
    await b.user.findUnique({ where: { id: ann.id } }) // L1 hit
    expect(b.$cache.metrics().models.User).toMatchObject({ hitsL1: 1, hitsL2: 1, misses: 0 })
    now += 1_001
    await b.user.findUnique({ where: { id: ann.id } }) // expired in L1 and in L2
    expect(b.$cache.metrics().models.User).toMatchObject({ hitsL1: 1, hitsL2: 1, misses: 1 })
    expect(ctx.db.queries()).toBe(2)
  })

  it('does not keep in L2 a result read before a write that committed while it was being stored', async () => {
    const { ann } = await seed()
    const ns = namespace()
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
    const reader = delayed.$extends(withCache({ redis: redisCtx.redis, namespace: ns, l1: false }))
    const writer = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    const staleRead = reader.user.findUnique({ where: { id: ann.id } }).then((u) => u)
    await readHasQueried
    await writer.user.update({ where: { id: ann.id }, data: { name: 'Ann 2' } })
    release()
    expect((await staleRead)!.name).toBe('Ann')
    const fresh = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    expect((await fresh.user.findUnique({ where: { id: ann.id } }))!.name).toBe('Ann 2')
  })

  it('reads an entry it cannot decode (older format, foreign or corrupt bytes) as a miss, never an error', async () => {
    const { ann } = await seed()
    const ns = namespace()
    const a = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    const args = { where: { id: ann.id } }
    const expected = await a.user.findUnique(args)
    const [key] = await scanKeys(redisCtx.redis, `${ns}:*:q:*`)
    const [format, seen, freshUntil] = decode<[number, string[], number, Uint8Array]>((await redisCtx.redis.getBuffer(key!))!)
    expect(format).toBe(2)
    const unreadable = [
      Buffer.from('not msgpack at all'),
      encode([0, seen, freshUntil, encode(expected)]), // the format before Dates went as numbers
      encode([format, seen, freshUntil, encode(expected)]), // current envelope, value not a result
      encode([format, seen, freshUntil, encode(['{"createdAt":1}', { ...expected, createdAt: 'yesterday' }])]),
    ]
    for (const bytes of unreadable) {
      await redisCtx.redis.set(key!, bytes, 'PX', 60_000)
      const queries = ctx.db.queries()
      const answer = await a.user.findUnique(args)
      expect(answer).toEqual(expected)
      expect(answer!.createdAt).toBeInstanceOf(Date)
      expect(ctx.db.queries()).toBe(queries + 1)
    }
    expect(a.$cache.metrics().redisErrors).toBe(0)
  })

  it('treats a lost generation counter as unknown, never as zero', async () => {
    const { ann } = await seed()
    const ns = namespace()
    const a = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    await a.user.findUnique({ where: { id: ann.id } })
    // evicted or flushed counters, entries still there
    const counters = await scanKeys(redisCtx.redis, `${ns}:*:gen`)
    expect(counters.length).toBeGreaterThan(0)
    for (const key of counters) await redisCtx.redis.unlink(key)
    await a.user.findUnique({ where: { id: ann.id } })
    expect(ctx.db.queries()).toBe(2) // unknown generations: not a hit
    for (const key of await scanKeys(redisCtx.redis, `${ns}:*:gen`)) await redisCtx.redis.unlink(key)
    await ctx.db.prisma.user.update({ where: { id: ann.id }, data: { name: 'changed behind the cache' } })
    await a.user.update({ where: { id: ann.id }, data: { email: 'ann2@example.com' } })
    expect((await a.user.findUnique({ where: { id: ann.id } }))!.name).toBe('changed behind the cache')
  })

  it.each([
    ['L2 only', { l1: false as const }],
    ['strict L1', { l1: { consistency: 'strict' as const } }],
  ])('%s: a read that starts after another process wrote never joins a query that started before', async (_mode, mode) => {
    const { ann } = await seed()
    const ns = namespace()
    let queried!: () => void
    const readHasQueried = new Promise<void>((r) => (queried = r))
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let gated = true
    const delayed = ctx.db.prisma.$extends({
      query: {
        user: {
          async $allOperations({ operation, args, query }) {
            const row = await query(args)
            if (!gated || !operation.startsWith('find')) return row
            gated = false
            queried()
            await gate
            return row
          },
        },
      },
    })
    const reader = delayed.$extends(withCache({ redis: redisCtx.redis, namespace: ns, redisTimeoutMs: 2000, ...mode }))
    await reader.$cache.ready()
    const writer = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    const before = reader.user.findFirst({ where: { id: ann.id } }).then((u) => u) // queries 'Ann', then waits
    await readHasQueried
    await writer.user.update({ where: { id: ann.id }, data: { name: 'Ann 2' } }) // another process
    const after = reader.user.findFirst({ where: { id: ann.id } }).then((u) => u)
    release()
    expect((await before)!.name).toBe('Ann')
    expect((await after)!.name).toBe('Ann 2')
  })
})

describe('server identity checks', () => {
  it('are made per server, not per key: reads under 300 distinct tags check each server once, and are L2 hits from a second cache', async () => {
    await resetTables(ctx.db.prisma)
    const ns = namespace()
    const commands = redisCtx.redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
    const prisma = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
    await prisma.user.count() // registers the scripts on the client, and checks the servers of these keys
    let checks = 0
    const originals = { ptc_epoch_v1: commands.ptc_epoch_v1!, ptc_servers_v1: commands.ptc_servers_v1! }
    for (const [name, original] of Object.entries(originals)) {
      commands[name] = function (this: unknown, ...args: unknown[]) {
        checks++
        return original.apply(this, args)
      }
    }
    try {
      const tags = Array.from({ length: 300 }, (_, i) => `feed:${i}`)
      for (const tag of tags) await prisma.user.count({ cacheStrategy: { tags: [tag] } })
      const other = cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: ns, l1: false })
      ctx.db.resetQueries()
      for (const tag of tags) expect(await other.user.count({ cacheStrategy: { tags: [tag] } })).toBe(0)
      expect(ctx.db.queries()).toBe(0)
      // the first cache had checked every server; the second checks them once: one call
      expect(checks).toBeLessThanOrEqual(1)
    } finally {
      Object.assign(commands, originals)
    }
  })
})
