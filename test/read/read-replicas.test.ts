// Read replicas (issue 15, item 3): the cache under Prisma's own `@prisma/extension-read-replicas`,
// against a real primary and a real streaming replica that applies each commit 1.5 s late
// (test/support/pg-replica.ts). A miss right after a write reads the lagging replica; its answer
// is returned (as uncached Prisma would return it) but never cached, so once the replica has
// caught up the cache answers what the primary says.
import { PrismaPg } from '@prisma/adapter-pg'
import { readReplicas } from '@prisma/extension-read-replicas'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrismaClient } from '../../generated/prisma/client.js'
import { CacheConfigError, withCache, type CacheOptions, type InvalidateEvent } from '../../src/index.js'
import { countingClient, type CountingClient } from '../support/db.js'
import { PgReplicaPair } from '../support/pg-replica.js'
import { until } from '../support/redis-server.js'
import { useRedis } from '../support/redis.js'

const APPLY_DELAY_MS = 1500
const pair = new PgReplicaPair(APPLY_DELAY_MS)
const redisCtx = useRedis()
const ctx = {} as { primaryUrl: string; primary: CountingClient; replica: CountingClient; opened: Array<{ $disconnect(): Promise<void> }> }
ctx.opened = []
let run = 0

beforeAll(async () => {
  await pair.start()
  const urls = await pair.database('ptc_replicas')
  ctx.primaryUrl = urls.primary
  ctx.primary = countingClient(urls.primary)
  ctx.replica = countingClient(urls.replica)
}, 120_000)

// stops both servers even when a test, or the setup, failed
afterAll(async () => {
  await Promise.all([ctx.primary, ctx.replica].filter(Boolean).map((c) => c.prisma.$disconnect()))
  await Promise.all(ctx.opened.map((c) => c.$disconnect().catch(() => {})))
  await pair.stop()
}, 60_000)

/** A clock the test moves past `replicaLagMs` without waiting for it. */
function testClock() {
  let offset = 0
  return { now: () => Date.now() + offset, advance: (ms: number) => void (offset += ms) }
}

/** A client on the primary whose reads go to the replica, the way the extension's README composes it: replicas first, withCache last. */
function replicated(options: CacheOptions) {
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: ctx.primaryUrl }) })
  ctx.opened.push(base)
  return base.$extends(readReplicas({ replicas: [ctx.replica.prisma as never] })).$extends(withCache({ redisTimeoutMs: 2000, ...options }))
}

/** Polls the replica (uncached) until it has applied the write: bounded by the event, not by a sleep. */
async function replicaShows(id: number, name: string): Promise<void> {
  await until(async () => (await ctx.replica.prisma.user.findUnique({ where: { id } }))?.name === name, `the replica to show ${name}`, 400, 25)
}

async function newUser(prisma: { user: { create(args: { data: { email: string; name: string } }): Promise<{ id: number }> } }) {
  const user = await prisma.user.create({ data: { email: `r${run++}-${Date.now()}@example.com`, name: 'old' } })
  await replicaShows(user.id, 'old')
  return user
}

