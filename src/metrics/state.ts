import { Histogram } from './histogram.js'

/** Why a read skipped the cache (or its Redis tier). */
export type BypassReason = 'policy' | 'transaction' | 'cacheStrategy' | 'badCacheStrategy' | 'redisDown'
export const BYPASS_REASONS: readonly BypassReason[] = ['policy', 'transaction', 'cacheStrategy', 'badCacheStrategy', 'redisDown']

const COUNTERS = ['hitsL1', 'hitsL2', 'misses', 'stale', 'coalesced', 'refreshErrors', 'redisErrors'] as const

/**
 * The counters of one model and read operation. Plain fields on an object made once per pair:
 * the read path only increments them. Every read lands in exactly one of hitsL1, hitsL2, stale,
 * coalesced, misses or a bypass reason.
 */
export class OperationStats {
  hitsL1 = 0
  hitsL2 = 0
  misses = 0
  stale = 0
  coalesced = 0
  refreshErrors = 0
  /** Lookups and stores of this operation's entries that Redis failed or timed out. */
  redisErrors = 0
  readonly bypasses: Record<BypassReason, number> = { policy: 0, transaction: 0, cacheStrategy: 0, badCacheStrategy: 0, redisDown: 0 }
  /** Database time of misses and background refreshes, ns. */
  db = new Histogram()
  /** L1 answer time, ns, of one read in `L1_SAMPLE_EVERY` (timing every hit would double its cost). */
  l1 = new Histogram()
  /** L2 answer time (round trip, decoding, L1 backfill), ns. */
  l2 = new Histogram()

  constructor(
    readonly model: string,
    readonly operation: string,
  ) {}

  /** What happened since `base`, an earlier copy (none: everything so far). */
  since(base: OperationStats | undefined): OperationStats {
    const window = new OperationStats(this.model, this.operation)
    for (const c of COUNTERS) window[c] = this[c] - (base?.[c] ?? 0)
    for (const r of BYPASS_REASONS) window.bypasses[r] = this.bypasses[r] - (base?.bypasses[r] ?? 0)
    window.db = this.db.since(base?.db)
    window.l1 = this.l1.since(base?.l1)
    window.l2 = this.l2.since(base?.l2)
    return window
  }
}

/**
 * One query shape: model, operation and the redacted argument shape (shape.ts). Cached entries
 * point at theirs, and through it at their operation's counters, so an L1 hit counts without a
 * single lookup.
 */
export class ShapeStats {
  /** Reads answered from L1 or L2. */
  hits = 0
  /** Database queries (misses and refreshes) and their total time, ns. */
  queries = 0
  queryNs = 0
  /** A moving average of the latest queries' time, ns (a first, cold query weighs out quickly): what a miss expects to pay. */
  recentNs = 0
  /**
   * Entries of this shape a batch filled, and their shares of the batch's query time, ns: apart
   * from `queries`, which lease decisions read, and used for time saved only when the shape has
   * no query of its own (a findUnique that is always batched).
   */
  filled = 0
  filledNs = 0
  /** Queries slower than `metrics.slowQueryMs`, and their total time, ns. */
  slow = 0
  slowNs = 0
  /**
   * Entries of this shape a read found invalidated (a write had moved a counter they recorded),
   * and the sum of their ages then, ms: TTL advice (ttl-advice.ts).
   */
  invalidated = 0
  invalidatedAgeMs = 0
  /** When a slow query of this shape was last logged (rate limit); not a counter. */
  loggedAt = -Infinity
  /** Set on windows: the shape's lifetime mean, since a window with hits but no query still saved time. */
  private lifetimeMeanNs: number | undefined

  constructor(
    readonly stats: OperationStats,
    readonly shape: string,
  ) {}

  get model(): string {
    return this.stats.model
  }

  get operation(): string {
    return this.stats.operation
  }

