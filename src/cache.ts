import { AsyncLocalStorage } from 'node:async_hooks'
import { BatchScheduler, planMany, planUnique, type BatchPlan } from './batching.js'
import { Bus } from './bus.js'
import { clone } from './clone.js'
import { copierFor } from './copier.js'
import { withoutStrategy } from './prisma-promise.js'
import { decodeResult, encodeResult } from './codec.js'
import { readDependencies } from './dependencies.js'
import { CacheConfigError } from './errors.js'
import { Events } from './events.js'
import { Generations, type Generation } from './generations.js'
import { affectedModels } from './invalidation.js'
import { readKey } from './keys.js'
import { isCurrent, L1, type L1Entry } from './l1.js'
import { L2, type L2Lookup } from './l2.js'
import { Metrics, type BypassReason, type MetricsSnapshot } from './metrics.js'
import type { OperationStats, ShapeStats } from './metrics-state.js'
import type { CacheStrategy, ResolvedOptions } from './options.js'
import { Policy, type EntryPolicy } from './policy.js'
import { prometheusText } from './prometheus.js'
import type { SchemaFacts } from './schema.js'
import { Lease, pollDelay, SingleFlight, sleep } from './stampede.js'
import { SummaryLog, type MetricsSummary } from './summary.js'
import { currentTransaction } from './transaction.js'
import { describe, type Shape } from './value-shape.js'
import { WriteRuleSet } from './write-rules.js'

/** Runs the real Prisma query for a read, with `cacheStrategy` already stripped. */
export interface QueryRunner {
  query(operation: string, args: unknown): PromiseLike<unknown>
}

/** The `OrThrow` variants share their entries with the plain ones: a `null` is a `null`. */
const KEY_OPERATION: Record<string, string> = {
  findUniqueOrThrow: 'findUnique',
  findFirstOrThrow: 'findFirst',
}

export interface InvalidateRequest {
  tags?: readonly string[]
  models?: readonly string[]
}

/** `prisma.$cache`: what users call directly. */
export interface CacheApi {
  invalidate(request: InvalidateRequest): Promise<void>
  invalidateAll(): Promise<void>
  /**
   * Runs `fn` (typically `$executeRaw`) telling the cache which models its raw SQL changes, so
   * that only those are invalidated instead of everything.
   */
  affecting<T>(models: readonly string[], fn: () => Promise<T>): Promise<T>
  /** Counters, latencies and time saved, since `resetMetrics()` (or the extension's creation). */
  metrics(): MetricsSnapshot
  /** Starts a new window for `metrics()`. Prometheus counters and summary logs are not affected. */
  resetMetrics(): void
  /** Lifetime figures in the Prometheus text exposition format, for a `/metrics` endpoint. */
  prometheus(): string
  /** Logs a summary of the time since the previous one through `logger`, and returns it. */
  logSummary(): MetricsSummary
  /**
   * A request-scoped loader, for code that wants explicit batching across models: loads of one
   * tick are batched like any findUnique, and a loader answers each distinct load once.
   */
  loader(): RequestLoader
  /** Resolves once the invalidation bus is subscribed (immediately without Redis). */
  ready(): Promise<void>
  /** Stops summary logs and closes the bus connection this extension opened. Your own Redis client stays yours. */
  close(): void
}

export interface RequestLoader {
  /** `findUnique` of `model` by a unique `where`, optionally with `select`/`include`/`omit`. */
  load<T = Record<string, unknown>>(model: string, where: Record<string, unknown>, projection?: Record<string, unknown>): Promise<T | null>
}

/** One read in flight: what it needs to load, refresh or answer. */
interface Read {
  model: string
  operation: string
  keyOperation: string
  key: string
  args: unknown
  policy: EntryPolicy
  run: QueryRunner
  deps: Generation[]
  /** Local generations of `deps` before anything was read. */
  seen: number[]
  stats: OperationStats
  shape: ShapeStats | undefined
  /** A stale entry's refresh: nobody waits for it. */
  background: boolean
}

/** A read waiting in a batch. */
interface Batched {
  read: Read
  plan: BatchPlan
  resolve(value: unknown): void
  reject(error: unknown): void
}

