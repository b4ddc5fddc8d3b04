import { MetricsState, ModelStats, OperationStats, ShapeStats } from './state.js'
import { snapshotOf, type MetricsSnapshot } from './snapshot.js'
import { parseCounter, type CounterName } from '../keys/names.js'
import { argumentShape } from './query-shape.js'

export type { BypassReason } from './state.js'
export type { Distribution, Latencies, MetricsSnapshot, ModelCounters, OperationCounters, QueryShape, TtlAdvice } from './snapshot.js'

/**
 * One read in this many has its L1 answer timed. `performance.now()` measured ~125 ns a call on
 * the 2-core development machine: two per hit would be 10–15% of an L1 hit, one read in 64 makes
 * it ~0.2%. The collector's whole cost is measured in benchmarks/scenarios/hot-find-unique.ts ("metrics on and off").
 */
export const L1_SAMPLE_EVERY = 64
/** Distinct query shapes tracked; later ones count toward their model and operation's `(other)`. */
export const MAX_SHAPES = 1000
const OTHER_SHAPE = '(other)'
const NS_PER_MS = 1e6

export interface MetricsSettings {
  enabled: boolean
  /** Queries at least this slow (ms) are counted and reported as slow; 0: none is. */
  slowQueryMs: number
  /** High-resolution clock for latencies, ms. */
  clock: () => number
  /** Wall clock, ms (the window's length). */
  now: () => number
}

/** Where a disabled collector's read path counts: written, never read. */
const SINK = new OperationStats('', '')

/**
 * The collector. The read path gets a model-and-operation counter object (`for`) and increments
 * it; latencies are recorded where a read already waits (database, Redis), L1 answers only when
 * `sample()` picks them. Everything else (snapshots, windows, percentiles) happens when asked.
 */
export class Metrics {
  /** Lifetime totals. */
  readonly state = new MetricsState()
  readonly enabled: boolean
  /** Called for each query at or over `slowQueryMs` (summary.ts logs them, rate-limited). */
  onSlowQuery: ((shape: ShapeStats, ms: number) => void) | undefined
  /** The Redis breaker's state; undefined without Redis. */
  private breaker: 'open' | 'closed' | undefined
  private baseline: MetricsState | undefined
  private windowStart: number
  /** Reads left until the next sampled one; never reaches 0 when disabled. */
  private countdown: number

  constructor(private readonly settings: MetricsSettings) {
    this.enabled = settings.enabled
    this.countdown = settings.enabled ? L1_SAMPLE_EVERY : Infinity
    this.windowStart = settings.now()
  }

  /** The counters of one model and read operation (one object per pair, made on first use). */
  for(model: string, operation: string): OperationStats {
    if (!this.enabled) return SINK
    return this.model(model).operations.get(operation) ?? this.addOperation(model, operation)
  }

  /** A clock reading if this read is one of the sampled ones, else -1. */
  sample(): number {
    if (--this.countdown !== 0) return -1
    this.countdown = L1_SAMPLE_EVERY
    return this.settings.clock()
  }

  clock(): number {
    return this.settings.clock()
  }

  recordL1(stats: OperationStats, started: number): void {
    stats.l1.record((this.settings.clock() - started) * NS_PER_MS)
  }

  recordL2(stats: OperationStats, started: number): void {
    if (this.enabled) stats.l2.record((this.settings.clock() - started) * NS_PER_MS)
  }

  /** A database query of a miss or refresh took `ms`. */
  recordQuery(stats: OperationStats, shape: ShapeStats | undefined, ms: number): void {
    if (!this.enabled) return
    const ns = Math.round(ms * NS_PER_MS) // integers: sums of them stay exact
    stats.db.record(ns)
    if (shape === undefined) return
    shape.queries++
    shape.queryNs += ns
    shape.recentNs = shape.queries === 1 ? ns : shape.recentNs * 0.8 + ns * 0.2
    if (this.settings.slowQueryMs === 0 || ms < this.settings.slowQueryMs) return
    shape.slow++
    shape.slowNs += ns
    this.onSlowQuery?.(shape, ms)
  }

