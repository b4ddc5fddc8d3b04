import type { Cluster, Redis } from 'ioredis'
import { CacheConfigError } from '../errors.js'
import { objectOrAbsent, onlyKnown, shown } from './checks.js'
import { EVENT_NAMES, type CacheEvents } from './event-types.js'
import { READ_OPERATIONS, type AlertThresholds, type CacheLogger, type CacheOptions, type CacheTracer, type ModelPolicy, type WriteRules } from './options.js'

export interface ResolvedModelPolicy {
  ttlMs: number
  swrMs: number
  /** `undefined`: negative answers live as long as any other. */
  negativeTtlMs: number | undefined
  operations: ReadonlySet<string>
  invalidates: WriteRules | undefined
}

export interface ResolvedOptions {
  namespace: string
  invalidation: 'row' | 'model'
  optIn: boolean
  redis: Redis | Cluster | undefined
  partition: CacheOptions['partition']
  redisTimeoutMs: number
  /** `undefined`: not given (5000 under Prisma's read-replicas extension, else 0: cache/replica-lag.ts). */
  replicaLagMs: number | undefined
  breaker: { failures: number; cooldownMs: number }
  l1: { maxBytes: number; maxEntryBytes: number; consistency: 'bus' | 'strict'; degradedTtlMs: number } | false
  stampede: { leaseMs: number; waitMs: number; leaseAboveMs: number }
  defaults: ResolvedModelPolicy
  models: ReadonlyMap<string, ResolvedModelPolicy | false>
  logger: CacheLogger | undefined
  metrics: { enabled: boolean; summaryIntervalMs: number; slowQueryMs: number; clock: () => number; alerts: AlertThresholds }
  events: CacheEvents
  /** `undefined`: no tracing; `tracer` undefined: the global provider's (read/tracing.ts). */
  tracing: { tracer: CacheTracer | undefined } | undefined
  now: () => number
}

const DEFAULT_TTL_S = 60
const DEFAULT_L1_BYTES = 64 * 1024 * 1024

/** Validates once, at `withCache()`: nothing on the hot path re-checks options. */
export function resolveOptions(options: CacheOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new CacheConfigError('options', `withCache(options) takes an object, got ${shown(options)}`)
  }
  onlyKnown('', options, TOP_LEVEL)
  for (const [key, allowed] of Object.entries(NESTED)) {
    const value = (options as Record<string, unknown>)[key]
    objectOrAbsent(key, value, `{ ${allowed.join(', ')} }`, key === 'l1' || key === 'metrics')
    if (typeof value === 'object' && value !== null) onlyKnown(`${key}.`, value, allowed)
  }
  objectOrAbsent('models', options.models, '{ <Model>: false | { ttl?, swr?, operations?, invalidates? } }')
  const namespace = options.namespace ?? 'ptc'
  if (typeof namespace !== 'string' || !/^[\w.-]{1,64}$/.test(namespace)) {
    throw new CacheConfigError('namespace', `must be 1–64 characters of [A-Za-z0-9_.-], got ${shown(namespace)}`)
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new CacheConfigError('now', `must be a function returning epoch milliseconds, got ${shown(options.now)}`)
  }
  const defaults: ResolvedModelPolicy = resolvePolicy('defaults', {
    ttl: options.defaults?.ttl ?? DEFAULT_TTL_S,
    swr: options.defaults?.swr ?? 0,
    negativeTtl: options.defaults?.negativeTtl,
  })
  const models = new Map<string, ResolvedModelPolicy | false>()
  for (const [model, policy] of Object.entries(options.models ?? {})) {
    models.set(model, policy === false ? false : resolvePolicy(`models.${model}`, policy, defaults))
  }
  if (options.redis !== undefined && typeof (options.redis as { defineCommand?: unknown }).defineCommand !== 'function') {
    throw new CacheConfigError('redis', `must be an ioredis client (Redis or Cluster), got ${shown(options.redis)}`)
  }
  if (options.partition !== undefined && typeof options.partition !== 'function') {
    throw new CacheConfigError('partition', 'must be a function returning the caller\'s partition')
  }
  return {
    namespace,
    invalidation: oneOf('invalidation', options.invalidation, ['row', 'model'] as const, 'row'),
    optIn: flag('optIn', options.optIn),
    redis: options.redis,
    partition: options.partition,
    redisTimeoutMs: positive('redisTimeoutMs', options.redisTimeoutMs, 250),
    replicaLagMs: options.replicaLagMs === undefined ? undefined : nonNegative('replicaLagMs', options.replicaLagMs),
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
    tracing: resolveTracing(options.tracing),
    now: options.now ?? Date.now,
  }
}

