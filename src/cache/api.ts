import { clone } from '../codec/clone.js'
import { CacheConfigError } from '../errors.js'
import type { InvalidateRequest, Invalidator } from '../invalidation/invalidator.js'
import { readKey } from '../keys/canonical.js'
import type { Metrics, MetricsSnapshot } from '../metrics/metrics.js'
import { prometheusText } from '../metrics/prometheus.js'
import type { MetricsSummary, SummaryLog } from '../metrics/summary.js'
import type { SchemaFacts } from '../schema/schema.js'
import type { L1 } from '../tiers/l1.js'
import type { HealthReport } from './health.js'
import { warm, warmReads, type WarmOptions, type WarmRead, type WarmSummary } from './warm.js'
import type { CacheLogger } from '../config/options.js'

export type { InvalidateRequest } from '../invalidation/invalidator.js'
export type { HealthReport } from './health.js'
export type { WarmOptions, WarmRead, WarmSummary } from './warm.js'

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
  /**
   * Runs `reads` (`() => prisma.user.findUnique(…)`) through the cache, `concurrency` at a time
   * (default 16), logging progress; a failed read is logged and counted, never thrown. Rejects
   * only with a CacheConfigError for bad arguments.
   */
  warm(reads: Iterable<WarmRead>, options?: WarmOptions): Promise<WarmSummary>
  /**
   * Resolves once the invalidation bus is subscribed (immediately without Redis) and every
   * `warm()` started before this call has finished; rejects with a `CacheError` (code `PTC_BUS`)
   * when Redis refuses the subscription or it is not made within max(5 s, 10 × `redisTimeoutMs`).
   */
  ready(): Promise<void>
  /** Redis (PING bounded by `redisTimeoutMs`), breaker, bus, L1 and pending invalidations now; never rejects. */
  health(): Promise<HealthReport>
  /** Stops summary logs and closes the bus connection this extension opened. Your own Redis client stays yours. */
  close(): void
}

export interface RequestLoader {
  /** `findUnique` of `model` by a unique `where`, optionally with `select`/`include`/`omit`. */
  load<T = Record<string, unknown>>(model: string, where: Record<string, unknown>, projection?: Record<string, unknown>): Promise<T | null>
}

export interface ApiParts {
  schema: SchemaFacts
  invalidator: Invalidator
  metrics: Metrics
  summary: SummaryLog
  l1: L1 | undefined
  logger: CacheLogger | undefined
  now: () => number
  /** Generation counters this process holds now. */
  counters(): number
  /** A cached `findUnique` through the read path, on the client the extension was applied to. */
  findUnique(model: string, args: unknown): unknown
  ready(): Promise<void>
  health(): Promise<HealthReport>
  close(): void
}

export function createApi(parts: ApiParts): CacheApi {
  const { invalidator, metrics, l1 } = parts
  const l1Size = () => l1 && { entries: l1.size, bytes: l1.usedBytes, counters: parts.counters() }
  /** Warm-ups not finished yet: `ready()` waits for those started before it. They never reject. */
  const warming = new Set<Promise<WarmSummary>>()
  return {
    invalidate: (request) => invalidator.invalidate(request),
    invalidateAll: () => invalidator.invalidateAll(),
    affecting: (models, fn) => invalidator.affecting(models, fn),
    metrics: () => metrics.snapshot(l1Size()),
    resetMetrics: () => metrics.reset(),
    prometheus: () => prometheusText(metrics.state, { breaker: metrics.breakerState, l1: l1Size() }),
    logSummary: () => parts.summary.log(),
    loader: () => createLoader(parts),
    warm: (reads, options) => {
      let checked: ReturnType<typeof warmReads>
      try {
        checked = warmReads(reads, options)
      } catch (error) {
        return Promise.reject(error)
      }
      const running = warm(checked.reads, checked.concurrency, parts.logger, parts.now)
      warming.add(running)
      void running.finally(() => warming.delete(running))
      return running
    },
    ready: () => {
      const started = [...warming]
      return parts.ready().then(() => Promise.all(started)).then(() => undefined)
    },
    health: () => parts.health(),
    close: () => parts.close(),
  }
}

function createLoader(parts: ApiParts): RequestLoader {
  const loads = new Map<string, Promise<unknown>>()
  return {
    load: <T>(model: string, where: Record<string, unknown>, projection: Record<string, unknown> = {}) => {
      if (parts.schema.model(model) === undefined) return Promise.reject(new CacheConfigError('loader.load', `has no model '${model}'`))
      const args = { ...projection, where }
      const key = readKey(model, 'findUnique', args)
      let load = loads.get(key)
      if (load === undefined) {
        load = Promise.resolve(parts.findUnique(model, args))
        loads.set(key, load)
        return load as Promise<T | null>
      }
      return load.then((value) => clone(value)) as Promise<T | null>
    },
  }
}