/** The models a raw statement changes, as named by `prisma.$cache.affecting()`. */
const rawModels = new AsyncLocalStorage<readonly string[]>()

/**
 * Cache-aside reads through L1 then L2, and generation-bumping writes, independent of Prisma's
 * extension API (extension.ts adapts it). Correctness rests on one rule: a read snapshots the
 * generations of everything it depends on *before* it queries, and its result is kept only if
 * none of them moved while it ran; a write bumps every counter it can affect before it runs and
 * again after. L1 checks this process's counters (kept current by the bus), L2 Redis's.
 */
export class TieredCache {
  readonly generations = new Generations()
  readonly metrics: Metrics
  private readonly events: Events
  private readonly summary: SummaryLog
  private readonly policy: Policy
  private readonly rules: WriteRuleSet
  private readonly l1: L1 | undefined
  private readonly l2: L2 | undefined
  private readonly bus: Bus | undefined
  private readonly flights = new SingleFlight<unknown>()
  private readonly refreshing = new Set<string>()
  private readonly batches = new BatchScheduler<Batched>((_, items) => void this.dispatch(items))
  /** While the bus is down, other processes' writes go unheard: L1 entries live briefly. */
  private l1TtlCapMs = Infinity

  constructor(
    private readonly options: ResolvedOptions,
    private readonly schema: SchemaFacts,
    /** Runs queries on the client the extension was applied to, for reads that start here. */
    private readonly runnerFor: (model: string) => QueryRunner,
  ) {
    for (const model of options.models.keys()) {
      if (schema.model(model) === undefined) throw new CacheConfigError(`models.${model}`, 'names no model of this schema')
    }
    this.metrics = new Metrics({ ...options.metrics, now: options.now })
    this.events = new Events(options.events, options.logger)
    this.summary = new SummaryLog(this.metrics, options.logger, { ...options.metrics, now: options.now })
    this.summary.start()
    this.policy = new Policy(options)
    this.rules = new WriteRuleSet(options, schema)
    this.l1 = options.l1 ? new L1(options.l1.maxBytes, options.l1.maxEntryBytes) : undefined
    if (options.redis === undefined) return
    if (this.l1 !== undefined) this.bus = this.openBus(options.redis)
    this.metrics.watchBreaker()
    this.l2 = new L2({
      redis: options.redis,
      namespace: options.namespace,
      schemaHash: schema.hash,
      timeoutMs: options.redisTimeoutMs,
      breaker: options.breaker,
      now: options.now,
      logger: options.logger,
      onError: (error) => {
        this.metrics.redisError()
        this.events.error('redis', error)
      },
      onBreakerChange: (state) => this.metrics.breakerChanged(state),
      publish: this.bus && ((names) => this.bus!.publish(names)),
    })
  }

  private openBus(redis: NonNullable<ResolvedOptions['redis']>): Bus {
    const { degradedTtlMs } = this.options.l1 as { degradedTtlMs: number }
    this.l1TtlCapMs = degradedTtlMs // until subscribed, we may miss other processes' writes
    const bus = new Bus(redis, `${this.options.namespace}:bus`, {
      onBumped: (names, delayMs) => {
        for (const name of names) this.generations.bump(this.generations.get(name))
        // not counted as invalidations: the writer counts its writes, and each arrives here as two bumps
        this.events.invalidate('remote', names)
        this.metrics.busDelay(delayMs)
      },
      // messages may have been lost while down: forget everything L1 holds, keep entries short
      onDown: () => {
        this.l1?.clear()
        this.l1TtlCapMs = degradedTtlMs
        this.options.logger?.warn({}, 'prisma-tiered-cache: invalidation bus lost; L1 flushed, its ttl capped')
      },
      onUp: () => {
        this.l1?.clear()
        this.l1TtlCapMs = Infinity
      },
    }, this.options.logger)
    redis.once('end', () => bus.close())
    return bus
  }

