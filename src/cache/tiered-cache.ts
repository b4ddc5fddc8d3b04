import type { ResolvedOptions } from '../config/resolve.js'
import { Policy } from '../config/policy.js'
import { CacheConfigError } from '../errors.js'
import { Bus } from '../invalidation/bus.js'
import { Generations } from '../invalidation/generations.js'
import { Invalidator } from '../invalidation/invalidator.js'
import { OpenTransactions } from '../invalidation/open-transactions.js'
import { Outbox } from '../invalidation/outbox.js'
import { RecentBumps } from '../invalidation/recent-bumps.js'
import { Transactions } from '../invalidation/transactions.js'
import { WriteRuleSet } from '../invalidation/write-rules.js'
import { RedisKeys } from '../keys/names.js'
import { Alerts } from '../metrics/alerts.js'
import { Events } from '../metrics/events.js'
import { Metrics } from '../metrics/metrics.js'
import { SummaryLog } from '../metrics/summary.js'
import { BatchPath } from '../read/batch.js'
import { L2Answers } from '../read/from-l2.js'
import { MissPath } from '../read/miss.js'
import type { ReadParts } from '../read/parts.js'
import { ReadPath } from '../read/read-path.js'
import { Refresher } from '../read/refresh.js'
import { ReadRequests, type QueryRunner } from '../read/request.js'
import { EntryStore } from '../read/store.js'
import type { SchemaFacts } from '../schema/schema.js'
import { L1 } from '../tiers/l1.js'
import { L2 } from '../tiers/l2.js'
import { RedisGuard } from '../tiers/redis-guard.js'
import { createApi, type CacheApi } from './api.js'
import { health } from './health.js'

/**
 * The composition root: builds every part from the resolved options and wires them, and nothing
 * else. The Prisma glue (prisma/extension.ts) calls `reads`, `invalidator`, `transactions` and `api`.
 */
export class TieredCache {
  readonly reads: ReadPath
  readonly invalidator: Invalidator
  readonly transactions: Transactions
  readonly api: CacheApi
  private readonly generations: Generations
  /** Removes what the bus attached to the user's Redis client (set once the bus opens). */
  private detachBus: () => void = () => {}

  constructor(
    private readonly options: ResolvedOptions,
    schema: SchemaFacts,
    /** Runs queries on the client the extension was applied to, for reads that start here. */
    runnerFor: (model: string) => QueryRunner,
  ) {
    for (const model of options.models.keys()) {
      if (schema.model(model) === undefined) throw new CacheConfigError(`models.${model}`, 'names no model of this schema')
    }
    // SQLite's drivers run every query of the process on one connection (invalidation/open-transactions.ts)
    const openTransactions = schema.provider === 'sqlite' ? new OpenTransactions() : undefined
    this.transactions = new Transactions(openTransactions)
    const recentBumps = options.replicaLagMs ? new RecentBumps(options.replicaLagMs, options.now) : undefined
    this.generations = new Generations(recentBumps)
    const metrics = new Metrics({ ...options.metrics, now: options.now })
    const events = new Events(options.events, options.logger)
    const alerts = new Alerts(options.metrics.alerts, options.logger, (event) => events.alert(event))
    const summary = new SummaryLog(metrics, options.logger, { ...options.metrics, now: options.now }, alerts)
    summary.start()
    const rules = new WriteRuleSet(options, schema)
    const l1 = options.l1 ? new L1(options.l1.maxBytes, options.l1.maxEntryBytes) : undefined
    const strict = options.l1 !== false && options.l1.consistency === 'strict'

    let l2: L2 | undefined
    let outbox: Outbox | undefined
    let bus: Bus | undefined
    if (options.redis !== undefined) {
      const keys = new RedisKeys(options.namespace, schema.hash)
      const onError = (error: unknown) => {
        metrics.redisError()
        events.error('redis', error)
      }
      metrics.watchBreaker()
      const guard = new RedisGuard({
        timeoutMs: options.redisTimeoutMs,
        breaker: options.breaker,
        now: options.now,
        logger: options.logger,
        onError,
        timing: metrics.enabled ? { start: () => metrics.clock(), settled: (started) => metrics.redisCall(started) } : undefined,
        onBreakerChange: (state) => {
          metrics.breakerChanged(state)
          if (bus !== undefined) bus.breakerOpen = state === 'open'
        },
      })
      l2 = new L2(options.redis, keys, guard, counterTtlMs(options))
      // without L1 the bus is needed only to hear other processes' writes for replicaLagMs
      if (l1 !== undefined || recentBumps !== undefined) bus = this.openBus(keys.busChannel, l1, recentBumps, metrics, events)
      outbox = new Outbox(l2, { redis: options.redis, logger: options.logger, onError, publish: bus && ((names) => bus!.publish(names)) })
      l2.waitFor(outbox)
    }

    const parts: ReadParts = { options, metrics, events, l1, l2, strict, localCountersAuthoritative: l2 === undefined || (l1 !== undefined && bus !== undefined && !strict), recentBumps, openTransactions }
    const requests = new ReadRequests(options, schema, this.generations, metrics, openTransactions)
    const store = new EntryStore(parts, requests)
    const refresher = new Refresher(parts, requests, store)
    const fromL2 = new L2Answers(parts, store, refresher)
    const misses = new MissPath(parts, store, fromL2)
    const batches = new BatchPath(parts, schema, requests, store, fromL2, misses)
    this.reads = new ReadPath(parts, new Policy(options), this.transactions, requests, misses, batches, refresher)
    this.invalidator = new Invalidator({
      schema,
      granularity: options.invalidation,
      generations: this.generations,
      rules,
      metrics,
      events,
      transactions: this.transactions,
      outbox,
      findMany: (model, args) => runnerFor(model).query('findMany', args),
      clearL1: () => l1?.clear(),
    })
    this.api = createApi({
      schema,
      invalidator: this.invalidator,
      metrics,
      summary,
      l1,
      logger: options.logger,
      now: options.now,
      counters: () => this.generations.size,
      findUnique: (model, args) => this.reads.read(model, 'findUnique', args, runnerFor(model), false),
      // long enough for a reconnect or two, short enough for a readiness probe
      ready: async () => bus?.ready(Math.max(5000, 10 * this.options.redisTimeoutMs)),
      health: () => health({
        redis: options.redis, redisTimeoutMs: options.redisTimeoutMs, breakerOpen: () => l2?.guard.isOpen ?? false,
        outbox, bus, l1, l1MaxBytes: options.l1 ? options.l1.maxBytes : 0,
      }),
      close: () => {
        summary.stop()
        this.detachBus()
        bus?.close()
      },
    })
  }

