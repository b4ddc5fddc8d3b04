import type { Cluster, Redis } from 'ioredis'
import type { CacheEvents } from './event-types.js'

/** The read operations this library can serve from cache. */
export const READ_OPERATIONS = [
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
] as const
export type ReadOperation = (typeof READ_OPERATIONS)[number]

/** Per-call override, compatible with Prisma Accelerate's `cacheStrategy`. Seconds. */
export type CacheStrategy =
  | false
  | {
      /** Seconds an entry is fresh. `0` means: do not cache this call. */
      ttl?: number
      /** Seconds an expired entry may still be served while it is refreshed. @default 0 */
      swr?: number
      /** Seconds a negative answer (see `ModelPolicy.negativeTtl`) is fresh. @default the model's `negativeTtl` */
      negativeTtl?: number
      /** Names that `prisma.$cache.invalidate({ tags })` can later drop this entry by. */
      tags?: readonly string[]
    }

/** A completed write, as write-triggered rules see it. */
export interface WriteEvent {
  model: string
  operation: string
  args: Record<string, unknown>
  /** What the write returned (a row, a `{ count }`, or rows for `*AndReturn`). */
  result: unknown
}

/**
 * A tag a write drops. A string is static, or a template whose `{field}` parts are filled from the
 * written row (the result, else `args.where`, else `args.data`): `'post:{id}'`, `'user:{authorId}'`.
 * A function computes tags from the write; returning nothing drops nothing.
 */
export type TagRule = string | ((write: WriteEvent) => string | readonly string[] | null | undefined)

/** What else a write to a model invalidates, beyond what the schema says it can change. */
export interface WriteRules {
  models?: readonly string[]
  tags?: readonly TagRule[]
  /**
   * Glob patterns of tags (`'recruiter:*'`) dropped in the background (SCAN + UNLINK on the tag
   * counters in Redis, never KEYS); eventually applied, not before the write resolves.
   */
  patterns?: readonly string[]
}

/** Policy of one model: `false` never caches it. */
export type ModelPolicy =
  | false
  | {
      /** Seconds an entry is fresh. @default `defaults.ttl` */
      ttl?: number
      /** Seconds of stale-while-revalidate. @default `defaults.swr` */
      swr?: number
      /**
       * Seconds a negative answer is fresh: a `null` (findUnique, findFirst and their OrThrow
       * variants), an empty list (findMany, groupBy), a zero count. `0`: negative answers are not
       * cached. @default `defaults.negativeTtl`, else the entry's `ttl`
       */
      negativeTtl?: number
      /** Which read operations are cached. @default every read operation */
      operations?: readonly ReadOperation[]
      /** What a write to this model invalidates besides the models the schema says it changes. */
      invalidates?: WriteRules
    }

/** Minimal logger contract; a pino logger satisfies it. */
export interface CacheLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/** What the cache needs of an OpenTelemetry `Tracer` (`@opentelemetry/api`'s is one). */
export interface CacheTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Record<string, string> }): CacheSpan
}

/** What the cache needs of an OpenTelemetry `Span`. */
export interface CacheSpan {
  setAttribute(key: string, value: string | number): unknown
  setStatus(status: { code: number }): unknown
  end(): void
}

