/**
 * A circuit breaker for Redis: after `threshold` consecutive failures it opens, and calls are
 * refused (the cache answers from L1 and the database) instead of each paying a timeout. Once
 * `cooldownMs` has passed, one call is let through as a probe; its success closes the breaker.
 */
export class Breaker {
  private failures = 0
  private retryAt = 0

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number,
    private readonly onChange: (state: 'open' | 'closed') => void,
  ) {}

  get isOpen(): boolean {
    return this.failures >= this.threshold
  }

  /** Whether to try Redis now. While open, lets one probe through per cooldown. */
  allow(): boolean {
    if (!this.isOpen) return true
    if (this.now() < this.retryAt) return false
    this.retryAt = this.now() + this.cooldownMs
    return true
  }

  success(): void {
    if (this.isOpen) this.onChange('closed')
    this.failures = 0
  }

  failure(): void {
    this.failures++
    if (this.failures === this.threshold) {
      this.retryAt = this.now() + this.cooldownMs
      this.onChange('open')
    }
  }
}