function resolveMetrics(metrics: CacheOptions['metrics']): ResolvedOptions['metrics'] {
  if (metrics === false) return { enabled: false, summaryIntervalMs: 0, slowQueryMs: 0, clock: () => performance.now(), alerts: {} }
  if (metrics !== undefined && (typeof metrics !== 'object' || metrics === null)) {
    throw new CacheConfigError('metrics', 'must be false or an object { summaryIntervalMs?, slowQueryMs?, clock?, alerts? }')
  }
  const clock = metrics?.clock ?? (() => performance.now())
  if (typeof clock !== 'function') throw new CacheConfigError('metrics.clock', 'must be a function returning milliseconds')
  return {
    enabled: true,
    summaryIntervalMs: nonNegative('metrics.summaryIntervalMs', metrics?.summaryIntervalMs),
    slowQueryMs: nonNegative('metrics.slowQueryMs', metrics?.slowQueryMs),
    clock,
    alerts: resolveAlerts(metrics?.alerts),
  }
}

function resolveAlerts(alerts: AlertThresholds | undefined): AlertThresholds {
  objectOrAbsent('metrics.alerts', alerts, `{ ${ALERT_KEYS.join('?, ')}? }`)
  if (alerts === undefined) return {}
  onlyKnown('metrics.alerts.', alerts, ALERT_KEYS)
  for (const key of ['minHitRate', 'maxRedisErrorRate'] as const) {
    const value = alerts[key]
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0 && value <= 1))) {
      throw new CacheConfigError(`metrics.alerts.${key}`, `must be a fraction from 0 to 1, got ${shown(value)}`)
    }
  }
  for (const key of ['maxDbP95Ms', 'maxRedisP95Ms'] as const) if (alerts[key] !== undefined) nonNegative(`metrics.alerts.${key}`, alerts[key])
  const openings = alerts.maxBreakerOpenings
  if (openings !== undefined && (!Number.isSafeInteger(openings) || openings < 0)) {
    throw new CacheConfigError('metrics.alerts.maxBreakerOpenings', `must be a non-negative integer, got ${shown(openings)}`)
  }
  return { ...alerts }
}

function resolveTracing(tracing: CacheOptions['tracing']): ResolvedOptions['tracing'] {
  if (tracing === undefined || tracing === false) return undefined
  if (tracing === true) return { tracer: undefined }
  if (typeof tracing !== 'object' || tracing === null || Array.isArray(tracing)) {
    throw new CacheConfigError('tracing', `must be true, false or an object { tracer? }, got ${shown(tracing)}`)
  }
  onlyKnown('tracing.', tracing, ['tracer'])
  const { tracer } = tracing
  if (tracer !== undefined && typeof (tracer as Partial<CacheTracer>).startSpan !== 'function') {
    throw new CacheConfigError('tracing.tracer', `must be an OpenTelemetry Tracer, got ${shown(tracer)}`)
  }
  return { tracer }
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
    throw new CacheConfigError(path, `must be a non-negative number of milliseconds, got ${shown(value)}`)
  }
  return value
}

function resolveL1(l1: CacheOptions['l1']): ResolvedOptions['l1'] {
  if (l1 === false) return false
  const maxBytes = l1?.maxBytes ?? DEFAULT_L1_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) {
    throw new CacheConfigError('l1.maxBytes', `must be an integer of at least 1024 bytes, got ${shown(maxBytes)}`)
  }
  const maxEntryBytes = l1?.maxEntryBytes ?? Math.floor(maxBytes / 16)
  if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes < 1 || maxEntryBytes > maxBytes) {
    throw new CacheConfigError('l1.maxEntryBytes', `must be a positive integer no larger than l1.maxBytes, got ${shown(maxEntryBytes)}`)
  }
  const consistency = l1?.consistency ?? 'bus'
  if (consistency !== 'bus' && consistency !== 'strict') throw new CacheConfigError('l1.consistency', `must be 'bus' or 'strict', got ${shown(consistency)}`)
  return { maxBytes, maxEntryBytes, consistency, degradedTtlMs: positive('l1.degradedTtlMs', l1?.degradedTtlMs, 1000) }
}

