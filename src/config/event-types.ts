/** The listener types of `withCache({ events })`: public API, at the bottom of the import graph. */
export type Tier = 'l1' | 'l2'

/** A read answered from the cache, fresh. */
export interface HitEvent {
  model: string
  operation: string
  tier: Tier
  /** The read's arguments, as the caller passed them (without `cacheStrategy`). */
  args: unknown
}

/** A read the cache could not answer: it went to the database, and took `durationMs` there. */
export interface MissEvent {
  model: string
  operation: string
  args: unknown
  durationMs: number
}

/** An expired entry served within its swr window while a refresh runs in the background. */
export interface StaleEvent {
  model: string
  operation: string
  tier: Tier
  args: unknown
}

/**
 * Counters moved by one write, raw statement or `$cache.invalidate*()` call of this process, or by
 * one bus message from another process (`remote`: a write there typically arrives as two).
 */
export interface InvalidateEvent {
  /** The write operation, `executeRaw`, `queryRaw`, `invalidate`, `invalidateAll`, or `remote`. */
  cause: string
  models: string[]
  tags: string[]
  /** Everything was invalidated (raw SQL without `affecting()`, `invalidateAll()`). */
  all: boolean
}

/** Something failed without failing a caller: a Redis call, or a background refresh. */
export interface ErrorEvent {
  source: 'redis' | 'refresh'
  error: unknown
  model?: string
  operation?: string
}

/** What `metrics.alerts` watches, each judged on one summary interval. */
export type AlertName = 'hitRate' | 'dbP95' | 'redisP95' | 'redisErrorRate' | 'breakerOpenings'

/**
 * A threshold of `metrics.alerts` crossed (`firing`: once, when it is first crossed) or no longer
 * crossed (`recovered`: once, at the first interval back within it).
 */
export interface AlertEvent {
  alert: AlertName
  state: 'firing' | 'recovered'
  /** The interval's measure: a fraction for rates, milliseconds for p95s, a count for breaker openings. */
  value: number
  threshold: number
  /** The summary interval judged, ms. */
  windowMs: number
}

/** Listeners, each called synchronously; one that throws is logged and does not affect the read. */
export interface CacheEvents {
  onHit?: (event: HitEvent) => void
  onMiss?: (event: MissEvent) => void
  onStale?: (event: StaleEvent) => void
  onInvalidate?: (event: InvalidateEvent) => void
  onError?: (event: ErrorEvent) => void
  onAlert?: (event: AlertEvent) => void
}

export const EVENT_NAMES = ['onHit', 'onMiss', 'onStale', 'onInvalidate', 'onError', 'onAlert'] as const

