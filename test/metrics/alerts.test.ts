import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CacheConfigError, withCache, type AlertEvent, type CacheLogger, type CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'
import { until, useOwnRedis } from '../support/redis-server.js'
import { knownDelays, timedDatabase } from '../support/timed.js'

/*
 * `metrics.alerts` on real services. Intervals are driven by `logSummary()` and an injected wall
 * clock, never by waiting; latencies come from timedDatabase's known delays.
 */

const ctx = useDatabase()
const shared = useRedis()
const own = useOwnRedis()
const INTERVAL = 60_000
let run = 0

/** A logger keeping alert lines only (summaries are summary.test.ts's business). */
function alertLog() {
  const lines: Array<{ level: 'warn' | 'info'; msg: string; obj: object }> = []
  const keep = (level: 'warn' | 'info') => (obj: object, msg = '') => void (msg.includes('alert') && lines.push({ level, msg, obj }))
  const logger: CacheLogger = { info: keep('info'), warn: keep('warn'), error: () => {} }
  return { logger, lines }
}

function watch(options: CacheOptions, prismaFor = (o: CacheOptions) => timedDatabase(ctx.db.prisma, knownDelays).cached(o)) {
  let now = 1_000_000
  const events: AlertEvent[] = []
  const { logger, lines } = alertLog()
  // entries outlive every interval of the injected clock
  const prisma = prismaFor({ defaults: { ttl: 3600 }, ...options, logger, now: () => now, events: { onAlert: (e) => void events.push(e) } })
  /** Ends the interval: the clock moves one interval on, and the summary judges it. */
  const endInterval = () => {
    now += INTERVAL
    prisma.$cache.logSummary()
  }
  return { prisma, events, lines, endInterval, advance: (ms: number) => (now += ms) }
}

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
  for (let i = 1; i <= 10; i++) await ctx.db.prisma.user.create({ data: { email: `u${i}@example.com` } })
})

const tiers: Array<[string, () => CacheOptions]> = [
  ['L1 only', () => ({})],
  ['L2 only', () => ({ redis: shared.redis, namespace: `${shared.namespace}-${run++}`, l1: false })],
  ['L1+L2', () => ({ redis: shared.redis, namespace: `${shared.namespace}-${run++}` })],
]

