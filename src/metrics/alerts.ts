import type { AlertEvent, AlertName } from '../config/event-types.js'
import type { AlertThresholds, CacheLogger } from '../config/options.js'
import type { MetricsSnapshot } from './snapshot.js'
import type { MetricsState } from './state.js'

const NS_PER_MS = 1e6

/** One watched figure: how to read it off an interval (`undefined`: not measured in it) and which side is bad. */
interface Watch {
  alert: AlertName
  threshold: number
  crossed: (value: number, threshold: number) => boolean
  measure: (window: MetricsSnapshot, counts: MetricsState) => number | undefined
}

const below = (value: number, threshold: number) => value < threshold
const above = (value: number, threshold: number) => value > threshold

const MEASURES: Record<keyof AlertThresholds, Omit<Watch, 'threshold'>> = {
  minHitRate: { alert: 'hitRate', crossed: below, measure: (w) => (w.hits + w.misses === 0 ? undefined : w.hitRate) },
  maxDbP95Ms: { alert: 'dbP95', crossed: above, measure: (w) => w.latency.db?.p95 },
  maxRedisP95Ms: { alert: 'redisP95', crossed: above, measure: (_, c) => c.redisCalls.summary(NS_PER_MS)?.p95 },
  // errors of calls outside the guard (pattern scans) have no call counted: capped at 1
  maxRedisErrorRate: { alert: 'redisErrorRate', crossed: above, measure: (w, c) => (c.redisCalls.count === 0 ? undefined : Math.min(1, w.redisErrors / c.redisCalls.count)) },
  maxBreakerOpenings: { alert: 'breakerOpenings', crossed: above, measure: (w) => w.breaker?.opened },
}

/**
 * `metrics.alerts`, judged on each summary interval (summary.ts). An alert changes state only
 * when the interval's figure says so: it fires once when crossed and recovers once when back
 * within (test/metrics/alerts.test.ts), so a lasting problem is one warning, not one per interval.
 */
export class Alerts {
  private readonly watches: Watch[] = []
  private readonly firing = new Set<AlertName>()

  constructor(
    thresholds: AlertThresholds,
    private readonly logger: CacheLogger | undefined,
    private readonly emit: (event: AlertEvent) => void,
  ) {
    for (const [key, threshold] of Object.entries(thresholds) as Array<[keyof AlertThresholds, number | undefined]>) {
      if (threshold !== undefined) this.watches.push({ ...MEASURES[key], threshold })
    }
  }

  get watching(): boolean {
    return this.watches.length > 0
  }

  /** Judges one interval: its snapshot, and the raw counts it was made from. */
  evaluate(window: MetricsSnapshot, counts: MetricsState): void {
    for (const watch of this.watches) {
      const value = watch.measure(window, counts)
      if (value === undefined) continue
      const crossed = watch.crossed(value, watch.threshold)
      if (crossed === this.firing.has(watch.alert)) continue
      const event: AlertEvent = { alert: watch.alert, state: crossed ? 'firing' : 'recovered', value, threshold: watch.threshold, windowMs: window.windowMs }
      if (crossed) {
        this.firing.add(watch.alert)
        this.logger?.warn(event, `prisma-tiered-cache: alert ${watch.alert} crossed its threshold`)
      } else {
        this.firing.delete(watch.alert)
        this.logger?.info(event, `prisma-tiered-cache: alert ${watch.alert} recovered`)
      }
      this.emit(event)
    }
  }
}
