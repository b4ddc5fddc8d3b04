import { Redis } from 'ioredis'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useOwnRedis } from '../support/redis-server.js'

/*
 * Redis timeouts are measured against Redis, not against this process's event loop: when the
 * application keeps the loop busy for longer than `redisTimeoutMs`, a reply that is already
 * waiting in the socket is read and used, never counted as a Redis error (issue 14.5).
 */

const ctx = useDatabase()
const { server, redis: own } = useOwnRedis()
let redis: Redis
beforeAll(() => void (redis = own()))
beforeEach(async () => {
  await redis.flushall()
  await resetTables(ctx.db.prisma)
})

/** Keeps the event loop busy, as a CPU-bound request handler does. */
function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // spin
  }
}

/**
 * Blocks the loop right after the next write to Redis's socket, once the command is out and its
 * timer armed: the check phase of the same loop turn runs before the reply can be read.
 */
function blockAfterNextWrite(client: Redis, ms: number): () => number {
  const stream = (client as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream
  const write = stream.write.bind(stream)
  let blocked = 0
  stream.write = (...args: unknown[]) => {
    const result = write(...args)
    setImmediate(() => {
      busy(ms)
      blocked++
    })
    return result
  }
  return () => blocked
}

describe('a busy event loop against a healthy Redis', () => {
  it.each([
    ['L2 only', { l1: false as const }],
    ['L1+L2, read from L2', {}],
  ])('%s: loop blocked 3× redisTimeoutMs after each command, replies are used, no Redis error', async (_name, tier) => {
    const db = ctx.db.prisma
    const users = []
    for (let i = 0; i < 5; i++) users.push(await db.user.create({ data: { email: `u${i}@example.com`, name: `u${i}` } }))
    const timeoutMs = 100
    const options = { redis, namespace: 'busy', redisTimeoutMs: timeoutMs, breaker: { failures: 2, cooldownMs: 60_000 } }
    const filler = cachedClient(db, { ...options, l1: false })
    for (const user of users) await filler.user.findUnique({ where: { id: user.id } })
    filler.$cache.close()
    // a fresh process's view: L1 empty, so each answer comes from L2 (or the database on a timeout)
    const prisma = cachedClient(db, { ...options, ...tier })
    await prisma.$cache.ready()
    const before = prisma.$cache.metrics()

    const blocked = blockAfterNextWrite(redis, timeoutMs * 3)
    for (const user of users) {
      expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(user)
    }
    const after = prisma.$cache.metrics()
    expect(blocked()).toBeGreaterThanOrEqual(users.length)
    expect(after.redisErrors - before.redisErrors).toBe(0)
    expect(after.hitsL2 - before.hitsL2).toBe(users.length)
    expect(after.breaker?.state ?? 'closed').toBe('closed')
    prisma.$cache.close()
  })

  it('a Redis that does not answer still times out behind a busy loop', async () => {
    const db = ctx.db.prisma
    const user = await db.user.create({ data: { email: 'p@example.com', name: 'p' } })
    const prisma = cachedClient(db, { redis, namespace: 'paused', redisTimeoutMs: 100, l1: false })
    await prisma.$cache.ready()
    await prisma.user.findUnique({ where: { id: user.id } })
    const before = prisma.$cache.metrics()
    await server.cli('client', 'pause', '3000', 'ALL')
    const blocked = blockAfterNextWrite(redis, 300)
    expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(user)
    expect(blocked()).toBeGreaterThanOrEqual(1)
    expect(prisma.$cache.metrics().redisErrors - before.redisErrors).toBe(1)
    await server.cli('client', 'unpause')
    prisma.$cache.close()
  })
})