describe.each(tiers)('hit rate, %s', (_, tier) => {
  it('fires once while the hit rate stays under the minimum, and recovers once', async () => {
    const { prisma, events, lines, endInterval } = watch({ ...tier(), metrics: { alerts: { minHitRate: 0.5 } } })
    // interval 1: 1 hit of 4 lookups
    for (const id of [1, 2, 3, 1]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    // interval 2: 1 hit of 3, still under: quiet
    for (const id of [4, 5, 4]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    // interval 3: nothing read, nothing judged
    endInterval()
    expect(events).toEqual([{ alert: 'hitRate', state: 'firing', value: 0.25, threshold: 0.5, windowMs: INTERVAL }])
    // interval 4: 5 hits of 5
    for (const id of [1, 2, 3, 4, 5]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    // interval 5: 2 hits of 3, within: quiet
    for (const id of [1, 6, 6]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    const recovered = { alert: 'hitRate', state: 'recovered', value: 1, threshold: 0.5, windowMs: INTERVAL }
    expect(events).toEqual([{ alert: 'hitRate', state: 'firing', value: 0.25, threshold: 0.5, windowMs: INTERVAL }, recovered])
    expect(lines).toEqual([
      { level: 'warn', msg: 'prisma-tiered-cache: alert hitRate crossed its threshold', obj: events[0] },
      { level: 'info', msg: 'prisma-tiered-cache: alert hitRate recovered', obj: recovered },
    ])
  })
})

describe('database p95', () => {
  it('fires once over the maximum and recovers once (known query times: findUnique of id n takes n ms)', async () => {
    const { prisma, events, endInterval } = watch({ metrics: { alerts: { maxDbP95Ms: 5 } } })
    await prisma.user.findUnique({ where: { id: 9 } })
    endInterval()
    await prisma.user.findUnique({ where: { id: 8 } })
    await prisma.user.findUnique({ where: { id: 9 } }) // a hit: no query
    endInterval()
    await prisma.user.findUnique({ where: { id: 3 } })
    endInterval()
    await prisma.user.findUnique({ where: { id: 4 } })
    endInterval()
    expect(events).toEqual([
      // percentiles of a window are within the histogram's 1/64 (histogram.ts)
      { alert: 'dbP95', state: 'firing', value: expect.closeTo(9, 1), threshold: 5, windowMs: INTERVAL },
      { alert: 'dbP95', state: 'recovered', value: expect.closeTo(3, 1), threshold: 5, windowMs: INTERVAL },
    ])
  })
})

describe('Redis p95', () => {
  it('fires once over the maximum and recovers once (a latency clock that moves 10 ms on each reading while Redis is slow)', async () => {
    const clock = { now: 0, step: 0 }
    const { prisma, events, endInterval } = watch(
      { redis: shared.redis, namespace: `${shared.namespace}-${run++}`, l1: false, metrics: { clock: () => (clock.now += clock.step), alerts: { maxRedisP95Ms: 5 } } },
      (o) => cachedClient(ctx.db.prisma, o),
    )
    await prisma.user.findUnique({ where: { id: 1 } })
    endInterval() // every reading the same: 0 ms
    clock.step = 10
    for (const id of [1, 2, 1]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    for (const id of [1, 2]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    clock.step = 0
    for (const id of [1, 2]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    expect(events).toEqual([
      // within the histogram's 1/64: a reading may fall between two of another call's
      { alert: 'redisP95', state: 'firing', value: expect.closeTo(10, 0), threshold: 5, windowMs: INTERVAL },
      { alert: 'redisP95', state: 'recovered', value: 0, threshold: 5, windowMs: INTERVAL },
    ])
  })
})

describe('Redis error rate and breaker openings, Redis stopped', () => {
  it('each fires once while Redis is down and recovers once it is back', async () => {
    own.redis().on('error', () => {}) // ioredis reports each refused reconnect
    const { prisma, events, lines, endInterval, advance } = watch(
      {
        redis: own.redis(),
        namespace: `own${run++}`,
        l1: false,
        redisTimeoutMs: 300,
        breaker: { failures: 2, cooldownMs: 1000 },
        metrics: { alerts: { maxRedisErrorRate: 0.02, maxBreakerOpenings: 0 } },
      },
      (o) => cachedClient(ctx.db.prisma, o),
    )
    for (const id of [1, 2, 1]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    expect(events).toEqual([])

    await own.server.kill()
    // two failed lookups open the breaker; the third read skips Redis (cooldown not over: injected clock)
    for (const id of [1, 2, 3]) expect(await prisma.user.findUnique({ where: { id } })).toMatchObject({ id })
    endInterval()
    expect(events).toEqual([
      { alert: 'redisErrorRate', state: 'firing', value: 1, threshold: 0.02, windowMs: INTERVAL },
      { alert: 'breakerOpenings', state: 'firing', value: 1, threshold: 0, windowMs: INTERVAL },
    ])
    // still down: the probe after the cooldown fails, the error rate stays crossed (quiet); the
    // breaker stays open without opening again, so openings per interval are back within
    for (const id of [1, 2]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    expect(events.slice(2)).toEqual([{ alert: 'breakerOpenings', state: 'recovered', value: 0, threshold: 0, windowMs: INTERVAL }])

    await own.server.start()
    await until(() => own.redis().status === 'ready', 'the client reconnected')
    advance(1000) // the breaker's cooldown: the next lookup is its probe
    for (const id of [1, 2, 1]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    for (const id of [1, 2]) await prisma.user.findUnique({ where: { id } })
    endInterval()
    expect(events.slice(3)).toEqual([{ alert: 'redisErrorRate', state: 'recovered', value: 0, threshold: 0.02, windowMs: INTERVAL + 1000 }])
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'prisma-tiered-cache: alert redisErrorRate crossed its threshold'],
      ['warn', 'prisma-tiered-cache: alert breakerOpenings crossed its threshold'],
      ['info', 'prisma-tiered-cache: alert breakerOpenings recovered'],
      ['info', 'prisma-tiered-cache: alert redisErrorRate recovered'],
    ])
    prisma.$cache.close()
  })
})

describe('the summary timer', () => {
  afterEach(() => void vi.useRealTimers())

  it('judges alerts every summaryIntervalMs even without a logger', async () => {
    let now = 1_000_000
    const events: AlertEvent[] = []
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }) // only the summary timer: Prisma and pg keep theirs
    const prisma = timedDatabase(ctx.db.prisma, knownDelays).cached({
      now: () => now,
      metrics: { summaryIntervalMs: INTERVAL, alerts: { minHitRate: 0.5 } },
      events: { onAlert: (e) => void events.push(e) },
    })
    await prisma.user.findUnique({ where: { id: 1 } })
    now += INTERVAL
    vi.advanceTimersByTime(INTERVAL)
    await prisma.user.findUnique({ where: { id: 2 } })
    now += INTERVAL
    vi.advanceTimersByTime(INTERVAL)
    expect(events).toEqual([{ alert: 'hitRate', state: 'firing', value: 0, threshold: 0.5, windowMs: INTERVAL }])
    prisma.$cache.close()
  })
})

describe('alert options', () => {
  const build = (alerts: unknown) => () => withCache({ metrics: { alerts } } as CacheOptions)
  it.each([
    [{ minHitrate: 0.5 }, 'metrics.alerts.minHitrate is an unknown option (did you mean metrics.alerts.minHitRate?)'],
    [{ minHitRate: 50 }, 'metrics.alerts.minHitRate must be a fraction from 0 to 1, got 50'],
    [{ maxRedisErrorRate: '0.02' }, 'metrics.alerts.maxRedisErrorRate must be a fraction from 0 to 1, got "0.02"'],
    [{ maxDbP95Ms: -1 }, 'metrics.alerts.maxDbP95Ms must be a non-negative number of milliseconds, got -1'],
    [{ maxRedisP95Ms: Number.NaN }, 'metrics.alerts.maxRedisP95Ms must be a non-negative number of milliseconds, got NaN'],
    [{ maxBreakerOpenings: 1.5 }, 'metrics.alerts.maxBreakerOpenings must be a non-negative integer, got 1.5'],
    [[0.5], 'metrics.alerts must be an object { minHitRate?, maxDbP95Ms?, maxRedisP95Ms?, maxRedisErrorRate?, maxBreakerOpenings? }, got an array'],
  ])('%j is a CacheConfigError', (alerts, message) => {
    expect(build(alerts)).toThrow(CacheConfigError)
    expect(build(alerts)).toThrow(message)
  })
})