  /** Serves a read: a value on an L1 hit (no promise, no await), otherwise a promise. */
  read(model: string, operation: string, rawArgs: unknown, run: QueryRunner, inTransaction = false): unknown {
    let args = rawArgs
    let strategy: CacheStrategy | undefined
    if (typeof rawArgs === 'object' && rawArgs !== null && 'cacheStrategy' in rawArgs) {
      strategy = (rawArgs as { cacheStrategy?: CacheStrategy }).cacheStrategy
      args = withoutStrategy(rawArgs)
    }
    // inside a transaction a read may see uncommitted rows: it neither reads nor fills the cache
    const policy = inTransaction || currentTransaction() !== undefined ? 'transaction' : this.policyFor(model, operation, strategy)
    if (typeof policy === 'string') {
      this.bypassed(model, operation, policy)
      return run.query(operation, args)
    }
    const started = this.metrics.sample()
    const keyOperation = KEY_OPERATION[operation] ?? operation
    const key = this.key(model, keyOperation, args, policy)
    const entry = this.l1?.get(key)
    if (entry !== undefined && isCurrent(entry)) {
      const now = this.options.now()
      // strict: no L1 answer, fresh or stale, before Redis's counters confirm it
      if (entry.staleUntil > now && this.strict) {
        return this.strictHit(entry, this.statsOf(entry, model, operation), operation, keyOperation, key, args, policy, run)
      }
      if (entry.freshUntil > now) {
        const stats = this.statsOf(entry, model, operation)
        stats.hitsL1++
        if (entry.shape !== undefined) entry.shape.hits++
        this.events.hit(model, operation, 'l1', args)
        return this.timedL1(this.answer(entry.copy(entry.value), operation, keyOperation, args, run), stats, started)
      }
      if (entry.staleUntil > now) {
        const stats = this.statsOf(entry, model, operation)
        stats.stale++
        this.events.stale(model, operation, 'l1', args)
        this.refresh(this.describe(model, operation, keyOperation, key, args, policy, run, stats))
        return this.timedL1(this.answer(entry.copy(entry.value), operation, keyOperation, args, run), stats, started)
      }
    }
    const read = this.describe(model, operation, keyOperation, key, args, policy, run, this.metrics.for(model, operation))
    const plan = this.plan(read)
    return plan === undefined ? this.miss(read) : this.enqueue(read, plan)
  }

  /** Counts a read that skips the cache; also called for reads that never reach `read()` (transactions). */
  bypassed(model: string, operation: string, reason: BypassReason): void {
    this.metrics.for(model, operation).bypasses[reason]++
  }

  /**
   * The counters an L1 hit counts in: those its entry's shape points at, no lookup (an `OrThrow`
   * read of an entry its plain variant filled looks its own up).
   */
  private statsOf(entry: L1Entry, model: string, operation: string): OperationStats {
    const shape = entry.shape
    return shape !== undefined && shape.stats.operation === operation ? shape.stats : this.metrics.for(model, operation)
  }

  /** Records the L1 answer time of a sampled read (`started` is -1 for the others). */
  private timedL1(answer: unknown, stats: OperationStats, started: number): unknown {
    if (started >= 0) this.metrics.recordL1(stats, started)
    return answer
  }

  private get localCountersAuthoritative(): boolean {
    return this.l2 === undefined || (this.bus !== undefined && !this.strict)
  }

  private get strict(): boolean {
    return this.options.l1 !== false && this.options.l1.consistency === 'strict'
  }

  private describe(
    model: string,
    operation: string,
    keyOperation: string,
    key: string,
    args: unknown,
    policy: EntryPolicy,
    run: QueryRunner,
    stats: OperationStats,
    background = false,
  ): Read {
    const deps = this.dependencies(model, args, policy)
    const shape = this.metrics.shape(stats, args)
    return { model, operation, keyOperation, key, args, policy, run, deps, seen: deps.map((gen) => gen.value), stats, shape, background }
  }

  private key(model: string, operation: string, args: unknown, policy: EntryPolicy): string {
    return `${readKey(model, operation, args)}${this.keyContext(policy)}`
  }

  /** What besides the arguments tells entries apart: the cacheStrategy tags and the caller's partition. */
  private keyContext(policy: EntryPolicy): string {
    const partition = this.options.partition?.()
    const tags = policy.tags.length === 0 ? '' : `#${JSON.stringify([...policy.tags].sort())}`
    return partition === undefined || partition === null ? tags : `${tags}@${JSON.stringify(partition)}`
  }

