import type { Alerts } from './alerts.js'
import type { Metrics } from './metrics.js'
import type { MetricsState, ShapeStats } from './state.js'
import { snapshotOf, type MetricsSnapshot } from './snapshot.js'
import type { CacheLogger } from '../config/options.js'
import type { TtlAdvice } from './ttl-advice.js'

/** How many models and slow shapes a summary names. */
const TOP = 3
const TOP_SLOW = 10
/** How many shapes with invalidations a summary advises on. */
const TOP_ADVICE = 10
/** Without periodic summaries, a slow shape is logged at most once per this many ms. */
const DEFAULT_SLOW_LOG_EVERY_MS = 60_000

/** The summary log's content, since the previous summary (or the extension's creation). */
export interface MetricsSummary {
  windowMs: number
  served: number
  hitsL1: number
  hitsL2: number
  misses: number
  stale: number
  bypasses: number
  hitRate: number
  hitRateL1: number
  hitRateL2: number
  /** Estimated database time saved by hits, ms. */
  savedMs: number
  /** Database query time of misses and refreshes, ms. */
  db: { p50: number; p95: number; p99: number; count: number } | undefined
  /** Query shapes with queries over `metrics.slowQueryMs`: keys only, never values. */
  slowQueries: Array<{ model: string; operation: string; shape: string; count: number; meanMs: number }>
  /**
   * Shapes whose entries were found invalidated, 'do not cache' first, then most read: reads per
   * invalidation and the ttl they suggest (ttl-advice.ts). Keys only, never values.
   */
  ttlAdvice: Array<{ model: string; operation: string; shape: string } & TtlAdvice>
  /** Models with the most reads. */
  busiest: Array<{ model: string; served: number; hitRate: number }>
  /** Models with the lowest hit rate among those that missed. */
  worstHit: Array<{ model: string; hitRate: number; misses: number }>
  redisErrors: number
  breaker: 'open' | 'closed' | undefined
}

export interface SummarySettings {
  summaryIntervalMs: number
  slowQueryMs: number
  now: () => number
}

/**
 * Summary logs through the user's logger: periodically on an unref'd timer, and on demand. Each
 * covers the time since the previous one: it keeps a copy of the lifetime counters and reports the
 * difference, so it neither resets nor disturbs `metrics()` windows. Also logs slow queries as
 * they happen, at most one per query shape per interval. Never on the read path's critical part:
 * the slow-query log runs after a query that was slow anyway.
 */
export class SummaryLog {
  private previous: MetricsState | undefined
  private previousAt: number
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: CacheLogger | undefined,
    private readonly settings: SummarySettings,
    private readonly alerts?: Alerts,
  ) {
    this.previousAt = settings.now()
    if (logger !== undefined && metrics.enabled && settings.slowQueryMs > 0) metrics.onSlowQuery = (shape, ms) => this.slowQuery(shape, ms)
  }

  start(): void {
    const watched = this.logger !== undefined || this.alerts?.watching === true
    if (!watched || !this.metrics.enabled || this.settings.summaryIntervalMs === 0) return
    this.timer = setInterval(() => this.log(true), this.settings.summaryIntervalMs)
    this.timer.unref() // a summary must never keep the process alive
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Builds the summary since the previous one, judges its alerts and logs it; a periodic one is not logged when idle. */
  log(periodic = false): MetricsSummary {
    const now = this.settings.now()
    const counts = this.metrics.state.since(this.previous)
    const window = snapshotOf(counts, {
      windowMs: now - this.previousAt,
      breaker: this.metrics.breakerState,
      l1: undefined,
    })
    this.previous = this.metrics.state.since(undefined)
    this.previousAt = now
    const summary = summarize(window, this.metrics.breakerState)
    this.alerts?.evaluate(window, counts)
    if (!(periodic && summary.served === 0 && summary.redisErrors === 0)) {
      this.logger?.info(summary, 'prisma-tiered-cache: summary')
    }
    return summary
  }

  private slowQuery(shape: ShapeStats, ms: number): void {
    const now = this.settings.now()
    if (now - shape.loggedAt < (this.settings.summaryIntervalMs || DEFAULT_SLOW_LOG_EVERY_MS)) return
    shape.loggedAt = now
    const { model, operation } = shape
    this.logger?.warn({ model, operation, shape: shape.shape, durationMs: ms, slowQueryMs: this.settings.slowQueryMs }, 'prisma-tiered-cache: slow query')
  }
}

function summarize(window: MetricsSnapshot, breaker: 'open' | 'closed' | undefined): MetricsSummary {
  const db = window.latency.db
  const models = Object.entries(window.models).map(([model, m]) => ({
    model,
    served: m.hitsL1 + m.hitsL2 + m.misses + m.stale + m.coalesced + m.bypasses,
    hitRate: m.hitRate,
    misses: m.misses,
  }))
  return {
    windowMs: window.windowMs,
    served: window.served,
    hitsL1: window.hitsL1,
    hitsL2: window.hitsL2,
    misses: window.misses,
    stale: window.stale,
    bypasses: window.bypasses,
    hitRate: window.hitRate,
    hitRateL1: window.hitRateL1,
    hitRateL2: window.hitRateL2,
    savedMs: window.savedMs,
    db: db && { p50: db.p50, p95: db.p95, p99: db.p99, count: db.count },
    slowQueries: window.slowQueries
      .slice(0, TOP_SLOW)
      .map(({ model, operation, shape, slow, slowMeanMs }) => ({ model, operation, shape, count: slow, meanMs: slowMeanMs })),
    ttlAdvice: window.shapes
      .filter((s) => s.ttlAdvice.invalidations > 0)
      .sort((a, b) => Number(b.ttlAdvice.advice === 'do not cache') - Number(a.ttlAdvice.advice === 'do not cache') || b.ttlAdvice.reads - a.ttlAdvice.reads)
      .slice(0, TOP_ADVICE)
      .map(({ model, operation, shape, ttlAdvice }) => ({ model, operation, shape, ...ttlAdvice })),
    busiest: models
      .filter((m) => m.served > 0)
      .sort((a, b) => b.served - a.served)
      .slice(0, TOP)
      .map(({ model, served, hitRate }) => ({ model, served, hitRate })),
    worstHit: models
      .filter((m) => m.misses > 0)
      .sort((a, b) => a.hitRate - b.hitRate || b.misses - a.misses)
      .slice(0, TOP)
      .map(({ model, hitRate, misses }) => ({ model, hitRate, misses })),
    redisErrors: window.redisErrors,
    breaker,
  }
}
