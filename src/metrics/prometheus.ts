import type { Histogram } from './histogram.js'
import { BYPASS_REASONS, type MetricsState, type OperationStats } from './state.js'

type Labels = Record<string, string>
type Sample = [labels: Labels, value: number, suffix?: string]

/** What the lifetime counters cannot tell: current state. */
export interface PrometheusLive {
  breaker: 'open' | 'closed' | undefined
  l1: { entries: number; bytes: number } | undefined
}

const QUANTILES = [0.5, 0.95, 0.99]
const NS_PER_S = 1e9

/**
 * The Prometheus text exposition format (version 0.0.4) of the lifetime counters: counters only
 * grow (`resetMetrics()` starts a window for `metrics()`, not here), latencies are summaries with
 * p50/p95/p99 quantiles over the process's life. Query shapes are not exported: their number is
 * up to the application, and a metric's label set must stay small.
 */
export function prometheusText(state: MetricsState, live: PrometheusLive): string {
  const ops = [...state.models.values()].flatMap((m) => [...m.operations.values()])
  const out: string[] = []
  const family = (name: string, type: string, help: string, samples: Sample[]) => {
    out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`)
    for (const [labels, value, suffix] of samples) out.push(`${name}${suffix ?? ''}${labelText(labels)} ${number(value)}`)
  }
  const perOp = (read: (s: OperationStats) => number, extra: Labels = {}): Sample[] =>
    ops.map((s) => [{ model: s.model, operation: s.operation, ...extra }, read(s)])

  family('prisma_cache_hits_total', 'counter', 'Reads answered fresh from a cache tier.', [
    ...perOp((s) => s.hitsL1, { tier: 'l1' }),
    ...perOp((s) => s.hitsL2, { tier: 'l2' }),
  ])
  family('prisma_cache_misses_total', 'counter', 'Cacheable reads that queried the database.', perOp((s) => s.misses))
  family('prisma_cache_stale_total', 'counter', 'Expired entries served while a background refresh ran.', perOp((s) => s.stale))
  family('prisma_cache_coalesced_total', 'counter', "Reads answered by another read's query (single flight or lease).", perOp((s) => s.coalesced))
  family(
    'prisma_cache_bypasses_total',
    'counter',
    'Reads that skipped the cache, or its Redis tier, by reason.',
    BYPASS_REASONS.flatMap((reason) => perOp((s) => s.bypasses[reason], { reason })),
  )
  family('prisma_cache_refresh_errors_total', 'counter', 'Background refreshes that failed; the stale value stayed.', perOp((s) => s.refreshErrors))
  family('prisma_cache_redis_errors_total', 'counter', 'Redis calls that failed or timed out.', [[{}, state.redisErrors]])
  family('prisma_cache_invalidations_total', 'counter', 'Invalidations of a model by this process, each write once, by cause (write operation, executeRaw, invalidate).', [
    ...[...state.models].flatMap(([model, m]) => [...m.invalidations].map(([cause, n]): Sample => [{ model, cause }, n])),
  ])
  family('prisma_cache_tag_invalidations_total', 'counter', 'Tag counters bumped.', [[{}, state.tagInvalidations]])
  family('prisma_cache_full_invalidations_total', 'counter', 'Bumps of the global counter (raw SQL, invalidateAll).', [[{}, state.allInvalidations]])
  family('prisma_cache_db_query_duration_seconds', 'summary', 'Database time of cache misses and refreshes.', ops.flatMap((s) => summary(s.db, { model: s.model, operation: s.operation })))
  family('prisma_cache_answer_duration_seconds', 'summary', 'Time to answer from a cache tier (L1 sampled, one read in 64).', [
    ...ops.flatMap((s) => summary(s.l1, { model: s.model, operation: s.operation, tier: 'l1' })),
    ...ops.flatMap((s) => summary(s.l2, { model: s.model, operation: s.operation, tier: 'l2' })),
  ])
  family('prisma_cache_db_time_saved_seconds', 'gauge', "Estimated database time saved by hits: hits per query shape times the shape's mean query time.", savedSamples(state))
  family('prisma_cache_batch_size', 'summary', 'Reads per dispatched lookup batch.', [...state.models].flatMap(([model, m]) => summary(m.batchSizes, { model }, 1)))
  family('prisma_cache_bus_delay_seconds', 'summary', 'Invalidation-bus delivery delay.', summary(state.busDelays, {}, 1000))
  if (live.breaker !== undefined) {
    family('prisma_cache_breaker_open', 'gauge', 'Whether the Redis circuit breaker is open (1) or closed (0).', [[{}, live.breaker === 'open' ? 1 : 0]])
    family('prisma_cache_breaker_transitions_total', 'counter', 'Redis circuit breaker state changes.', [
      [{ state: 'open' }, state.breakerOpened],
      [{ state: 'closed' }, state.breakerClosed],
    ])
  }
  if (live.l1 !== undefined) {
    family('prisma_cache_l1_entries', 'gauge', 'Entries held in the in-process tier.', [[{}, live.l1.entries]])
    family('prisma_cache_l1_bytes', 'gauge', 'Encoded bytes held in the in-process tier.', [[{}, live.l1.bytes]])
  }
  return `${out.join('\n')}\n`
}

/** Quantile, `_sum` and `_count` samples; values divided by `unitsPerSecond` (ns by default). */
function summary(h: Histogram, labels: Labels, unitsPerSecond = NS_PER_S): Sample[] {
  if (h.count === 0) return []
  return [
    ...QUANTILES.map((q): Sample => [{ ...labels, quantile: String(q) }, h.quantile(q)! / unitsPerSecond]),
    [labels, h.sum / unitsPerSecond, '_sum'],
    [labels, h.count, '_count'],
  ]
}

function savedSamples(state: MetricsState): Sample[] {
  const saved = new Map<string, Sample>()
  for (const shape of state.shapes.values()) {
    const key = `${shape.model}\u0000${shape.operation}`
    const sample = saved.get(key) ?? saved.set(key, [{ model: shape.model, operation: shape.operation }, 0]).get(key)!
    sample[1] += shape.savedNs / NS_PER_S
  }
  return [...saved.values()]
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`)
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}
