// The peer range accepts ioredis 5 and 6; the suite runs on 6 (the devDependency `ioredis`), and
// this file proves 5 (the devDependency `ioredis5`, npm:ioredis@5.11.1) end to end: cached reads
// served from L1 and from L2, a write that invalidates them (Lua scripts, counters), and another
// cache's L1 told of that write over the bus (pub/sub on a duplicate() of the ioredis 5 client),
// each answer compared with the plain client on the same database. Standalone here; a Cluster
// (ioredis 5's Cluster) when the `cluster` test project includes this file.
import { createRequire } from 'node:module'
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { dropNamespace, onCluster } from '../support/redis.js'

const ctx = useDatabase()
const namespace = `t5${Date.now().toString(36)}`
let redis: Redis5 | Cluster5
let run = 0

beforeAll(async () => {
  redis = onCluster ? new Cluster5(inject('clusterNodes'), { lazyConnect: true }) : new Redis5(inject('redisUrl'), { lazyConnect: true })
  await redis.connect()
  expect(require5Version()).toMatch(/^5\./)
})

afterAll(async () => {
  for (let i = 0; i < run; i++) await dropNamespace(redis as unknown as Redis, `${namespace}.${i}`)
  redis.disconnect()
})

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
})

/** The version of the ioredis this file runs on, from its own package.json. */
function require5Version(): string {
  return (createRequire(import.meta.url)('ioredis5/package.json') as { version: string }).version
}

/**
 * An ioredis 5 client where the options want one: the repository's types are ioredis 6's, whose
 * Redis differs from 5's in private members only; an application on ioredis 5 compiles against 5.
 */
const asOption = (client: Redis5 | Cluster5) => client as unknown as Redis

/** Until `check` holds, a bounded number of rounds (the bus is asynchronous). */
async function until(check: () => boolean, rounds = 500): Promise<void> {
  for (let i = 0; i < rounds && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
}

describe.each([
  ['L1+L2', {}],
  ['L2 only', { l1: false as const }],
])('ioredis 5, %s', (_name, tier) => {
  it('reads from cache, invalidates on a write, and another cache sees the write', async () => {
    const db = ctx.db.prisma
    const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    await db.post.create({ data: { title: 'first', authorId: ann.id } })
    const options = { redis: asOption(redis), namespace: `${namespace}.${run++}`, ...tier }
    const a = cachedClient(db, options)
    const b = cachedClient(db, options) // another process, in effect: its own L1 and bus
    await Promise.all([a.$cache.ready(), b.$cache.ready()])
    const where = { where: { id: ann.id }, include: { posts: true } }

    const before = await db.user.findUnique(where)
    expect(await a.user.findUnique(where)).toEqual(before) // a miss
    ctx.db.resetQueries()
    expect(await a.user.findUnique(where)).toEqual(before) // L1, or L2 in L2 only
    expect(await b.user.findUnique(where)).toEqual(before) // L2
    expect(ctx.db.queries()).toBe(0)
    expect(a.$cache.metrics()).toMatchObject('l1' in tier ? { hitsL2: 1, misses: 1 } : { hitsL1: 1, misses: 1 })
    expect(b.$cache.metrics()).toMatchObject({ hitsL2: 1, misses: 0 })

    const heard = b.$cache.metrics().busDelayMs?.count ?? 0
    await a.post.create({ data: { title: 'second', authorId: ann.id } })
    expect(await a.user.findUnique(where)).toEqual(await db.user.findUnique(where))
    // b's L1 (L1+L2) learns of a's write over the bus; L2 only has nothing to wait for
    if (!('l1' in tier)) await until(() => (b.$cache.metrics().busDelayMs?.count ?? 0) > heard)
    const fresh = await db.user.findUnique(where)
    expect(fresh!.posts).toHaveLength(2)
    expect(await b.user.findUnique(where)).toEqual(fresh)
    expect(a.$cache.metrics().models.User?.redisErrors ?? 0).toBe(0)
    expect(b.$cache.metrics().models.User?.redisErrors ?? 0).toBe(0)
    a.$cache.close()
    b.$cache.close()
  })
})
