import type { Cluster, Redis } from 'ioredis'
import type { Bus } from '../invalidation/bus.js'
import type { Outbox } from '../invalidation/outbox.js'
import type { L1 } from '../tiers/l1.js'
import { withTimeout } from '../tiers/redis-guard.js'

/** `prisma.$cache.health()`: the cache's state now, for a readiness or status endpoint. */
export interface HealthReport {
  /** `'ok'`: every configured tier works. `'degraded'`: reads still succeed, from L1 and the database, but see `problems`. */
  status: 'ok' | 'degraded'
  ok: boolean
  /** What makes it degraded, one short phrase each (never a value). */
  problems: string[]
  /** Undefined without `redis`. */
  redis: {
    /** A PING answered within `redisTimeoutMs`. */
    reachable: boolean
    /** That PING's round trip, ms; undefined when unanswered. */
    roundTripMs: number | undefined
    /** Open: reads skip Redis (after `breaker.failures` consecutive failures) until a probe succeeds. */
    breaker: 'open' | 'closed'
    /** Counter bumps and tag-pattern drops of this process's writes not applied in Redis yet (retried). */
    pendingInvalidations: number
  } | undefined
  /** The invalidation bus (undefined without Redis, or without L1, which is all it serves). */
  bus: {
    /** Subscribed, its heartbeat heard in time, and the breaker closed: L1 can be trusted. */
    subscribed: boolean
    /** The latest heartbeat's round trip through pub/sub, ms; undefined before one, and while not subscribed. */
    roundTripMs: number | undefined
  } | undefined
  /** Undefined when L1 is off. */
  l1: { entries: number; bytes: number; maxBytes: number } | undefined
}

export interface HealthParts {
  redis: Redis | Cluster | undefined
  redisTimeoutMs: number
  breakerOpen: () => boolean
  outbox: Outbox | undefined
  bus: Bus | undefined
  l1: L1 | undefined
  l1MaxBytes: number
}

/** Never rejects: an unanswered PING is `reachable: false` after `redisTimeoutMs` (test/cache/health.test.ts). */
export async function health(parts: HealthParts): Promise<HealthReport> {
  const { l1, bus } = parts
  const redis = parts.redis && { ...(await ping(parts.redis, parts.redisTimeoutMs)), breaker: parts.breakerOpen() ? 'open' as const : 'closed' as const, pendingInvalidations: parts.outbox?.pending ?? 0 }
  const problems: string[] = []
  if (redis !== undefined && !redis.reachable) problems.push('Redis did not answer PING')
  if (redis?.breaker === 'open') problems.push('Redis breaker open')
  if (redis !== undefined && redis.pendingInvalidations > 0) problems.push('invalidations waiting for Redis')
  if (bus !== undefined && !bus.connected) problems.push('invalidation bus not subscribed')
  return {
    status: problems.length === 0 ? 'ok' : 'degraded',
    ok: problems.length === 0,
    problems,
    redis,
    // a round trip from before the bus went down says nothing about it now
    bus: bus && { subscribed: bus.connected, roundTripMs: bus.connected ? bus.roundTripMs : undefined },
    l1: l1 && { entries: l1.size, bytes: l1.usedBytes, maxBytes: parts.l1MaxBytes },
  }
}

/** Outside the breaker on purpose: a probe's outcome must not change how reads treat Redis. */
async function ping(redis: Redis | Cluster, timeoutMs: number): Promise<{ reachable: boolean; roundTripMs: number | undefined }> {
  const started = performance.now()
  try {
    await withTimeout(redis.ping(), timeoutMs)
    return { reachable: true, roundTripMs: performance.now() - started }
  } catch {
    return { reachable: false, roundTripMs: undefined }
  }
}
