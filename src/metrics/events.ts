import { safeError } from '../errors.js'
import type { CacheLogger } from '../config/options.js'
import type { AlertEvent, CacheEvents, ErrorEvent, HitEvent, InvalidateEvent, MissEvent, StaleEvent, Tier } from '../config/event-types.js'
import { parseCounter, type CounterName } from '../keys/names.js'

export type { AlertEvent, CacheEvents, ErrorEvent, HitEvent, InvalidateEvent, MissEvent, StaleEvent, Tier } from '../config/event-types.js'

export const hitEvent = (model: string, operation: string, tier: Tier, args: unknown): HitEvent => ({ model, operation, tier, args })
export const missEvent = (model: string, operation: string, args: unknown, durationMs: number): MissEvent => ({ model, operation, args, durationMs })
export const staleEvent = (model: string, operation: string, tier: Tier, args: unknown): StaleEvent => ({ model, operation, tier, args })
export const errorEvent = (source: ErrorEvent['source'], error: unknown, model?: string, operation?: string): ErrorEvent => ({ source, error, model, operation })

/** Counter names (keys/names.ts) as an event: the models, tags and whether everything moved. */
export function invalidateEvent(cause: string, names: Iterable<CounterName>): InvalidateEvent {
  const models = new Set<string>()
  const event: InvalidateEvent = { cause, models: [], tags: [], all: false }
  for (const name of names) {
    const counter = parseCounter(name)
    if (counter === undefined || counter.kind === 'relation') continue
    if (counter.kind === 'tag') event.tags.push(counter.tag)
    else if (counter.kind === 'all') event.all = true
    else models.add(counter.model)
  }
  event.models = [...models]
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
    if (this.listeners.onError !== undefined) this.call('onError', errorEvent(source, safeError(error), model, operation))
  }

  alert(event: AlertEvent): void {
    if (this.listeners.onAlert !== undefined) this.call('onAlert', event)
  }

  private call<K extends keyof CacheEvents>(name: K, event: Parameters<NonNullable<CacheEvents[K]>>[0]): void {
    try {
      ;(this.listeners[name] as (event: unknown) => void)(event)
    } catch (error) {
      this.logger?.warn({ err: safeError(error), listener: name }, 'prisma-tiered-cache: an event listener threw')
    }
  }
}
