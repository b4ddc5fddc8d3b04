import { CacheConfigError, safeError } from '../errors.js'
import type { CacheStrategy } from '../config/options.js'
import { withoutStrategy, type EntryPolicy, type Policy } from '../config/policy.js'
import type { Transactions } from '../invalidation/transactions.js'
import type { BypassReason } from '../metrics/metrics.js'
import type { OperationStats } from '../metrics/state.js'
import { isCurrent, type L1Entry } from '../tiers/l1.js'
import type { BatchPath } from './batch.js'
import { noteBypass } from './cache-info.js'
import { noteHit } from './note-info.js'
import type { MissPath } from './miss.js'
import { countAnswer, sameValues, type ReadParts } from './parts.js'
import type { Refresher } from './refresh.js'
import { answer, answerOf, KEY_OPERATION, type QueryRunner, type ReadRequest, type ReadRequests } from './request.js'

/**
 * The entry of every cached read. The L1 hit is one synchronous chain that returns a value (no
 * promise, no await, no request object: benchmarks/scenarios/hot-find-unique.ts); anything else
 * builds a ReadRequest once and leaves for the miss or batch path.
 */
export class ReadPath {
  // the parts the L1 hit touches, one property read away instead of two
  private readonly l1: ReadParts['l1']
  private readonly metrics: ReadParts['metrics']
  private readonly events: ReadParts['events']
  private readonly now: () => number
  private readonly strict: boolean

  constructor(
    private readonly parts: ReadParts,
    private readonly policy: Policy,
    private readonly transactions: Transactions,
    private readonly requests: ReadRequests,
    private readonly misses: MissPath,
    private readonly batches: BatchPath,
    private readonly refresher: Refresher,
  ) {
    this.l1 = parts.l1
    this.metrics = parts.metrics
    this.events = parts.events
    this.now = parts.options.now
    this.strict = parts.strict
  }

  /** Serves a read: a value on an L1 hit, otherwise a promise. */
  read(model: string, operation: string, rawArgs: unknown, run: QueryRunner, inTransaction: boolean): unknown {
    let args = rawArgs
    let strategy: CacheStrategy | undefined
    if (typeof rawArgs === 'object' && rawArgs !== null && 'cacheStrategy' in rawArgs) {
      strategy = (rawArgs as { cacheStrategy?: CacheStrategy }).cacheStrategy
      args = withoutStrategy(rawArgs)
    }
    // inside a transaction a read may see uncommitted rows: it neither reads nor fills the cache
    const policy = inTransaction || this.transactions.current() !== undefined ? 'transaction' : this.policyFor(model, operation, strategy)
    if (typeof policy === 'string') {
      this.bypassed(model, operation, policy)
      if (run.info !== undefined) noteBypass(run.info, policy)
      return run.query(operation, args)
    }
    const { metrics, events } = this
    const started = metrics.sample()
    // only OrThrow reads look further: the findUnique hit path pays nothing for it
    const keyOperation = KEY_OPERATION[operation] === undefined ? operation : this.requests.orThrowKey(model, operation)
    const key = this.requests.key(model, keyOperation, args, policy)
    const entry = this.l1?.get(key)
    if (entry !== undefined && isCurrent(entry)) {
      const now = this.now()
      // strict: no L1 answer, fresh or stale, before Redis's counters confirm it
      if (entry.staleUntil > now && this.strict) {
        const stats = statsOf(entry, metrics, model, operation)
        return this.strictHit(entry, this.requests.build({ model, operation, keyOperation, key, args, policy, run, stats }))
      }
      if (entry.freshUntil > now) {
        const stats = statsOf(entry, metrics, model, operation)
        stats.hitsL1++
        if (entry.queryShape !== undefined) entry.queryShape.hits++
        events.hit(model, operation, 'l1', args)
        if (run.info !== undefined) noteHit(run.info, this.parts, 'l1', true, entry.storedAt ?? now, model, key)
        return this.timedL1(answerOf(entry.copy(entry.value), operation, keyOperation, args, run), stats, started)
      }
      if (entry.staleUntil > now) {
        const stats = statsOf(entry, metrics, model, operation)
        stats.stale++
        events.stale(model, operation, 'l1', args)
        if (run.info !== undefined) noteHit(run.info, this.parts, 'l1', false, entry.storedAt ?? now, model, key)
        this.refresher.refresh(this.requests.build({ model, operation, keyOperation, key, args, policy, run, stats }))
        return this.timedL1(answerOf(entry.copy(entry.value), operation, keyOperation, args, run), stats, started)
      }
    }
    // an entry a write invalidated, for TTL advice; with Redis, its L2 lookup counts it (from-l2.ts)
    if (entry !== undefined && this.parts.l2 === undefined && !isCurrent(entry)) metrics.entryInvalidated(entry.queryShape, entry.storedAt ?? 0)
    const read = this.requests.build({ model, operation, keyOperation, key, args, policy, run, stats: metrics.for(model, operation) })
    const plan = this.batches.plan(read)
    return plan === undefined ? this.misses.miss(this.batches.unbatched(read)) : this.batches.enqueue(read, plan)
  }

  /** Counts a read that skips the cache; also called for reads that never reach `read()` (transactions). */
  bypassed(model: string, operation: string, reason: BypassReason): void {
    this.metrics.for(model, operation).bypasses[reason]++
  }

  /** Records the L1 answer time of a sampled read (`started` is -1 for the others). */
  private timedL1(value: unknown, stats: OperationStats, started: number): unknown {
    if (started >= 0) this.metrics.recordL1(stats, started)
    return value
  }

  /** `consistency: 'strict'`: an L1 entry is served only if Redis's counters still match it. */
  private async strictHit(entry: L1Entry, read: ReadRequest): Promise<unknown> {
    const current = entry.remote && (await this.parts.l2!.generations(entry.deps.map((gen) => gen.name)))
    if (current === undefined || !sameValues(current, entry.remote!)) return this.misses.miss(read)
    const fresh = entry.freshUntil > this.parts.options.now()
    countAnswer(this.parts, read, 'l1', fresh, entry.queryShape)
    if (read.run.info !== undefined) noteHit(read.run.info, this.parts, 'l1', fresh, entry.storedAt ?? 0, read.model, read.key)
    if (!fresh) this.refresher.refresh(read)
    return answer(read, entry.copy(entry.value))
  }

  /** The read's policy, or why it is not cached. */
  private policyFor(model: string, operation: string, strategy: CacheStrategy | undefined): EntryPolicy | BypassReason {
    let policy: EntryPolicy | null
    try {
      policy = this.policy.for(model, operation, strategy)
    } catch (error) {
      if (!(error instanceof CacheConfigError)) throw error
      // a malformed per-call strategy must not fail the caller's query: run it uncached, say why
      this.parts.options.logger?.warn({ err: safeError(error), model, operation }, 'prisma-tiered-cache: bad cacheStrategy, read not cached')
      return 'badCacheStrategy'
    }
    if (policy !== null) return policy
    // `false` or `ttl: 0` on a read its policy would cache: the caller chose; otherwise the policy did
    return strategy !== undefined && this.policy.for(model, operation, undefined) !== null ? 'cacheStrategy' : 'policy'
  }
}

/**
 * The counters an L1 hit counts in: those its entry's query shape points at, no lookup (an
 * `OrThrow` read of an entry its plain variant filled looks its own up).
 */
function statsOf(entry: L1Entry, metrics: ReadParts['metrics'], model: string, operation: string): OperationStats {
  const shape = entry.queryShape
  return shape !== undefined && shape.stats.operation === operation ? shape.stats : metrics.for(model, operation)
}
