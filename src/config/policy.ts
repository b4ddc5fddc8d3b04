import { CacheConfigError } from '../errors.js'
import type { CacheStrategy } from './options.js'
import { seconds, type ResolvedModelPolicy, type ResolvedOptions } from './resolve.js'

/** What one cached read is stored with. */
export interface EntryPolicy {
  ttlMs: number
  swrMs: number
  /** Fresh time of a negative answer (read/negative.ts); `undefined`: `ttlMs`. */
  negativeTtlMs: number | undefined
  tags: readonly string[]
}

const NO_TAGS: readonly string[] = Object.freeze([])

/**
 * Decides, per model and operation, whether a read is cached and for how long. The common case
 * (no `cacheStrategy`) returns a memoized object, so the hot path allocates nothing here.
 */
export class Policy {
  private readonly memo = new Map<string, Record<string, EntryPolicy | null>>()

  constructor(private readonly options: ResolvedOptions) {}

  /** `null`: bypass the cache. Throws `CacheConfigError` on a malformed `cacheStrategy`. */
  for(model: string, operation: string, strategy: CacheStrategy | undefined): EntryPolicy | null {
    if (strategy === false || (strategy === undefined && this.options.optIn)) return null
    const base = this.base(model, operation)
    if (base === null || strategy === undefined) return base
    return this.override(base, strategy)
  }

  private base(model: string, operation: string): EntryPolicy | null {
    let byOperation = this.memo.get(model)
    if (byOperation === undefined) {
      byOperation = Object.create(null) as Record<string, EntryPolicy | null>
      this.memo.set(model, byOperation)
    }
    let policy = byOperation[operation]
    if (policy === undefined) {
      const resolved: ResolvedModelPolicy | false = this.options.models.get(model) ?? this.options.defaults
      policy =
        resolved === false || !resolved.operations.has(operation) || resolved.ttlMs === 0
          ? null
          : { ttlMs: resolved.ttlMs, swrMs: resolved.swrMs, negativeTtlMs: resolved.negativeTtlMs, tags: NO_TAGS }
      byOperation[operation] = policy
    }
    return policy
  }

  private override(base: EntryPolicy, strategy: Exclude<CacheStrategy, false>): EntryPolicy | null {
    if (typeof strategy !== 'object' || strategy === null) {
      throw new CacheConfigError('cacheStrategy', 'must be false or an object { ttl?, swr?, negativeTtl?, tags? }')
    }
    const ttlMs = seconds('cacheStrategy.ttl', strategy.ttl) ?? base.ttlMs
    if (ttlMs === 0) return null
    const swrMs = seconds('cacheStrategy.swr', strategy.swr) ?? base.swrMs
    const negativeTtlMs = seconds('cacheStrategy.negativeTtl', strategy.negativeTtl) ?? base.negativeTtlMs
    const tags = strategy.tags ?? NO_TAGS
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t.length > 0)) {
      throw new CacheConfigError('cacheStrategy.tags', 'must be an array of non-empty strings')
    }
    return { ttlMs, swrMs, negativeTtlMs, tags }
  }
}

/** The arguments Prisma gets: without our `cacheStrategy`, which it would reject. */
export function withoutStrategy(args: unknown): unknown {
  if (typeof args !== 'object' || args === null || !('cacheStrategy' in args)) return args
  const { cacheStrategy: _, ...rest } = args as { cacheStrategy?: unknown }
  return rest
}