export interface CacheOptions {
  /** Key prefix, so that several applications can share one Redis. @default 'ptc' */
  namespace?: string
  /** The L2 tier: your ioredis client (standalone, Sentinel or Cluster). Without it, L1 only. */
  redis?: Redis | Cluster
  /**
   * How narrow a write's invalidation is. `'row'`: a write drops the cached reads whose rows or
   * lists it can change (equality keys of the written rows, the fields it assigns). `'model'`:
   * every write drops every cached read of the models it touches (coarser, fewer counters).
   * @default 'row'
   */
  invalidation?: 'row' | 'model'
  /**
   * Nothing is cached unless the call passes a `cacheStrategy` (as with Prisma Accelerate); the
   * models' policies still decide what a `cacheStrategy` call is cached with. @default false
   */
  optIn?: boolean
  /**
   * For applications where the same arguments return different rows per caller (row-level
   * security, a per-tenant schema): a value, typically read from AsyncLocalStorage, that becomes
   * part of every key. Reads whose partition is `undefined` share entries.
   */
  partition?: () => string | number | undefined | null
  /** Milliseconds before a Redis command is given up and the read goes to the database. @default 250 */
  redisTimeoutMs?: number
  /**
   * Milliseconds a read replica may lag behind the primary. A database answer to a read whose
   * models (rows, counters) a write changed less than this before the read began is returned but
   * not cached: it may come from a replica that has not applied that write yet. Writes of this
   * process and writes heard on the invalidation bus count. `0`: every answer is cached.
   * @default 5000 when `withCache()` extends a client with `@prisma/extension-read-replicas`, else 0
   */
  replicaLagMs?: number
  /** After this many consecutive Redis failures, stop calling it for `cooldownMs`. */
  breaker?: { failures?: number; cooldownMs?: number }
  /** In-process tier. `false` disables it. */
  l1?:
    | false
    | {
        /** Byte budget, measured on the encoded value. @default 64 MiB */
        maxBytes?: number
        /** Largest single entry kept in L1, bytes. @default maxBytes / 16 */
        maxEntryBytes?: number
        /**
         * `'bus'`: L1 trusts this process's writes and the invalidation bus (other processes' writes
         * arrive within the bus delay). `'strict'`: every L1 hit is checked against Redis's counters
         * first (one small round trip), for cross-process read-after-write at any cost.
         * @default 'bus'
         */
        consistency?: 'bus' | 'strict'
        /** While the bus is down, L1 entries live at most this long, milliseconds. @default 1000 */
        degradedTtlMs?: number
      }
  /** Cross-process stampede protection (needs `redis`). */
  stampede?: {
    /** Lease time of the process computing a missing entry; renewed while its query runs. @default 5000 */
    leaseMs?: number
    /** How long others wait for that value before querying themselves. @default leaseMs * 2 */
    waitMs?: number
    /**
     * Milliseconds: a miss whose query shape has measured faster than this (mean of at least 3
     * queries) skips the cross-process lease, one Redis round trip: a stampede of a fast query
     * costs one query per process at most (single flight covers each process). `0`: always lease.
     * @default 5
     */
    leaseAboveMs?: number
  }
  /** Applied to every model without its own policy. */
  defaults?: { ttl?: number; swr?: number; negativeTtl?: number }
  /** Per-model policy, keyed by model name as in the schema (`User`, not `user`). */
  models?: Record<string, ModelPolicy>
  logger?: CacheLogger
  /**
   * The metrics collector behind `prisma.$cache.metrics()`, `prometheus()` and summary logs.
   * `false` turns collection off (the counters stay at zero; events still fire).
   */
  metrics?: false | MetricsOptions
  /** Listeners for hits, misses, stale serves, invalidations and swallowed errors. */
  events?: CacheEvents
  /**
   * OpenTelemetry spans, one per cached read (`prisma-tiered-cache <Model>.<operation>`, with
   * `ptc.model`, `ptc.operation`, `ptc.outcome`, `ptc.tier`; never an argument value); a miss's
   * Prisma query runs inside it. Needs `@opentelemetry/api` installed. `true`: the globally
   * registered tracer provider's tracer; `{ tracer }`: that tracer. @default false (no cost at all)
   */
  tracing?: boolean | { tracer?: CacheTracer }
  /** Injectable clock (milliseconds), for tests. @default Date.now */
  now?: () => number
}

export interface MetricsOptions {
  /**
   * Milliseconds between summary logs through `logger` (hit rates, time saved, slow queries, the
   * busiest and worst-hit models). `0`: no periodic summary; `prisma.$cache.logSummary()` still logs one.
   * @default 0
   */
  summaryIntervalMs?: number
  /**
   * Database queries taking at least this many milliseconds are slow: logged as they happen (at
   * most once per query shape per summary interval, or per minute without one) and listed in
   * summaries, with their model, operation and argument keys, never values. `0`: none is.
   * @default 0
   */
  slowQueryMs?: number
  /** High-resolution clock for latencies, milliseconds; injectable for tests. @default performance.now */
  clock?: () => number
  /** Thresholds judged at each summary (every `summaryIntervalMs`, and each `logSummary()`). */
  alerts?: AlertThresholds
}

/**
 * Each threshold is judged on one summary interval's figures: crossed, it logs one `warn` and
 * fires `events.onAlert` once (`firing`), then stays quiet while it stays crossed; back within
 * it, one `info` and one `onAlert` (`recovered`). An interval without the figure (no lookups, no
 * query, no Redis call) leaves the alert as it was. Unset: not watched.
 */
export interface AlertThresholds {
  /** Lowest acceptable hit rate, hits / (hits + misses), 0–1. */
  minHitRate?: number
  /** Highest acceptable p95 of database queries (misses, refreshes), ms. */
  maxDbP95Ms?: number
  /** Highest acceptable p95 of Redis calls (a timed-out call counts its whole wait), ms. */
  maxRedisP95Ms?: number
  /** Highest acceptable share of Redis calls that failed or timed out, 0–1. */
  maxRedisErrorRate?: number
  /** Most breaker openings acceptable in one summary interval (0: alert on any). */
  maxBreakerOpenings?: number
}