  /** `consistency: 'strict'`: an L1 entry is served only if Redis's counters still match it. */
  private async strictHit(
    entry: L1Entry,
    stats: OperationStats,
    operation: string,
    keyOperation: string,
    key: string,
    args: unknown,
    policy: EntryPolicy,
    run: QueryRunner,
  ): Promise<unknown> {
    const current = entry.remote && (await this.l2!.generations(entry.deps.map((gen) => gen.name)))
    if (current !== undefined && sameValues(current, entry.remote!)) {
      if (entry.freshUntil > this.options.now()) {
        stats.hitsL1++
        if (entry.shape !== undefined) entry.shape.hits++
        this.events.hit(stats.model, operation, 'l1', args)
      } else {
        stats.stale++
        this.events.stale(stats.model, operation, 'l1', args)
        this.refresh(this.describe(stats.model, operation, keyOperation, key, args, policy, run, stats))
      }
      return this.answer(entry.copy(entry.value), operation, keyOperation, args, run)
    }
    return this.miss(this.describe(stats.model, operation, keyOperation, key, args, policy, run, stats))
  }

  /** Concurrent identical misses that saw the same generations share one load. */
  private async miss(read: Read): Promise<unknown> {
    // Joining a flight is safe only where this process's counters hear of every write: without
    // Redis (one process), or through the bus (within its documented delay). With L2 only, or
    // strict L1, another process's write moves only Redis's counters, and a read that starts
    // after it must not take the answer of a query that started before it.
    if (!this.localCountersAuthoritative) {
      return this.answer(await this.load(read), read.operation, read.keyOperation, read.args, read.run)
    }
    const flightKey = `${read.key}\u0000${read.seen.join(',')}`
    const flight = this.flights.get(flightKey)
    if (flight !== undefined) {
      read.stats.coalesced++
      return this.answer(clone(await flight), read.operation, read.keyOperation, read.args, read.run)
    }
    const value = await this.flights.run(flightKey, () => this.load(read))
    return this.answer(value, read.operation, read.keyOperation, read.args, read.run)
  }

  /** L2, then the database under a lease so that one process computes a missing entry. */
  private async load(read: Read): Promise<unknown> {
    if (this.l2 === undefined) {
      read.stats.misses++
      return this.query(read, undefined)
    }
    const entryKey = this.l2.entryKey(read.model, read.key)
    const names = read.deps.map((gen) => gen.name)
    const started = this.metrics.clock()
    let lookup = await this.l2.lookup(entryKey, names, read.stats)
    const served = lookup && this.serveFromL2(read, lookup, false)
    if (served !== undefined) {
      this.metrics.recordL2(read.stats, started)
      return served.value
    }
    if (lookup === undefined) {
      read.stats.bypasses.redisDown++ // Redis failed, or the breaker keeps it out of the way
      return this.query(read, undefined)
    }
    const deadline = this.options.now() + this.options.stampede.waitMs
    for (let attempt = 0; ; attempt++) {
      const lease = await Lease.take(this.l2, entryKey, this.options.stampede.leaseMs)
      if (lease !== null) {
        try {
          // the previous holder may have stored and released between our lookup and our lease
          const again = lease?.entryExists ? await this.l2.lookup(entryKey, names, read.stats) : undefined
          const stored = again && this.serveFromL2(read, again, true)
          if (stored !== undefined) return stored.value
          read.stats.misses++
          return await this.query(read, lease === undefined ? undefined : (again ?? lookup), entryKey, lease)
        } finally {
          await lease?.release()
        }
      }
      // another process is computing it: wait for its value, bounded, then query ourselves
      if (this.options.now() >= deadline) break
      await sleep(pollDelay(attempt))
      const next = await this.l2.lookup(entryKey, names, read.stats)
      if (next === undefined) break
      lookup = next
      const waited = this.serveFromL2(read, lookup, true)
      if (waited !== undefined) return waited.value
    }
    read.stats.misses++
    return this.query(read, lookup, entryKey)
  }

