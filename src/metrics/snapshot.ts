import { Histogram, type Distribution } from './histogram.js'
import { BYPASS_REASONS, type BypassReason, type MetricsState, type ModelStats, type OperationStats, type ShapeStats } from './state.js'
import { ttlAdvice, type TtlAdvice } from './ttl-advice.js'

export type { BypassReason } from './state.js'
export type { Distribution } from './histogram.js'
export type { TtlAdvice } from './ttl-advice.js'

const NS_PER_MS = 1e6

/** Latency distributions, milliseconds; percentiles within ~1.6% (histogram.ts). Absent: no sample. */
export interface Latencies {
  /** Database queries of misses and background refreshes. */
  db: Distribution | undefined
  /** L1 answers, sampled: one read in 64 is timed. */
  l1: Distribution | undefined
  /** L2 answers: Redis round trip, decoding and L1 backfill. */
  l2: Distribution | undefined
}

/** What happened to the reads of one model and operation in the window. */
export interface OperationCounters {
  hitsL1: number
  hitsL2: number
  misses: number
  /** Expired entries served within their swr window while a refresh ran. */
  stale: number
  /** Reads answered by another read's query: same process (single flight) or another (lease). */
  coalesced: number
  /** Reads that skipped the cache, or its Redis tier (`redisDown`: Redis failed or the breaker is open). */
  bypasses: number
  bypassReasons: Record<BypassReason, number>
  /** Background refreshes that failed (the stale value stayed). */
  refreshErrors: number
  /** Redis lookups and stores of these reads that failed or timed out. */
  redisErrors: number
  /** hits / (hits + misses); 0 before any. */
  hitRate: number
  /** Estimated database time the hits saved, ms: hits per query shape × that shape's mean query time. */
  savedMs: number
  latency: Latencies
}

/** One model: its reads summed over operations, per operation, and what its writes invalidated. */
export interface ModelCounters extends OperationCounters {
  /** Writes (and explicit invalidations) that moved this model's generation, each counted once. */
  invalidations: number
  /** The same, by cause: the write operation, `executeRaw`, `queryRaw`, `invalidate`. */
  invalidationsBy: Record<string, number>
  /** Lookup batches dispatched, and their sizes (reads per batch). */
  batches: number
  batchSize: Distribution | undefined
  operations: Record<string, OperationCounters>
}

/** A query shape: model, operation and argument keys (never values). */
export interface QueryShape {
  model: string
  operation: string
  /** `{include{posts},where{id}}`: keys only. */
  shape: string
  hits: number
  /** Database queries in the window, their mean time (ms, over the shape's life) and time saved by hits. */
  queries: number
  meanMs: number
  savedMs: number
  /** Queries slower than `metrics.slowQueryMs`, and their mean time, ms. */
  slow: number
  slowMeanMs: number
  /** Reads between invalidations in the window, and the ttl they suggest (ttl-advice.ts). */
  ttlAdvice: TtlAdvice
}

export interface MetricsSnapshot {
  /** Milliseconds since the window began (`resetMetrics()`, else the extension's creation). */
  windowMs: number
  /** Every read the extension served: hits, stale, coalesced, misses and bypasses. */
  served: number
  hits: number
  hitsL1: number
  hitsL2: number
  misses: number
  stale: number
  coalesced: number
  bypasses: number
  bypassReasons: Record<BypassReason, number>
  /** (L1 + L2 hits) / (hits + misses). */
  hitRate: number
  /** Share of lookups answered by L1: hitsL1 / (hits + misses). */
  hitRateL1: number
  /** Share of the lookups reaching L2 that it answered: hitsL2 / (hitsL2 + misses). */
  hitRateL2: number
  savedMs: number
  latency: Latencies
  /** Redis calls that failed or timed out, of every kind (each answered from L1 or the database instead). */
  redisErrors: number
  /**
   * Invalidations by this process (each write counted once): of models (per model below), of
   * tags, and of everything (raw SQL without `affecting()`, `invalidateAll`). Another process's
   * arrive through the bus (`busDelayMs.count` messages) and are counted there.
   */
  invalidations: { models: number; tags: number; all: number }
  /** Invalidation-bus delivery delay, ms (undefined: no message yet). */
  busDelayMs: { p50: number; p95: number; p99: number; count: number } | undefined
  /** The Redis circuit breaker: current state and transitions in the window (undefined: no Redis). */
  breaker: { state: 'open' | 'closed'; opened: number; closed: number } | undefined
  /**
   * What L1 holds now (undefined: L1 off): entries, their encoded bytes, and the generation
   * counters this process still holds for them (collected once no entry refers to one).
   */
  l1: { entries: number; bytes: number; counters: number } | undefined
  /** Query shapes that were read in the window, most time saved first. */
  shapes: QueryShape[]
  /** Shapes with queries over `metrics.slowQueryMs` in the window, slowest total first. */
  slowQueries: QueryShape[]
  models: Record<string, ModelCounters>
}

/** What the window cannot tell: current state, not counts. */
export interface LiveState {
  windowMs: number
  breaker: 'open' | 'closed' | undefined
  l1: { entries: number; bytes: number; counters: number } | undefined
}

