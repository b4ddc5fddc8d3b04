import type { Cluster, Redis } from 'ioredis'
import { CacheConfigError } from './errors.js'
import { EVENT_NAMES, type CacheEvents } from './events.js'

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

export interface CacheOptions {
  /** Key prefix, so that several applications can share one Redis. @default 'ptc' */
  namespace?: string
  /** The L2 tier: your ioredis client (standalone, Sentinel or Cluster). Without it, L1 only. */
  redis?: Redis | Cluster
  /**
   * For applications where the same arguments return different rows per caller (row-level
   * security, a per-tenant schema): a value, typically read from AsyncLocalStorage, that becomes
   * part of every key. Reads whose partition is `undefined` share entries.
   */
  partition?: () => string | number | undefined | null
  /** Milliseconds before a Redis command is given up and the read goes to the database. @default 250 */
  redisTimeoutMs?: number
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
  }
  /** Applied to every model without its own policy. */
  defaults?: { ttl?: number; swr?: number }
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
}

export interface ResolvedModelPolicy {
  ttlMs: number
  swrMs: number
  operations: ReadonlySet<string>
  invalidates: WriteRules | undefined
}

export interface ResolvedOptions {
  namespace: string
  redis: Redis | Cluster | undefined
  partition: CacheOptions['partition']
  redisTimeoutMs: number
  breaker: { failures: number; cooldownMs: number }
  l1: { maxBytes: number; maxEntryBytes: number; consistency: 'bus' | 'strict'; degradedTtlMs: number } | false
  stampede: { leaseMs: number; waitMs: number }
  defaults: ResolvedModelPolicy
  models: ReadonlyMap<string, ResolvedModelPolicy | false>
  logger: CacheLogger | undefined
  metrics: { enabled: boolean; summaryIntervalMs: number; slowQueryMs: number; clock: () => number }
  events: CacheEvents
  now: () => number
}

const DEFAULT_TTL_S = 60
const DEFAULT_L1_BYTES = 64 * 1024 * 1024

/** Validates once, at `withCache()`: nothing on the hot path re-checks options. */
export function resolveOptions(options: CacheOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new CacheConfigError('options', 'withCache(options) takes an object')
  }
  const namespace = options.namespace ?? 'ptc'
  if (typeof namespace !== 'string' || !/^[\w.-]{1,64}$/.test(namespace)) {
    throw new CacheConfigError('namespace', 'must be 1–64 characters of [A-Za-z0-9_.-]')
  }
  const defaults: ResolvedModelPolicy = resolvePolicy('defaults', {
    ttl: options.defaults?.ttl ?? DEFAULT_TTL_S,
    swr: options.defaults?.swr ?? 0,
  })
  const models = new Map<string, ResolvedModelPolicy | false>()
  for (const [model, policy] of Object.entries(options.models ?? {})) {
    models.set(model, policy === false ? false : resolvePolicy(`models.${model}`, policy, defaults))
  }
  if (options.redis !== undefined && typeof (options.redis as { defineCommand?: unknown }).defineCommand !== 'function') {
    throw new CacheConfigError('redis', 'must be an ioredis client (Redis or Cluster)')
  }
  if (options.partition !== undefined && typeof options.partition !== 'function') {
    throw new CacheConfigError('partition', 'must be a function returning the caller\'s partition')
  }
  return {
    namespace,
    redis: options.redis,
    partition: options.partition,
    redisTimeoutMs: positive('redisTimeoutMs', options.redisTimeoutMs, 250),
    breaker: {
      failures: positive('breaker.failures', options.breaker?.failures, 3),
      cooldownMs: positive('breaker.cooldownMs', options.breaker?.cooldownMs, 1000),
    },
    l1: resolveL1(options.l1),
    stampede: resolveStampede(options.stampede),
    defaults,
    models,
    logger: options.logger,
    metrics: resolveMetrics(options.metrics),
    events: resolveEvents(options.events),
    now: options.now ?? Date.now,
  }
}

function resolveMetrics(metrics: CacheOptions['metrics']): ResolvedOptions['metrics'] {
  if (metrics === false) return { enabled: false, summaryIntervalMs: 0, slowQueryMs: 0, clock: () => performance.now() }
  if (metrics !== undefined && (typeof metrics !== 'object' || metrics === null)) {
    throw new CacheConfigError('metrics', 'must be false or an object { summaryIntervalMs?, slowQueryMs?, clock? }')
  }
  const clock = metrics?.clock ?? (() => performance.now())
  if (typeof clock !== 'function') throw new CacheConfigError('metrics.clock', 'must be a function returning milliseconds')
  return {
    enabled: true,
    summaryIntervalMs: nonNegative('metrics.summaryIntervalMs', metrics?.summaryIntervalMs),
    slowQueryMs: nonNegative('metrics.slowQueryMs', metrics?.slowQueryMs),
    clock,
  }
}

