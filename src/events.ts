import type { CacheLogger } from './options.js'

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

/** Listeners, each called synchronously; one that throws is logged and does not affect the read. */
export interface CacheEvents {
  onHit?: (event: HitEvent) => void
  onMiss?: (event: MissEvent) => void
  onStale?: (event: StaleEvent) => void
  onInvalidate?: (event: InvalidateEvent) => void
  onError?: (event: ErrorEvent) => void
}

export const EVENT_NAMES = ['onHit', 'onMiss', 'onStale', 'onInvalidate', 'onError'] as const

export const hitEvent = (model: string, operation: string, tier: Tier, args: unknown): HitEvent => ({ model, operation, tier, args })
export const missEvent = (model: string, operation: string, args: unknown, durationMs: number): MissEvent => ({ model, operation, args, durationMs })
export const staleEvent = (model: string, operation: string, tier: Tier, args: unknown): StaleEvent => ({ model, operation, tier, args })
export const errorEvent = (source: ErrorEvent['source'], error: unknown, model?: string, operation?: string): ErrorEvent => ({ source, error, model, operation })

/** Counter names (`m:Model`, `t:tag`, `*`) as an event. */
export function invalidateEvent(cause: string, names: Iterable<string>): InvalidateEvent {
  const event: InvalidateEvent = { cause, models: [], tags: [], all: false }
  for (const name of names) {
    if (name.startsWith('m:')) event.models.push(name.slice(2))
    else if (name.startsWith('t:')) event.tags.push(name.slice(2))
    else if (name === '*') event.all = true
  }
  return event
}

/**
 * Dispatches to the user's listeners. Each method returns at once when nobody listens, before
 * building anything: the L1 hit path calls `hit` on every hit and must allocate nothing for it.
 */
export class Events {
  constructor(
    private readonly listeners: CacheEvents,
    private readonly logger: CacheLogger | undefined,
  ) {}

  hit(model: string, operation: string, tier: Tier, args: unknown): void {
    if (this.listeners.onHit !== undefined) this.call('onHit', hitEvent(model, operation, tier, args))
  }

  miss(model: string, operation: string, args: unknown, durationMs: number): void {
    if (this.listeners.onMiss !== undefined) this.call('onMiss', missEvent(model, operation, args, durationMs))
  }

  stale(model: string, operation: string, tier: Tier, args: unknown): void {
    if (this.listeners.onStale !== undefined) this.call('onStale', staleEvent(model, operation, tier, args))
  }

  invalidate(cause: string, names: Iterable<string>): void {
    if (this.listeners.onInvalidate !== undefined) this.call('onInvalidate', invalidateEvent(cause, names))
  }

  error(source: ErrorEvent['source'], error: unknown, model?: string, operation?: string): void {
    if (this.listeners.onError !== undefined) this.call('onError', errorEvent(source, error, model, operation))
  }

  private call<K extends keyof CacheEvents>(name: K, event: Parameters<NonNullable<CacheEvents[K]>>[0]): void {
    try {
      ;(this.listeners[name] as (event: unknown) => void)(event)
    } catch (error) {
      this.logger?.warn({ err: error, listener: name }, 'prisma-tiered-cache: an event listener threw')
    }
  }
}
