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

/**
 * An error as it may be logged or handed to `onError`: its name, the first line of its message,
 * its code and the Redis command's name. Never its arguments: ioredis's `command.args` hold the
 * encoded row of a refused store, and a Prisma validation error prints the caller's arguments
 * after its first line (test/tiers/log-safety.test.ts writes a secret and greps for it).
 */
export function safeError(error: unknown): Error {
  if (error instanceof CacheError || error instanceof CacheKeyError) return error
  const source = error instanceof Error ? error : new Error(String(error).split('\n')[0])
  const safe = new Error(firstLine(source.message)) as Error & { code?: unknown; command?: string }
  safe.name = source.name
  const code = (source as { code?: unknown }).code
  if (typeof code === 'string' || typeof code === 'number') safe.code = code
  const command = (source as { command?: { name?: unknown } }).command?.name
  if (typeof command === 'string') safe.command = command
  const frames = (source.stack ?? '').split('\n').filter((line) => line.startsWith('    at '))
  safe.stack = [`${safe.name}: ${safe.message}`, ...frames].join('\n')
  return safe
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0]!.trim()
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}