  /**
   * The bus keeps this process's counters current with other processes' writes; while it is down
   * (and until it is first up), L1 cannot be trusted and no answer of a replica can be judged.
   */
  private openBus(channel: string, l1: L1 | undefined, recent: RecentBumps | undefined, metrics: Metrics, events: Events): Bus {
    const redis = this.options.redis!
    const degradedTtlMs = this.options.l1 ? this.options.l1.degradedTtlMs : DEGRADED_TTL_MS
    if (l1 !== undefined) l1.ttlCapMs = degradedTtlMs // until subscribed, we may miss other processes' writes
    recent?.hearing(false)
    const bus = new Bus(redis, channel, {
      onBumped: (names, delayMs) => {
        for (const name of names) this.generations.bumpName(name)
        // not counted as invalidations: the writer counts its writes, and each arrives here as two bumps
        events.invalidate('remote', names)
        metrics.busDelay(delayMs)
      },
      // messages may have been lost while down: forget everything L1 holds, keep entries short
      onDown: (closed) => {
        recent?.hearing(false)
        if (l1 === undefined) {
          if (!closed) this.options.logger?.warn({}, 'prisma-tiered-cache: invalidation bus lost or stalled; answers that may come from a read replica are not cached until it is back')
          return
        }
        l1.clear()
        l1.ttlCapMs = degradedTtlMs
        // closed by `$cache.close()`: expected, said at info level; lost: a warning
        if (closed) this.options.logger?.info({}, 'prisma-tiered-cache: invalidation bus closed; L1 flushed, its ttl capped')
        else this.options.logger?.warn({}, 'prisma-tiered-cache: invalidation bus lost or stalled; L1 flushed, its ttl capped')
      },
      onUp: () => {
        recent?.hearing(true)
        l1?.clear()
        if (l1 !== undefined) l1.ttlCapMs = Infinity
      },
    }, this.options.logger, degradedTtlMs)
    // one listener per cache on the user's client, and the client's limit raised by one with it:
    // more than ten caches on one client is ordinary, not a leak (MaxListenersExceededWarning)
    const closeBus = () => bus.close()
    const limit = redis.getMaxListeners()
    if (limit !== 0) redis.setMaxListeners(limit + 1)
    redis.once('end', closeBus)
    this.detachBus = () => {
      redis.off('end', closeBus)
      const current = redis.getMaxListeners()
      if (current !== 0) redis.setMaxListeners(Math.max(current - 1, 10))
    }
    return bus
  }
}

/** `l1.degradedTtlMs`' default: the bus's stall bound when there is no L1 to take it from. */
const DEGRADED_TTL_MS = 1000

/**
 * Per-value counters outlive every entry that can record them: twice the longest ttl + swr of any
 * policy, at least a day. An entry with a longer per-call ttl outliving its counter only turns
 * into a miss (a missing counter reads as unknown).
 */
function counterTtlMs(options: ResolvedOptions): number {
  let longest = options.defaults.ttlMs + options.defaults.swrMs
  for (const policy of options.models.values()) if (policy !== false) longest = Math.max(longest, policy.ttlMs + policy.swrMs)
  return Math.max(2 * longest, 24 * 60 * 60 * 1000)
}