/** The public snapshot of a window of counters (metrics-state.ts). */
export function snapshotOf(window: MetricsState, live: LiveState): MetricsSnapshot {
  const savedByOperation = new Map<string, number>()
  for (const shape of window.shapes.values()) {
    const key = `${shape.model}.${shape.operation}`
    savedByOperation.set(key, (savedByOperation.get(key) ?? 0) + shape.savedNs)
  }
  const models: Record<string, ModelCounters> = {}
  for (const [name, stats] of window.models) models[name] = modelCounters(stats, savedByOperation)
  const total = sumCounters(Object.values(models))
  const shapes = [...window.shapes.values()].filter((s) => s.hits > 0 || s.queries > 0).map(queryShape)
  const bus = window.busDelays.summary()
  return {
    windowMs: live.windowMs,
    served: total.hitsL1 + total.hitsL2 + total.misses + total.stale + total.coalesced + total.bypasses,
    hits: total.hitsL1 + total.hitsL2,
    ...pick(total, 'hitsL1', 'hitsL2', 'misses', 'stale', 'coalesced', 'bypasses', 'bypassReasons', 'hitRate', 'savedMs'),
    hitRateL1: ratio(total.hitsL1, total.hitsL1 + total.hitsL2 + total.misses),
    hitRateL2: ratio(total.hitsL2, total.hitsL2 + total.misses),
    latency: latencies([...window.models.values()].flatMap((m) => [...m.operations.values()])),
    redisErrors: window.redisErrors,
    invalidations: {
      models: Object.values(models).reduce((n, m) => n + m.invalidations, 0),
      tags: window.tagInvalidations,
      all: window.allInvalidations,
    },
    busDelayMs: bus && { p50: bus.p50, p95: bus.p95, p99: bus.p99, count: bus.count },
    breaker: live.breaker && { state: live.breaker, opened: window.breakerOpened, closed: window.breakerClosed },
    l1: live.l1,
    shapes: shapes.sort((a, b) => b.savedMs - a.savedMs),
    slowQueries: shapes.filter((s) => s.slow > 0).sort((a, b) => b.slow * b.slowMeanMs - a.slow * a.slowMeanMs),
    models,
  }
}

function modelCounters(stats: ModelStats, savedByOperation: ReadonlyMap<string, number>): ModelCounters {
  const operations: Record<string, OperationCounters> = {}
  for (const [op, s] of stats.operations) operations[op] = operationCounters(s, savedByOperation.get(`${s.model}.${op}`) ?? 0)
  const invalidationsBy = Object.fromEntries(stats.invalidations)
  return {
    ...sumCounters(Object.values(operations)),
    latency: latencies([...stats.operations.values()]),
    invalidations: Object.values(invalidationsBy).reduce((n, v) => n + v, 0),
    invalidationsBy,
    batches: stats.batchSizes.count,
    batchSize: stats.batchSizes.summary(),
    operations,
  }
}

function operationCounters(s: OperationStats, savedNs: number): OperationCounters {
  const bypassReasons = { ...s.bypasses }
  return {
    ...pick(s, 'hitsL1', 'hitsL2', 'misses', 'stale', 'coalesced', 'refreshErrors', 'redisErrors'),
    bypasses: BYPASS_REASONS.reduce((n, r) => n + bypassReasons[r], 0),
    bypassReasons,
    hitRate: ratio(s.hitsL1 + s.hitsL2, s.hitsL1 + s.hitsL2 + s.misses),
    savedMs: savedNs / NS_PER_MS,
    latency: latencies([s]),
  }
}

type Counts = Omit<OperationCounters, 'latency'>
const SUMMED = ['hitsL1', 'hitsL2', 'misses', 'stale', 'coalesced', 'bypasses', 'refreshErrors', 'redisErrors', 'savedMs'] as const

function sumCounters(parts: readonly Counts[]): Counts {
  const sum = (field: (typeof SUMMED)[number]) => parts.reduce((n, p) => n + p[field], 0)
  const counts = Object.fromEntries(SUMMED.map((field) => [field, sum(field)])) as Record<(typeof SUMMED)[number], number>
  const bypassReasons = Object.fromEntries(BYPASS_REASONS.map((r) => [r, parts.reduce((n, p) => n + p.bypassReasons[r], 0)]))
  const hits = counts.hitsL1 + counts.hitsL2
  return { ...counts, bypassReasons: bypassReasons as Record<BypassReason, number>, hitRate: ratio(hits, hits + counts.misses) }
}

/** Percentiles cannot be added: totals merge the histograms, then summarize. */
function latencies(parts: readonly OperationStats[]): Latencies {
  const merge = (tier: 'db' | 'l1' | 'l2') => parts.reduce((h, s) => h.add(s[tier]), new Histogram()).summary(NS_PER_MS)
  return { db: merge('db'), l1: merge('l1'), l2: merge('l2') }
}

function queryShape(s: ShapeStats): QueryShape {
  return {
    model: s.model,
    operation: s.operation,
    shape: s.shape,
    hits: s.hits,
    queries: s.queries,
    meanMs: s.meanNs / NS_PER_MS,
    savedMs: s.savedNs / NS_PER_MS,
    slow: s.slow,
    slowMeanMs: s.slow === 0 ? 0 : s.slowNs / s.slow / NS_PER_MS,
    ttlAdvice: ttlAdvice(s),
  }
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole
}

function pick<T, K extends keyof T>(object: T, ...keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>
  for (const key of keys) out[key] = object[key]
  return out
}
