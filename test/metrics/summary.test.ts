import { Writable } from 'node:stream'
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { resetTables, useDatabase } from '../support/db.js'
import { knownDelays, timedDatabase } from '../support/timed.js'

const ctx = useDatabase()

/** A pino logger writing to a stream this test reads: one parsed object per line. */
function pinoLog() {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { logger: pino({ base: undefined, timestamp: false }, stream), lines }
}

/** Log lines without pino's own fields. */
const content = (line: Record<string, unknown>) => {
  const { level: _, msg: __, ...rest } = line
  return rest
}

describe('summary logs', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
    for (let i = 1; i <= 10; i++) await ctx.db.prisma.user.create({ data: { email: `u${i}@secret.example` } })
    await ctx.db.prisma.post.create({ data: { title: 'p', published: true, authorId: 1 } })
    // only the summary timer is faked: Prisma, pg and the cache keep their real timeouts
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('logs hit rates, time saved, slow query shapes and the busiest and worst-hit models every interval', async () => {
    let now = 1_000_000
    const { logger, lines } = pinoLog()
    const timers = vi.getTimerCount()
    const prisma = timedDatabase(ctx.db.prisma, knownDelays).cached({
      logger,
      now: () => now,
      models: { Comment: false },
      metrics: { summaryIntervalMs: 60_000, slowQueryMs: 5 },
    })
    expect(vi.getTimerCount()).toBe(timers + 1)
    for (let id = 1; id <= 10; id++) await prisma.user.findUnique({ where: { id } }) // misses of 1..10 ms: six slow
    for (let round = 0; round < 2; round++) for (let id = 1; id <= 10; id++) await prisma.user.findUnique({ where: { id } })
    await prisma.user.findFirst({ where: { email: 'u1@secret.example' } }) // 1 ms
    await prisma.post.findMany({ where: { published: true } }) // 3 ms
    await prisma.post.findMany({ where: { published: true } })
    for (let i = 0; i < 3; i++) await prisma.comment.findMany()

    // slow queries are logged as they happen, at most once per shape per interval
    const slow = { model: 'User', operation: 'findUnique', shape: '{where{id}}', slowQueryMs: 5 }
    expect(lines).toEqual([{ level: 40, msg: 'prisma-tiered-cache: slow query', ...slow, durationMs: 5 }])

    now += 60_000
    vi.advanceTimersByTime(60_000)
    expect(lines).toHaveLength(2)
    expect(lines[1]).toMatchObject({ level: 30, msg: 'prisma-tiered-cache: summary' })
    const summary = content(lines[1]!)
    expect(summary).toEqual({
      windowMs: 60_000,
      served: 36,
      hitsL1: 21,
      hitsL2: 0,
      misses: 12,
      stale: 0,
      bypasses: 3,
      hitRate: 21 / 33,
      hitRateL1: 21 / 33,
      hitRateL2: 0,
      savedMs: 20 * 5.5 + 3,
      db: { count: 12, p50: expect.closeTo(4, 1), p95: 10, p99: 10 },
      slowQueries: [{ model: 'User', operation: 'findUnique', shape: '{where{id}}', count: 6, meanMs: 7.5 }],
      ttlAdvice: [], // no entry was found invalidated (ttl-advice.test.ts)
      busiest: [
        { model: 'User', served: 31, hitRate: 20 / 31 },
        { model: 'Comment', served: 3, hitRate: 0 },
        { model: 'Post', served: 2, hitRate: 0.5 },
      ],
      worstHit: [
        { model: 'Post', hitRate: 0.5, misses: 1 },
        { model: 'User', hitRate: 20 / 31, misses: 11 },
      ],
      redisErrors: 0,
    })
    expect(Math.abs((summary.db as { p50: number }).p50 - 4)).toBeLessThanOrEqual(4 / 64)

    // an idle interval logs nothing
    vi.advanceTimersByTime(60_000)
    expect(lines).toHaveLength(2)

    // a new interval for the shape: one more slow-query line for two slow queries
    await prisma.$cache.invalidate({ models: ['User'] })
    await prisma.user.findUnique({ where: { id: 6 } })
    await prisma.user.findUnique({ where: { id: 7 } })
    expect(lines.slice(2)).toEqual([{ level: 40, msg: 'prisma-tiered-cache: slow query', ...slow, durationMs: 6 }])

    // on demand: the time since the previous summary
    const onDemand = prisma.$cache.logSummary()
    expect(lines).toHaveLength(4)
    expect(content(lines[3]!)).toEqual(JSON.parse(JSON.stringify(onDemand)))
    expect(onDemand).toMatchObject({ served: 2, misses: 2, hitsL1: 0, savedMs: 0, windowMs: 0 })
    expect(onDemand.slowQueries).toEqual([{ model: 'User', operation: 'findUnique', shape: '{where{id}}', count: 2, meanMs: 6.5 }])
    expect(prisma.$cache.metrics()).toMatchObject({ served: 38, misses: 14 }) // metrics() windows are not disturbed

    // close() stops the timer: a busy interval after it logs nothing
    prisma.$cache.close()
    expect(vi.getTimerCount()).toBe(timers)
    await prisma.user.findUnique({ where: { id: 1 } })
    vi.advanceTimersByTime(120_000)
    expect(lines).toHaveLength(4)
    expect(JSON.stringify(lines)).not.toContain('secret') // shapes and summaries carry keys, never values
  })

  it('returns a summary on demand without a logger', async () => {
    const prisma = timedDatabase(ctx.db.prisma, knownDelays).cached({ metrics: { summaryIntervalMs: 1000 } })
    expect(vi.getTimerCount()).toBe(0) // nowhere to log: no timer
    await prisma.user.findUnique({ where: { id: 2 } })
    await prisma.user.findUnique({ where: { id: 2 } })
    expect(prisma.$cache.logSummary()).toMatchObject({ served: 2, hitsL1: 1, misses: 1, savedMs: 2, slowQueries: [] })
    expect(prisma.$cache.logSummary()).toMatchObject({ served: 0, savedMs: 0, busiest: [], worstHit: [] })
  })
})
