import type { Cluster, Redis } from 'ioredis'
import { safeError } from '../errors.js'
import type { CacheLogger } from '../config/options.js'
import type { CounterName } from '../keys/names.js'
import type { L2, PendingInvalidations } from '../tiers/l2.js'
import { withTimeout } from '../tiers/redis-guard.js'
import { scanAndUnlink } from '../tiers/scan.js'

export interface OutboxOptions {
  redis: Redis | Cluster
  logger: CacheLogger | undefined
  onError: (error: unknown) => void
  /** Announces bumped counters to other processes (the bus), after they are bumped in Redis. */
  publish?: (names: CounterName[]) => Promise<unknown>
}

/**
 * The journal of invalidations on their way to Redis. A counter whose bump did not reach Redis is
 * remembered (until it does, Redis's entries may be stale for this process's writes), and L2 is
 * not read until it has been applied (L2 asks `idle()`). Tag-pattern drops likewise.
 */
export class Outbox implements PendingInvalidations {
  /** Each pending bump with a version: a flush forgets only what it applied, not a bump added again while it ran. */
  private readonly unbumped = new Map<CounterName, number>()
  private bumpVersion = 0
  /** Tag patterns whose drop failed: applied before L2 is read again. */
  private readonly undropped = new Set<string>()
  private retryTimer: NodeJS.Timeout | undefined
  private flushing: Promise<boolean> | undefined

  constructor(
    private readonly l2: L2,
    private readonly options: OutboxOptions,
  ) {}

  /** Bumps counters in Redis, then announces them on the bus. */
  async bump(names: Iterable<CounterName>): Promise<void> {
    for (const name of names) this.unbumped.set(name, ++this.bumpVersion)
    if (!this.l2.guard.allow()) {
      this.retryLater()
      return
    }
    await this.flush()
  }

  /** Deletes the tag counters matching a glob, in the background: SCAN + UNLINK on every master. */
  dropTagPattern(pattern: string): void {
    void this.scan(pattern).then((done) => {
      if (done) return
      // not applied: L2 is not trusted until it is (flush retries it)
      this.undropped.add(pattern)
      this.retryLater()
    })
  }

  /** Counter bumps and tag-pattern drops not applied in Redis yet. */
  get pending(): number {
    return this.unbumped.size + this.undropped.size
  }

  idle(): boolean {
    return this.unbumped.size === 0 && this.undropped.size === 0
  }

  /**
   * Applies remembered bumps and pattern drops. One flush at a time: concurrent callers (every
   * L2 call of a busy process while a write's bump is on its way) wait for the one in flight and
   * then flush only what it did not cover, instead of bumping the same counters again each.
   */
  flush(): Promise<boolean> {
    if (this.flushing !== undefined) {
      return this.flushing.then((ok) => ok && (this.idle() || this.flush()))
    }
    this.flushing = this.flushNow().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private async scan(pattern: string): Promise<boolean> {
    try {
      // bounded like every call: a read may be waiting for this retry
      await withTimeout(scanAndUnlink(this.options.redis, this.l2.keys.tagCounterPattern(pattern)), this.l2.guard.timeoutMs)
      return true
    } catch (error) {
      this.options.onError(error)
      this.options.logger?.warn({ err: safeError(error), pattern }, 'prisma-tiered-cache: tag pattern invalidation failed, will retry')
      return false
    }
  }

  /**
   * While invalidations wait for Redis, retry them on a timer too: other processes read L2, and
   * they must stop serving what this one invalidated even if this one stays idle.
   */
  private retryLater(): void {
    if (this.retryTimer !== undefined) return
    this.retryTimer = setInterval(() => {
      if (this.idle()) {
        clearInterval(this.retryTimer)
        this.retryTimer = undefined
        return
      }
      if (this.l2.guard.allow()) void this.flush()
    }, this.l2.guard.cooldownMs)
    this.retryTimer.unref()
  }

  private async flushNow(): Promise<boolean> {
    for (const pattern of [...this.undropped]) {
      if (!(await this.scan(pattern))) return false
      this.undropped.delete(pattern)
    }
    const snapshot = [...this.unbumped]
    const pending = snapshot.map(([name]) => name)
    if (pending.length === 0) return true
    const done = await this.l2.guard.run(undefined, async () => {
      await this.l2.bump(pending)
      return true
    })
    // after the counters, so that a process that hears of a bump finds it in Redis already; and
    // whether or not Redis took it: other processes' L1 must drop what this write changed even
    // when Redis refuses writes (their L2 reads then miss at worst, see L2.bump)
    if (this.options.publish !== undefined) await this.l2.guard.run(undefined, () => this.options.publish!(pending))
    if (done === undefined) {
      this.retryLater()
      return false
    }
    for (const [name, version] of snapshot) if (this.unbumped.get(name) === version) this.unbumped.delete(name)
    return true
  }
}