  /**
   * A valid L2 entry: fresh, or stale within its swr window (then refreshed in the background).
   * A value another process computed while this read `waited` for it counts as coalesced.
   */
  private serveFromL2(read: Read, lookup: L2Lookup, waited: boolean): { value: unknown } | undefined {
    const entry = lookup.entry
    if (entry === undefined || !sameValues(entry.seen, lookup.generations)) return undefined
    const now = this.options.now()
    const staleUntil = entry.freshUntil + read.policy.swrMs
    if (staleUntil <= now) return undefined
    const result = decoded(entry.bytes)
    if (result === undefined) return undefined
    const fresh = entry.freshUntil > now
    if (waited) read.stats.coalesced++
    else if (fresh) {
      read.stats.hitsL2++
      if (read.shape !== undefined) read.shape.hits++
      this.events.hit(read.model, read.operation, 'l2', read.args)
    } else {
      read.stats.stale++
      this.events.stale(read.model, read.operation, 'l2', read.args)
    }
    if (!fresh) this.refresh(read)
    this.fillL1(read, result.value, entry.bytes.length, entry.freshUntil, lookup.generations)
    return result
  }

  /** Queries the database and keeps the result where the generations allow. */
  private async query(read: Read, lookup: L2Lookup | undefined, entryKey?: string, lease?: Lease): Promise<unknown> {
    const started = this.metrics.clock()
    const value = await read.run.query(read.keyOperation, read.args)
    const ms = this.metrics.clock() - started
    this.metrics.recordQuery(read.stats, read.shape, ms)
    if (!read.background) this.events.miss(read.model, read.operation, read.args, ms)
    await this.keep(read, value, lookup, entryKey, lease)
    return value
  }

  /** Stores a database answer in L1 and, when `lookup` gave Redis's generations, in L2. */
  private async keep(read: Read, value: unknown, lookup: L2Lookup | undefined, entryKey: string | undefined, lease?: Lease): Promise<void> {
    const shape = describe(value)
    const bytes = encodeResult(value, shape)
    const freshUntil = this.options.now() + read.policy.ttlMs
    this.fillL1(read, value, bytes.length, freshUntil, lookup?.generations, shape)
    if (lookup !== undefined && entryKey !== undefined) {
      const ttlMs = read.policy.ttlMs + read.policy.swrMs
      await this.l2!.store(entryKey, read.deps[0]!.name, { bytes, seen: lookup.generations, freshUntil }, ttlMs, read.stats, lease?.token)
      lease?.handedBack() // the store script released it
    }
  }

  /** A batch plan for reads that can share one query with others of this tick (batching.ts). */
  private plan(read: Read): BatchPlan | undefined {
    if (read.keyOperation === 'findUnique') return planUnique(this.schema, read.model, read.args)
    if (read.keyOperation === 'findMany') return planMany(this.schema, read.model, read.args)
    return undefined
  }

  private enqueue(read: Read, plan: BatchPlan): Promise<unknown> {
    // reads of different partitions or tags never share a query
    const group = `${plan.group}|${this.keyContext(read.policy)}`
    return new Promise((resolve, reject) => this.batches.add(group, { read, plan, resolve, reject }))
  }