function resolveStampede(stampede: CacheOptions['stampede']): ResolvedOptions['stampede'] {
  const leaseMs = positive('stampede.leaseMs', stampede?.leaseMs, 5000)
  return {
    leaseMs,
    waitMs: positive('stampede.waitMs', stampede?.waitMs, leaseMs * 2),
    leaseAboveMs: stampede?.leaseAboveMs === undefined ? 5 : nonNegative('stampede.leaseAboveMs', stampede.leaseAboveMs),
  }
}

function resolvePolicy(
  path: string,
  policy: Exclude<ModelPolicy, false>,
  inherit?: ResolvedModelPolicy,
): ResolvedModelPolicy {
  if (typeof policy !== 'object' || policy === null) {
    throw new CacheConfigError(path, `must be false or an object { ttl?, swr?, operations?, invalidates? }, got ${shown(policy)}`)
  }
  if (path !== 'defaults') onlyKnown(`${path}.`, policy, POLICY_KEYS)
  const ttlMs = seconds(`${path}.ttl`, policy.ttl) ?? inherit!.ttlMs
  const swrMs = seconds(`${path}.swr`, policy.swr) ?? inherit?.swrMs ?? 0
  const negativeTtlMs = seconds(`${path}.negativeTtl`, policy.negativeTtl) ?? inherit?.negativeTtlMs
  const operations = policy.operations ?? inherit?.operations ?? READ_OPERATIONS
  if (policy.operations !== undefined && !Array.isArray(policy.operations)) {
    throw new CacheConfigError(`${path}.operations`, `must be an array of read operations, got ${shown(policy.operations)}`)
  }
  for (const op of operations) {
    if (!(READ_OPERATIONS as readonly string[]).includes(op)) {
      throw new CacheConfigError(`${path}.operations`, `'${op}' is not one of ${READ_OPERATIONS.join(', ')}`)
    }
  }
  return { ttlMs, swrMs, negativeTtlMs, operations: new Set(operations), invalidates: resolveRules(`${path}.invalidates`, policy.invalidates) }
}

function resolveRules(path: string, rules: WriteRules | undefined): WriteRules | undefined {
  if (rules === undefined) return undefined
  if (typeof rules !== 'object' || rules === null) throw new CacheConfigError(path, 'must be an object { models?, tags?, patterns? }')
  onlyKnown(`${path}.`, rules, RULE_KEYS)
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
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new CacheConfigError(path, `must be a positive number, got ${shown(value)}`)
  return value
}

/** Seconds (as users write them) to milliseconds; `undefined` stays undefined. */
export function seconds(path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheConfigError(path, `must be a non-negative number of seconds, got ${shown(value)}`)
  }
  return Math.round(value * 1000)
}

function flag(path: string, value: unknown): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new CacheConfigError(path, `must be true or false, got ${shown(value)}`)
  return value
}

function oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new CacheConfigError(path, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`)
  }
  return value as T
}

const TOP_LEVEL = ['namespace', 'redis', 'invalidation', 'optIn', 'partition', 'redisTimeoutMs', 'replicaLagMs', 'breaker', 'l1', 'stampede', 'defaults', 'models', 'logger', 'metrics', 'events', 'tracing', 'now']
const NESTED: Record<string, readonly string[]> = {
  breaker: ['failures', 'cooldownMs'],
  l1: ['maxBytes', 'maxEntryBytes', 'consistency', 'degradedTtlMs'],
  stampede: ['leaseMs', 'waitMs', 'leaseAboveMs'],
  defaults: ['ttl', 'swr', 'negativeTtl'],
  metrics: ['summaryIntervalMs', 'slowQueryMs', 'clock', 'alerts'],
}
const POLICY_KEYS = ['ttl', 'swr', 'negativeTtl', 'operations', 'invalidates']
const RULE_KEYS = ['models', 'tags', 'patterns']
const ALERT_KEYS = ['minHitRate', 'maxDbP95Ms', 'maxRedisP95Ms', 'maxRedisErrorRate', 'maxBreakerOpenings']
