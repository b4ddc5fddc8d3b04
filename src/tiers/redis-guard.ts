import type { CacheLogger } from '../config/options.js'
import { RedisTimeoutError } from '../errors.js'
import { Breaker } from './breaker.js'

/** Counts the Redis failures of one kind of read (metrics' per-operation counters). */
export interface ErrorCounter {
  redisErrors: number
}

export interface GuardOptions {
  timeoutMs: number
  breaker: { failures: number; cooldownMs: number }
  now: () => number
  logger: CacheLogger | undefined
  /** Every failed or timed-out Redis call, after the breaker counted it. */
  onError: (error: unknown) => void
  /** The breaker opened (Redis is skipped) or closed again. */
  onBreakerChange?: (state: 'open' | 'closed') => void
}

/**
 * Every Redis call runs under a timeout and a circuit breaker: a slow or absent Redis costs the
 * caller a database query, never an error.
 */
export class RedisGuard {
  private readonly breaker: Breaker

  constructor(private readonly options: GuardOptions) {
    this.breaker = new Breaker(options.breaker.failures, options.breaker.cooldownMs, options.now, (state) => {
      options.onBreakerChange?.(state)
      if (state === 'open') {
        options.logger?.warn({ cooldownMs: options.breaker.cooldownMs }, 'prisma-tiered-cache: Redis unavailable, serving from L1 and the database')
      } else options.logger?.info({}, 'prisma-tiered-cache: Redis is back')
    })
  }

  get isOpen(): boolean {
    return this.breaker.isOpen
  }

  /** Whether to call Redis now (while open, one probe per cooldown). */
  allow(): boolean {
    return this.breaker.allow()
  }

  get cooldownMs(): number {
    return this.options.breaker.cooldownMs
  }

  get timeoutMs(): number {
    return this.options.timeoutMs
  }

  /** Runs a Redis call under the timeout; failures are counted, logged once by the breaker, swallowed. */
  async run<T>(errors: ErrorCounter | undefined, call: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await withTimeout(call(), this.options.timeoutMs)
      this.breaker.success()
      return result
    } catch (error) {
      this.breaker.failure()
      if (errors !== undefined) errors.redisErrors++
      this.options.onError(error)
      if (!this.breaker.isOpen) this.options.logger?.warn({ err: error }, 'prisma-tiered-cache: Redis call failed')
      return undefined
    }
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(ms)), ms)
  })
  promise.catch(() => {}) // a late failure after the timeout has nobody to tell
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
