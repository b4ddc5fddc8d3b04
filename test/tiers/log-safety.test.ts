import { Writable } from 'node:stream'
import { inspect } from 'node:util'
import { Redis } from 'ioredis'
import pino from 'pino'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useOwnRedis } from '../support/redis-server.js'

/*
 * No log line and no `onError` payload carries a value (issue 14.6): a secret is written into a
 * row and into the arguments of the reads, every Redis error path is forced, and the logs and
 * payloads are searched for it. ioredis's errors carry `command.args`, which for a refused store
 * hold the encoded row.
 */

const ctx = useDatabase()
const { server, redis: own } = useOwnRedis()
let redis: Redis
const SECRET = 'hunter2-0d5c9e'
beforeAll(() => void (redis = own()))
beforeEach(async () => {
  await server.cli('config', 'set', 'maxmemory', '0')
  await redis.flushall()
  await resetTables(ctx.db.prisma)
})

function capture() {
  const text: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text.push(String(chunk))
      done()
    },
  })
  const errors: unknown[] = []
  return { logger: pino({ level: 'debug' }, stream), text, errors, onError: (event: unknown) => void errors.push(event) }
}

/** Bytes as text (a msgpack-encoded row holds its strings verbatim), whether live or as JSON. */
function unbuffer(value: unknown, depth = 0): unknown {
  if (depth > 12 || value === null || typeof value !== 'object') return value
  if (Buffer.isBuffer(value)) return value.toString('latin1')
  const json = value as { type?: unknown; data?: unknown }
  if (json.type === 'Buffer' && Array.isArray(json.data)) return Buffer.from(json.data as number[]).toString('latin1')
  const out: Record<string, unknown> = {}
  for (const key of Object.getOwnPropertyNames(value)) out[key] = unbuffer((value as Record<string, unknown>)[key], depth + 1)
  return out
}

/** Everything a log reader or an `onError` listener could see, as text. */
function seen(log: ReturnType<typeof capture>): string {
  const lines = log.text.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((line) => JSON.stringify(unbuffer(JSON.parse(line))))
  const payloads = log.errors.map((event) => `${inspect(event, { depth: 10, showHidden: true })} ${JSON.stringify(unbuffer(event))}`)
  return [...log.text, ...lines, ...payloads].join('\n')
}

describe('secrets never reach logs or onError', () => {
  it.each([
    ['L2 only', { l1: false as const }],
    ['L1+L2', {}],
  ])('%s: stores and counters refused for memory, then a paused Redis: errors logged without the secret', async (_name, tier) => {
    const db = ctx.db.prisma
    const user = await db.user.create({ data: { email: `${SECRET}@example.com`, name: SECRET } })
    const log = capture()
    const prisma = cachedClient(db, {
      redis, namespace: 'secret', redisTimeoutMs: 200, breaker: { failures: 1000, cooldownMs: 100 }, stampede: { leaseAboveMs: 60_000 },
      logger: log.logger, events: { onError: log.onError }, ...tier,
    })
    await prisma.$cache.ready()
    const reads = () => Promise.all([
      prisma.user.findUnique({ where: { id: user.id } }),
      prisma.user.findUnique({ where: { email: `${SECRET}@example.com` } }),
      prisma.user.findMany({ where: { name: { startsWith: SECRET } } }),
    ])

    // counters and entries exist, then the row changes: the next reads miss and store again (after
    // 3 fast queries of a shape, without a lease, so that the store is what Redis refuses)
    let updated = user
    for (let i = 0; i < 4; i++) {
      expect(await reads()).toEqual([updated, updated, [updated]])
      await prisma.user.update({ where: { id: user.id }, data: { name: `${SECRET} renamed ${i}` } })
      updated = await db.user.findUniqueOrThrow({ where: { id: user.id } })
    }

    // OOM: every write Redis is asked for is refused, a store with the encoded row among its arguments
    await server.cli('config', 'set', 'maxmemory-policy', 'noeviction')
    await server.cli('config', 'set', 'maxmemory', '1')
    expect(await reads()).toEqual([updated, updated, [updated]])
    await server.cli('config', 'set', 'maxmemory', '0')

    // a stalled Redis: timeouts
    await server.cli('client', 'pause', '1000', 'ALL')
    expect(await prisma.user.count({ where: { name: { startsWith: SECRET } } })).toBe(1)
    await server.cli('client', 'unpause')
    prisma.$cache.close()

    const all = seen(log)
    expect(log.errors.length).toBeGreaterThan(0)
    expect(all).toContain('OOM command not allowed')
    expect(all).toContain('did not answer within')
    expect(all).not.toContain(SECRET)
    // what is there instead: the error's name, message and the command's name
    expect(all).toMatch(/"command":"(evalsha|set|mget|eval)"/i)
  })
})
