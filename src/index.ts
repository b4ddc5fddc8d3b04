export { withCache, type CacheArgs } from './prisma/extension.js'
/** The types of the cached read methods (fluent relations, aggregate answers…), for declarations that name them. */
export type * as CacheTypes from './prisma/method-types.js'
export type { CacheApi, HealthReport, InvalidateRequest, RequestLoader, WarmOptions, WarmRead, WarmSummary } from './cache/api.js'
export type {
  AlertThresholds,
  CacheLogger,
  CacheOptions,
  CacheSpan,
  CacheStrategy,
  CacheTracer,
  MetricsOptions,
  ModelPolicy,
  ReadOperation,
  TagRule,
  WriteEvent,
  WriteRules,
} from './config/options.js'
export type {
  BypassReason,
  Distribution,
  Latencies,
  MetricsSnapshot,
  ModelCounters,
  OperationCounters,
  QueryShape,
  TtlAdvice,
} from './metrics/metrics.js'
export type { MetricsSummary } from './metrics/summary.js'
export type { CacheInfo, CacheStatus } from './read/cache-info.js'
export type { AlertEvent, AlertName, CacheEvents, ErrorEvent, HitEvent, InvalidateEvent, MissEvent, StaleEvent, Tier } from './config/event-types.js'
export { CacheError, CacheConfigError, CacheKeyError, CodecError, RedisTimeoutError, UnsupportedPrismaError } from './errors.js'