  get meanNs(): number {
    if (this.lifetimeMeanNs !== undefined) return this.lifetimeMeanNs
    if (this.queries > 0) return this.queryNs / this.queries
    return this.filled === 0 ? 0 : this.filledNs / this.filled
  }

  /** Estimated database time the hits saved: each would have cost this shape's mean query time. */
  get savedNs(): number {
    return this.hits * this.meanNs
  }

  since(base: ShapeStats | undefined): ShapeStats {
    const window = new ShapeStats(this.stats, this.shape)
    window.hits = this.hits - (base?.hits ?? 0)
    window.queries = this.queries - (base?.queries ?? 0)
    window.queryNs = this.queryNs - (base?.queryNs ?? 0)
    window.slow = this.slow - (base?.slow ?? 0)
    window.slowNs = this.slowNs - (base?.slowNs ?? 0)
    window.filled = this.filled - (base?.filled ?? 0)
    window.filledNs = this.filledNs - (base?.filledNs ?? 0)
    window.invalidated = this.invalidated - (base?.invalidated ?? 0)
    window.invalidatedAgeMs = this.invalidatedAgeMs - (base?.invalidatedAgeMs ?? 0)
    window.lifetimeMeanNs = this.meanNs
    return window
  }
}

/** A model's operations, and what is counted per model rather than per read operation. */
export class ModelStats {
  readonly operations = new Map<string, OperationStats>()
  /** Invalidations of this model by this process, by cause: the write operation, `executeRaw`, `invalidate`… */
  readonly invalidations = new Map<string, number>()
  /** Sizes of the lookup batches dispatched for this model (`recordBatch`). */
  batchSizes = new Histogram()

  since(base: ModelStats | undefined): ModelStats {
    const window = new ModelStats()
    for (const [op, stats] of this.operations) window.operations.set(op, stats.since(base?.operations.get(op)))
    for (const [cause, n] of this.invalidations) window.invalidations.set(cause, n - (base?.invalidations.get(cause) ?? 0))
    window.batchSizes = this.batchSizes.since(base?.batchSizes)
    return window
  }
}

/**
 * Everything the collector counts, monotonic since the process started. A window (since
 * `resetMetrics()`, since the last summary log) is the difference of two of these, so windows
 * never disturb each other, nor the lifetime totals that Prometheus expects to only grow.
 */
export class MetricsState {
  readonly models = new Map<string, ModelStats>()
  readonly shapes = new Map<string, ShapeStats>()
  /** Every failed or timed-out Redis call: reads, stores, bumps, leases, pattern scans. */
  redisErrors = 0
  /** Tag counters bumped, and bumps of the global counter (raw SQL, `invalidateAll`). */
  tagInvalidations = 0
  allInvalidations = 0
  breakerOpened = 0
  breakerClosed = 0
  /** Invalidation-bus delivery delay, ms. */
  busDelays = new Histogram()
  /** Every Redis call through the guard (failed and timed-out ones too) and its duration, ns. */
  redisCalls = new Histogram()

  since(base: MetricsState | undefined): MetricsState {
    const window = new MetricsState()
    for (const [name, stats] of this.models) window.models.set(name, stats.since(base?.models.get(name)))
    for (const [key, stats] of this.shapes) window.shapes.set(key, stats.since(base?.shapes.get(key)))
    window.redisErrors = this.redisErrors - (base?.redisErrors ?? 0)
    window.tagInvalidations = this.tagInvalidations - (base?.tagInvalidations ?? 0)
    window.allInvalidations = this.allInvalidations - (base?.allInvalidations ?? 0)
    window.breakerOpened = this.breakerOpened - (base?.breakerOpened ?? 0)
    window.breakerClosed = this.breakerClosed - (base?.breakerClosed ?? 0)
    window.busDelays = this.busDelays.since(base?.busDelays)
    window.redisCalls = this.redisCalls.since(base?.redisCalls)
    return window
  }
}