const tiers: Array<[string, () => CacheOptions]> = [
  ['L1+L2', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` })],
  ['L2 only', () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, l1: false })],
  ['L1 only', () => ({})],
]

describe.each(tiers)('read replicas, %s', (_name, tier) => {
  it('a miss right after a write gets the replica\'s old row and keeps it out of the cache: once the replica caught up, the primary\'s row', async () => {
    // replicaLagMs left out: its default applies under the read-replicas extension
    const prisma = replicated(tier())
    const { id } = await newUser(prisma)
    const where = { where: { id } }

    await prisma.user.update({ ...where, data: { name: 'new' } })
    ctx.replica.resetQueries()
    // the replica has not applied the update yet: what uncached Prisma on the replica answers
    expect((await prisma.user.findUnique(where))?.name).toBe('old')
    expect(ctx.replica.queries()).toBe(1)

    await replicaShows(id, 'new')
    const fromPrimary = await ctx.primary.prisma.user.findUnique(where)
    expect(fromPrimary?.name).toBe('new')
    expect(await prisma.user.findUnique(where)).toEqual(fromPrimary)
    prisma.$cache.close()
  })

  it('findUniques of one tick right after writes (one batched query on the replica): old rows returned, none kept', async () => {
    const prisma = replicated(tier())
    const ids = [(await newUser(prisma)).id, (await newUser(prisma)).id]
    await prisma.user.updateMany({ where: { id: { in: ids } }, data: { name: 'new' } })
    ctx.replica.resetQueries()
    const read = () => Promise.all(ids.map((id) => prisma.user.findUnique({ where: { id } })))
    expect((await read()).map((user) => user?.name)).toEqual(['old', 'old'])
    expect(ctx.replica.queries()).toBe(1)

    for (const id of ids) await replicaShows(id, 'new')
    expect(await read()).toEqual(await ctx.primary.prisma.user.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } }))
    prisma.$cache.close()
  })

  it('once replicaLagMs has passed since the write, answers are cached again', async () => {
    const clock = testClock()
    const prisma = replicated({ ...tier(), replicaLagMs: 2 * APPLY_DELAY_MS, now: clock.now })
    await prisma.$cache.ready() // until the bus is up, other processes' writes are unheard: nothing is stored
    const { id } = await newUser(prisma)
    const where = { where: { id } }
    await prisma.user.update({ ...where, data: { name: 'new' } })
    await replicaShows(id, 'new')

    clock.advance(2 * APPLY_DELAY_MS + 1)
    ctx.replica.resetQueries()
    for (let i = 0; i < 3; i++) expect((await prisma.user.findUnique(where))?.name).toBe('new')
    expect(ctx.replica.queries()).toBe(1)
    prisma.$cache.close()
  })
})

describe.each(tiers.slice(0, 2))('read replicas, a write by another process (heard on the bus), %s', (_name, tier) => {
  it('the reader keeps the replica\'s old row out of the cache after the writer\'s message', async () => {
    const options = tier()
    const clock = testClock()
    const remote: InvalidateEvent[] = []
    // L2 only: the reader opens the bus for this alone (it has no L1 to keep current)
    const reader = replicated({
      ...options,
      replicaLagMs: 2 * APPLY_DELAY_MS,
      now: clock.now,
      events: { onInvalidate: (event) => void (event.cause === 'remote' && remote.push(event)) },
    })
    const writer = replicated({ redis: redisCtx.redis, namespace: options.namespace })
    await reader.$cache.ready()
    await writer.$cache.ready()
    const { id } = await newUser(writer)
    const where = { where: { id } }
    clock.advance(2 * APPLY_DELAY_MS + 1) // the create is settled for the reader: its read is cached
    expect((await reader.user.findUnique(where))?.name).toBe('old')
    ctx.replica.resetQueries()
    expect((await reader.user.findUnique(where))?.name).toBe('old')
    expect(ctx.replica.queries()).toBe(0)

    const heard = remote.length
    await writer.user.update({ ...where, data: { name: 'new' } })
    // both of the write's bumps (before it ran, after it committed) have reached the reader
    await until(() => remote.length >= heard + 2, 'the writer\'s invalidations on the bus')
    expect((await reader.user.findUnique(where))?.name).toBe('old')
    expect(ctx.replica.queries()).toBe(1)

    await replicaShows(id, 'new')
    const fromPrimary = await ctx.primary.prisma.user.findUnique(where)
    expect(await reader.user.findUnique(where)).toEqual(fromPrimary)
    reader.$cache.close()
    writer.$cache.close()
  })
})

// The other order, pinned so that the README's advice stays true: withCache's read methods query
// the client withCache extends, below the read-replicas extension, whose hook never sees them; so
// every miss reads the primary (never stale, but the replicas take no cached model's reads).
it('withCache applied first, read replicas on top: misses read the primary, never the replica', async () => {
  const primary = countingClient(ctx.primaryUrl)
  ctx.opened.push(primary.prisma)
  const prisma = primary.prisma.$extends(withCache({})).$extends(readReplicas({ replicas: [ctx.replica.prisma as never] }))
  const { id } = await newUser(prisma)
  await prisma.user.update({ where: { id }, data: { name: 'new' } })
  ctx.replica.resetQueries()
  primary.resetQueries()
  for (let i = 0; i < 2; i++) expect((await prisma.user.findUnique({ where: { id } }))?.name).toBe('new')
  expect([primary.queries(), ctx.replica.queries()]).toEqual([1, 0])
  prisma.$cache.close()
})

it('replicaLagMs must be a non-negative number of milliseconds', () => {
  expect(() => withCache({ replicaLagMs: -1 })).toThrow(CacheConfigError)
  expect(() => withCache({ replicaLagMs: '500' as unknown as number })).toThrow(/replicaLagMs must be a non-negative number of milliseconds, got "500"/)
})