function resolveEvents(events: CacheEvents | undefined): CacheEvents {
  if (events === undefined) return {}
  if (typeof events !== 'object' || events === null || Array.isArray(events)) throw new CacheConfigError('events', `must be an object { ${EVENT_NAMES.join(', ')} }`)
  for (const [name, listener] of Object.entries(events)) {
    if (!(EVENT_NAMES as readonly string[]).includes(name)) {
      throw new CacheConfigError(`events.${name}`, `is not an event; listeners are ${EVENT_NAMES.join(', ')}`)
    }
    if (listener !== undefined && typeof listener !== 'function') throw new CacheConfigError(`events.${name}`, 'must be a function')
  }
  return { ...events }
}

function nonNegative(path: string, value: number | undefined): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheConfigError(path, `must be a non-negative number of milliseconds, got ${String(value)}`)
  }
  return value
}

function resolveL1(l1: CacheOptions['l1']): ResolvedOptions['l1'] {
  if (l1 === false) return false
  const maxBytes = l1?.maxBytes ?? DEFAULT_L1_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) {
    throw new CacheConfigError('l1.maxBytes', 'must be an integer of at least 1024 bytes')
  }
  const maxEntryBytes = l1?.maxEntryBytes ?? Math.floor(maxBytes / 16)
  if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes < 1 || maxEntryBytes > maxBytes) {
    throw new CacheConfigError('l1.maxEntryBytes', 'must be a positive integer no larger than l1.maxBytes')
  }
  const consistency = l1?.consistency ?? 'bus'
  if (consistency !== 'bus' && consistency !== 'strict') throw new CacheConfigError('l1.consistency', "must be 'bus' or 'strict'")
  return { maxBytes, maxEntryBytes, consistency, degradedTtlMs: positive('l1.degradedTtlMs', l1?.degradedTtlMs, 1000) }
}

function resolveStampede(stampede: CacheOptions['stampede']): ResolvedOptions['stampede'] {
  const leaseMs = positive('stampede.leaseMs', stampede?.leaseMs, 5000)
  return { leaseMs, waitMs: positive('stampede.waitMs', stampede?.waitMs, leaseMs * 2) }
}

function resolvePolicy(
  path: string,
  policy: Exclude<ModelPolicy, false>,
  inherit?: ResolvedModelPolicy,
): ResolvedModelPolicy {
  if (typeof policy !== 'object' || policy === null) {
    throw new CacheConfigError(path, 'must be false or an object { ttl?, swr?, operations? }')
  }
  const ttlMs = seconds(`${path}.ttl`, policy.ttl) ?? inherit!.ttlMs
  const swrMs = seconds(`${path}.swr`, policy.swr) ?? inherit?.swrMs ?? 0
  const operations = policy.operations ?? inherit?.operations ?? READ_OPERATIONS
  for (const op of operations) {
    if (!(READ_OPERATIONS as readonly string[]).includes(op)) {
      throw new CacheConfigError(`${path}.operations`, `'${op}' is not one of ${READ_OPERATIONS.join(', ')}`)
    }
  }
  return { ttlMs, swrMs, operations: new Set(operations), invalidates: resolveRules(`${path}.invalidates`, policy.invalidates) }
}

function resolveRules(path: string, rules: WriteRules | undefined): WriteRules | undefined {
  if (rules === undefined) return undefined
  if (typeof rules !== 'object' || rules === null) throw new CacheConfigError(path, 'must be an object { models?, tags?, patterns? }')
  for (const key of ['models', 'tags', 'patterns'] as const) {
    const list = rules[key]
    if (list !== undefined && !Array.isArray(list)) throw new CacheConfigError(`${path}.${key}`, 'must be an array')
  }
  for (const tag of rules.tags ?? []) {
    if (typeof tag !== 'function' && (typeof tag !== 'string' || tag === '')) {
      throw new CacheConfigError(`${path}.tags`, 'takes non-empty strings and functions')
    }
  }
  for (const pattern of rules.patterns ?? []) {
    if (typeof pattern !== 'string' || pattern === '') {
      throw new CacheConfigError(`${path}.patterns`, "takes non-empty glob strings such as 'feed:*'")
    }
  }
  return rules
}

function positive(path: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw new CacheConfigError(path, `must be a positive number, got ${String(value)}`)
  return value
}

/** Seconds (as users write them) to milliseconds; `undefined` stays undefined. */
export function seconds(path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheConfigError(path, `must be a non-negative number of seconds, got ${String(value)}`)
  }
  return Math.round(value * 1000)
}
