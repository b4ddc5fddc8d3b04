export { withCache, type CacheArgs } from './extension.js'
export type { CacheApi, InvalidateRequest, RequestLoader } from './cache.js'
export type { CacheLogger, CacheOptions, CacheStrategy, MetricsOptions, ModelPolicy, ReadOperation } from './options.js'
export type {
  BypassReason,
  Distribution,
  Latencies,
  MetricsSnapshot,
  ModelCounters,
  OperationCounters,
  QueryShape,
} from './metrics.js'
export type { MetricsSummary } from './summary.js'
export type { CacheEvents, ErrorEvent, HitEvent, InvalidateEvent, MissEvent, StaleEvent, Tier } from './events.js'
export { CacheError, CacheConfigError } from './errors.js'
