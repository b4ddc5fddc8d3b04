/** What an error concerns, where it is known: never a value, only names. */
export interface ErrorContext {
  model?: string
  operation?: string
  tier?: 'l1' | 'l2'
  /** A Redis key or counter name (names and hashes, never a value). */
  key?: string
  cause?: unknown
}

/** Every error this library raises carries a stable `code` and what it concerns. */
export class CacheError extends Error {
  readonly code: string
  readonly model: string | undefined
  readonly operation: string | undefined
  readonly tier: 'l1' | 'l2' | undefined
  readonly key: string | undefined

  constructor(code: string, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause })
    this.name = new.target.name
    this.code = code
    this.model = context.model
    this.operation = context.operation
    this.tier = context.tier
    this.key = context.key
  }
}

/** Bad configuration, thrown by `withCache()` or by a `cacheStrategy` the caller passed. */
export class CacheConfigError extends CacheError {
  readonly option: string
  constructor(option: string, message: string) {
    super('PTC_CONFIG', `prisma-tiered-cache: ${option} ${message}`)
    this.option = option
  }
}

/** Redis did not answer in time (`redisTimeoutMs`). Never reaches a caller: the read goes to the database. */
export class RedisTimeoutError extends CacheError {
  constructor(ms: number) {
    super('PTC_REDIS_TIMEOUT', `prisma-tiered-cache: Redis did not answer within ${ms} ms`, { tier: 'l2' })
  }
}

/** This Prisma Client lacks an internal the cache reads (see prisma/internals.ts): an unsupported Prisma version. */
export class UnsupportedPrismaError extends CacheError {
  constructor(what: string) {
    super('PTC_UNSUPPORTED_PRISMA', `prisma-tiered-cache: this Prisma Client exposes no ${what}; supported: Prisma 7`)
  }
}

/** Bytes in L2 that this version did not write: read as a miss, never surfaced. */
export class CodecError extends CacheError {
  constructor(message: string) {
    super('PTC_CODEC', `prisma-tiered-cache: ${message}`, { tier: 'l2' })
  }
}

/**
 * Arguments no cache key can be built from (a function, a symbol). A `TypeError`, as it was before
 * codes existed, with the same `code` field as every `CacheError`.
 */
export class CacheKeyError extends TypeError {
  readonly code = 'PTC_KEY'
  constructor(message: string) {
    super(`prisma-tiered-cache: ${message}`)
    this.name = 'CacheKeyError'
  }
}