  /**
   * One batch: L1 was already missed; one L2 round trip for all, then one database query for
   * what L2 lacks, rows routed back and kept one by one. A failed batch query, or rows that do
   * not route back exactly, fall back to one query per read, so one bad member fails alone.
   */
  private async dispatch(items: Batched[]): Promise<void> {
    const byKey = new Map<string, Batched[]>()
    for (const item of items) {
      const same = byKey.get(item.read.key)
      if (same === undefined) byKey.set(item.read.key, [item])
      else same.push(item)
    }
    const distinct = [...byKey.values()].map((list) => list[0]!)
    // one key, however many callers: the ordinary miss path, with its lease across processes
    if (distinct.length === 1) return this.alone(items)
    const first = distinct[0]!.read
    this.metrics.recordBatch(first.model, distinct.length)
    const entryKeys = distinct.map((item) => this.l2?.entryKey(first.model, item.read.key))
    const lookups = await this.l2?.lookupMany(
      distinct.map((item, i) => ({ entryKey: entryKeys[i]!, dependencies: item.read.deps.map((gen) => gen.name) })),
      first.stats,
    )
    const misses: number[] = []
    distinct.forEach((item, i) => {
      const served = lookups && this.serveFromL2(item.read, lookups[i]!, false)
      if (served === undefined) misses.push(i)
      else this.settle(byKey.get(item.read.key)!, served.value)
    })
    if (misses.length === 0) return
    for (const i of misses) distinct[i]!.read.stats.misses++
    const plan = distinct[misses[0]!]!.plan
    let rows: Array<Record<string, unknown>>
    try {
      const started = this.metrics.clock()
      rows = (await distinct[misses[0]!]!.read.run.query('findMany', plan.query(misses.map((i) => distinct[i]!.plan.value)))) as Array<
        Record<string, unknown>
      >
      this.metrics.recordQuery(first.stats, undefined, this.metrics.clock() - started)
    } catch {
      // one after another: run together, Prisma's own findUnique batching would fail them together
      for (const i of misses) await this.alone(byKey.get(distinct[i]!.read.key)!)
      return
    }
    const routed = new Map<string, Array<Record<string, unknown>>>()
    for (const row of rows) {
      const key = plan.rowValue(row)
      const list = routed.get(key)
      if (list === undefined) routed.set(key, [row])
      else list.push(row)
    }
    const asked = new Set(misses.map((i) => distinct[i]!.plan.valueKey))
    // a row no read asked for: the database compares differently (a case-insensitive column)
    const exact = [...routed.keys()].every((key) => asked.has(key))
    for (const i of misses) {
      const item = distinct[i]!
      const found = routed.get(item.plan.valueKey)
      if (!exact || (!item.plan.many && (found?.length ?? 0) > 1)) {
        void this.alone(byKey.get(item.read.key)!)
        continue
      }
      const value = item.plan.many ? (found ?? []).map(item.plan.strip) : found ? item.plan.strip(found[0]!) : null
      void this.keep(item.read, value, lookups?.[i], entryKeys[i]).finally(() => this.settle(byKey.get(item.read.key)!, value))
    }
  }

  /** Gives one value to every read of a key: the first gets it, the others copies. */
  private settle(items: Batched[], value: unknown): void {
    items.forEach((item, n) => {
      const { read } = item
      try {
        item.resolve(this.answer(n === 0 ? value : clone(value), read.operation, read.keyOperation, read.args, read.run))
      } catch (error) {
        item.reject(error)
      }
    })
  }

  /** Outside the batch: each read's own miss path (duplicates share its flight), its own error. */
  private async alone(items: Batched[]): Promise<void> {
    await Promise.all(items.map((item) => this.miss(item.read).then(item.resolve, item.reject)))
  }

  /**
   * Stale-while-revalidate: one background refresh per key in this process, and one across
   * processes (it needs the lease; without it, another process is refreshing). A failed refresh
   * leaves the stale value in place until its swr window ends, and is counted.
   */
  private refresh(read: Read): void {
    if (this.refreshing.has(read.key)) return
    this.refreshing.add(read.key)
    void this.refreshNow(read)
      .catch((error: unknown) => {
        read.stats.refreshErrors++
        this.events.error('refresh', error, read.model, read.keyOperation)
        this.options.logger?.warn({ err: error, model: read.model, operation: read.keyOperation }, 'prisma-tiered-cache: refresh failed, stale value kept')
      })
      .finally(() => this.refreshing.delete(read.key))
  }

  private async refreshNow(stale: Read): Promise<void> {
    const { model, operation, keyOperation, key, args, policy, run, stats } = stale
    const read = this.describe(model, operation, keyOperation, key, args, policy, run, stats, true)
    if (this.l2 === undefined) {
      await this.query(read, undefined)
      return
    }
    const entryKey = this.l2.entryKey(read.model, read.key)
    const names = read.deps.map((gen) => gen.name)
    // another process may have refreshed it already: then take its value, do not query again
    if (this.freshInL2(read, await this.l2.lookup(entryKey, names, read.stats))) return
    const lease = await Lease.take(this.l2, entryKey, this.options.stampede.leaseMs)
    if (lease === null) return
    try {
      const lookup = lease && (await this.l2.lookup(entryKey, names, read.stats))
      if (this.freshInL2(read, lookup)) return
      await this.query(read, lookup, entryKey, lease)
    } finally {
      await lease?.release()
    }
  }

