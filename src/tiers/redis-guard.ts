import type { CacheLogger } from '../config/options.js'
import { RedisTimeoutError, safeError } from '../errors.js'
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
  /** Times every call for metrics (Redis p95 and error rate): `start()` before it, `settled()` after, failed or not. */
  timing?: { start(): number; settled(started: number): void }
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
    const started = this.options.timing?.start() ?? 0
    try {
      const result = await withTimeout(call(), this.options.timeoutMs)
      this.options.timing?.settled(started)
      this.breaker.success()
      return result
    } catch (error) {
      this.options.timing?.settled(started)
      this.breaker.failure()
      if (errors !== undefined) errors.redisErrors++
      this.options.onError(error)
      if (!this.breaker.isOpen) this.options.logger?.warn({ err: safeError(error) }, 'prisma-tiered-cache: Redis call failed')
      return undefined
    }
  }
}

/**
 * Rejects when Redis has had `ms` to answer, measured against Redis rather than this process:
 * a reply already waiting in the socket is read in the poll phase that follows the timer phase,
 * so an expired timer first yields once (`setImmediate`), and a window the event loop was busy
 * through (the timer fired late by more than half of it) is granted again, twice at most, so a
 * stalled Redis behind a busy loop still times out (test/tiers/timeouts.test.ts).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  let settled = false
  const timeout = new Promise<never>((_, reject) => {
    let regrants = 2
    const arm = () => {
      const due = performance.now() + ms
      timer = setTimeout(() => {
        const late = performance.now() - due
        setImmediate(() => {
          if (settled) return
          if (late > ms / 2 && regrants-- > 0) arm()
          else reject(new RedisTimeoutError(ms))
        })
      }, ms)
    }
    arm()
  })
  promise.catch(() => {}) // a late failure after the timeout has nobody to tell
  return Promise.race([promise, timeout]).finally(() => {
    settled = true
    clearTimeout(timer)
  })
}