  /** A batch's query filled an entry of `shape`; its share of the query took `ms`. */
  recordFill(shape: ShapeStats | undefined, ms: number): void {
    if (!this.enabled || shape === undefined) return
    shape.filled++
    shape.filledNs += Math.round(ms * NS_PER_MS)
  }

  /** The shape of a read's arguments (keys only), tracked for time saved and slow queries. */
  shape(stats: OperationStats, args: unknown): ShapeStats | undefined {
    if (!this.enabled) return undefined
    const shape = argumentShape(args)
    const prefix = `${stats.model}.${stats.operation}:`
    const known = this.state.shapes.get(prefix + shape)
    if (known !== undefined) return known
    // past the cap, new shapes share one per model and operation: memory stays bounded
    if (this.state.shapes.size < MAX_SHAPES) return this.addShape(prefix + shape, stats, shape)
    return this.state.shapes.get(prefix + OTHER_SHAPE) ?? this.addShape(prefix + OTHER_SHAPE, stats, OTHER_SHAPE)
  }

  /**
   * A read found an entry of `shape`, stored at `storedAt` (epoch ms), invalidated: counted once
   * per read, where the tier that would have answered it looked (L2 when there is one, else L1).
   */
  entryInvalidated(shape: ShapeStats | undefined, storedAt: number): void {
    if (shape === undefined) return
    shape.invalidated++
    shape.invalidatedAgeMs += Math.max(0, this.settings.now() - storedAt)
  }

  /** Lookup batches (batching calls this once per dispatched batch). */
  recordBatch(model: string, size: number): void {
    if (this.enabled) this.model(model).batchSizes.record(size)
  }

  /**
   * Counter names (keys/names.ts) moved by one write or invalidation: each model once (whatever
   * number of its counters moved), each tag once, the global counter once.
   */
  invalidated(names: Iterable<CounterName>, cause: string): void {
    if (!this.enabled) return
    const models = new Set<string>()
    for (const name of names) {
      const counter = parseCounter(name)
      if (counter === undefined || counter.kind === 'relation') continue
      if (counter.kind === 'all') this.state.allInvalidations++
      else if (counter.kind === 'tag') this.state.tagInvalidations++
      else models.add(counter.model)
    }
    for (const model of models) {
      const counts = this.model(model).invalidations
      counts.set(cause, (counts.get(cause) ?? 0) + 1)
    }
  }

  redisError(): void {
    this.state.redisErrors++
  }

  /** Redis is configured: the breaker starts closed. */
  watchBreaker(): void {
    this.breaker = 'closed'
  }

  breakerChanged(state: 'open' | 'closed'): void {
    this.breaker = state
    if (state === 'open') this.state.breakerOpened++
    else this.state.breakerClosed++
  }

  /** A Redis call that started at `started` (this collector's clock) has settled, well or not. */
  redisCall(started: number): void {
    if (this.enabled) this.state.redisCalls.record(Math.round((this.settings.clock() - started) * NS_PER_MS))
  }

  busDelay(ms: number): void {
    if (this.enabled) this.state.busDelays.record(Math.max(0, ms))
  }

  get breakerState(): 'open' | 'closed' | undefined {
    return this.breaker
  }

  /** The window since `resetMetrics()`. */
  snapshot(l1: { entries: number; bytes: number; counters: number } | undefined): MetricsSnapshot {
    return snapshotOf(this.state.since(this.baseline), { windowMs: this.settings.now() - this.windowStart, breaker: this.breaker, l1 })
  }

  /** Starts a new window: counting goes on, snapshots count from here. */
  reset(): void {
    this.baseline = this.state.since(undefined)
    this.windowStart = this.settings.now()
  }

  private model(name: string): ModelStats {
    let stats = this.state.models.get(name)
    if (stats === undefined) {
      stats = new ModelStats()
      this.state.models.set(name, stats)
    }
    return stats
  }

  private addShape(key: string, stats: OperationStats, shape: string): ShapeStats {
    const shapeStats = new ShapeStats(stats, shape)
    this.state.shapes.set(key, shapeStats)
    return shapeStats
  }

  private addOperation(model: string, operation: string): OperationStats {
    const stats = new OperationStats(model, operation)
    this.model(model).operations.set(operation, stats)
    return stats
  }
}