  /** True (and L1 filled from it) when L2 holds a valid, fresh entry for the read. */
  private freshInL2(read: Read, lookup: L2Lookup | undefined): boolean {
    const entry = lookup?.entry
    if (entry === undefined || entry.freshUntil <= this.options.now() || !sameValues(entry.seen, lookup!.generations)) return false
    const value = decoded(entry.bytes)
    if (value === undefined) return false // unreadable: refreshed like a miss
    this.fillL1(read, value.value, entry.bytes.length, entry.freshUntil, lookup!.generations)
    return true
  }

  /** A cached `null` for an `OrThrow` read: let Prisma throw its own error (or find the row now). */
  private answer(value: unknown, operation: string, keyOperation: string, args: unknown, run: QueryRunner): unknown {
    return value === null && keyOperation !== operation ? run.query(operation, args) : value
  }

  /**
   * Keeps a copy in L1 only if no local counter moved since the read began: a write that bumped
   * one while the query ran may have committed after the database read our rows.
   */
  private fillL1(read: Read, value: unknown, size: number, freshUntil: number, remote: string[] | undefined, shape?: Shape): void {
    if (this.l1 === undefined || !read.deps.every((gen, i) => gen.value === read.seen[i])) return
    if (this.strict && remote === undefined) return // nothing to check a strict hit against
    const capped = Math.min(freshUntil, this.options.now() + this.l1TtlCapMs)
    const copy = copierFor(value, shape)
    this.l1.set(read.key, {
      value: copy(value),
      copy,
      size,
      freshUntil: capped,
      staleUntil: capped === freshUntil ? freshUntil + read.policy.swrMs : capped,
      deps: read.deps,
      seen: read.seen,
      remote: this.strict ? remote : undefined,
      shape: read.shape,
    })
  }

  /** The counters a read depends on; its target model first (the L2 store script checks that one). */
  private dependencies(model: string, args: unknown, policy: EntryPolicy): Generation[] {
    const gens = readDependencies(this.schema, model, args).map((m) => this.generations.model(m))
    for (const tag of policy.tags) gens.push(this.generations.tag(tag))
    gens.push(this.generations.all)
    return gens
  }

  /** The read's policy, or why it is not cached. */
  private policyFor(model: string, operation: string, strategy: CacheStrategy | undefined): EntryPolicy | BypassReason {
    let policy: EntryPolicy | null
    try {
      policy = this.policy.for(model, operation, strategy)
    } catch (error) {
      if (!(error instanceof CacheConfigError)) throw error
      // a malformed per-call strategy must not fail the caller's query: run it uncached, say why
      this.options.logger?.warn({ err: error, model, operation }, 'prisma-tiered-cache: bad cacheStrategy, read not cached')
      return 'badCacheStrategy'
    }
    if (policy !== null) return policy
    // `false` or `ttl: 0` on a read its policy would cache: the caller chose; otherwise the policy did
    return strategy !== undefined && this.policy.for(model, operation, undefined) !== null ? 'cacheStrategy' : 'policy'
  }

  /**
   * Wraps a write. Before it runs, bumps every counter it can affect that is known from its
   * arguments; after it completes (or fails: a failed statement may still have been applied by a
   * driver that lost the reply), bumps them again plus the tags its rules compute from the result.
   */
  async write<T>(model: string, operation: string, args: unknown, query: () => PromiseLike<T>): Promise<T> {
    const names = new Set<string>()
    for (const m of affectedModels(this.schema, model, operation, args)) names.add(`m:${m}`)
    const prior = this.rules.priorRead(model, operation, args)
    const priorRows = prior && ((await this.runnerFor(model).query('findMany', prior)) as Array<Record<string, unknown>>)
    this.rules.before(model, args, names, priorRows)
    await this.bump(names)
    let result: T | undefined
    try {
      result = await query()
      return result
    } finally {
      this.rules.after(model, operation, args, result, names, (pattern) => this.dropPattern(pattern))
      await this.bump(names, operation)
    }
  }

  /** Raw SQL: invalidates the models named through `affecting()`, or else everything. */
  async writeRaw<T>(query: () => PromiseLike<T>, cause = 'executeRaw'): Promise<T> {
    const named = rawModels.getStore()
    const names = new Set(named === undefined ? ['*'] : named.map((m) => `m:${m}`))
    await this.bump(names)
    try {
      return await query()
    } finally {
      await this.bump(names, cause)
    }
  }

  /** `$queryRaw`: a write only when the caller says so through `affecting()`. */
  async queryRaw<T>(query: () => PromiseLike<T>): Promise<T> {
    return rawModels.getStore() === undefined ? query() : this.writeRaw(query, 'queryRaw')
  }

  /** Applied when a transaction commits: its writes become visible now. */
  commit(touched: Iterable<string>): Promise<void> {
    return this.bump(touched)
  }

  /**
   * Moves counters on: this process's synchronously (L1 is correct from here on), Redis's and the
   * bus's before the promise resolves. Inside a transaction the names are also kept for the
   * commit-time bump. A write bumps twice (and again on commit) but is one invalidation: only
   * the bump given a `cause` is counted and announced.
   */
  private async bump(names: Iterable<string>, cause?: string): Promise<void> {
    const scope = currentTransaction()
    for (const name of names) {
      this.generations.bump(this.generations.get(name))
      scope?.touched.add(name)
    }
    if (cause !== undefined) {
      this.metrics.invalidated(names, cause)
      this.events.invalidate(cause, names)
    }
    await this.l2?.bump(names)
  }

  private dropPattern(pattern: string): void {
    this.generations.bumpMatching(`t:${pattern}`)
    this.l2?.dropTagPattern(pattern)
  }

  readonly api: CacheApi = {
    invalidate: async (request) => {
      const names = new Set<string>()
      for (const tag of request.tags ?? []) names.add(`t:${tag}`)
      for (const model of request.models ?? []) {
        if (this.schema.model(model) === undefined) throw new CacheConfigError('invalidate.models', `has no model '${model}'`)
        names.add(`m:${model}`)
      }
      await this.bump(names, 'invalidate')
    },
    invalidateAll: async () => {
      this.l1?.clear()
      await this.bump(['*'], 'invalidateAll')
    },
    affecting: (models, fn) => {
      for (const model of models) {
        if (this.schema.model(model) === undefined) throw new CacheConfigError('affecting', `has no model '${model}'`)
      }
      // awaited inside the scope: Prisma's promise is lazy and runs its hook only when awaited
      return rawModels.run(models, async () => await fn())
    },
    metrics: () => this.metrics.snapshot(this.l1 && { entries: this.l1.size, bytes: this.l1.usedBytes }),
    resetMetrics: () => this.metrics.reset(),
    prometheus: () => prometheusText(this.metrics.state, { breaker: this.metrics.breakerState, l1: this.l1 && { entries: this.l1.size, bytes: this.l1.usedBytes } }),
    logSummary: () => this.summary.log(),
    loader: () => {
      const loads = new Map<string, Promise<unknown>>()
      return {
        load: <T>(model: string, where: Record<string, unknown>, projection: Record<string, unknown> = {}) => {
          if (this.schema.model(model) === undefined) return Promise.reject(new CacheConfigError('loader.load', `has no model '${model}'`))
          const args = { ...projection, where }
          const key = readKey(model, 'findUnique', args)
          let load = loads.get(key)
          if (load === undefined) {
            load = Promise.resolve(this.read(model, 'findUnique', args, this.runnerFor(model)))
            loads.set(key, load)
            return load as Promise<T | null>
          }
          return load.then((value) => clone(value)) as Promise<T | null>
        },
      }
    },
    ready: async () => this.bus?.ready(),
    close: () => {
      this.summary.stop()
      this.bus?.close()
    },
  }
}

/** An L2 entry's value; `undefined` for bytes this version did not write: a miss, never an error. */
function decoded(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: decodeResult(bytes) }
  } catch {
    return undefined
  }
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
