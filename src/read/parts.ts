import type { ResolvedOptions } from '../config/resolve.js'
import type { OpenTransactions } from '../invalidation/open-transactions.js'
import type { RecentBumps } from '../invalidation/recent-bumps.js'
import type { Events } from '../metrics/events.js'
import type { Metrics } from '../metrics/metrics.js'
import type { L1 } from '../tiers/l1.js'
import type { L2 } from '../tiers/l2.js'
import type { ReadRequest } from './request.js'
import type { ShapeStats } from '../metrics/state.js'
import type { Tier } from '../config/event-types.js'

/** What every step of the read path shares, wired once by the composition root (cache/tiered-cache.ts). */
export interface ReadParts {
  readonly options: ResolvedOptions
  readonly metrics: Metrics
  readonly events: Events
  readonly l1: L1 | undefined
  readonly l2: L2 | undefined
  /** `l1.consistency: 'strict'`: no L1 answer before Redis's counters confirm it. */
  readonly strict: boolean
  /**
   * This process's counters hear of every write: without Redis (one process), or through the bus
   * (within its documented delay). With L2 only, or strict L1, another process's write moves only
   * Redis's counters.
   */
  readonly localCountersAuthoritative: boolean
  /** With `replicaLagMs`: which counters were bumped lately, so that no lagging replica's answer is stored. */
  readonly recentBumps: RecentBumps | undefined
  /** On a one-connection database (SQLite): open transactions, so that no answer they may have shaped is stored. */
  readonly openTransactions: OpenTransactions | undefined
}

export function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Counts a cached answer of a read that has a request object (L2, strict L1) as a hit or a stale
 * serve. The plain L1 hit counts the same inline: it builds no request (read-path.ts).
 */
export function countAnswer(parts: ReadParts, read: ReadRequest, tier: Tier, fresh: boolean, queryShape: ShapeStats | undefined): void {
  if (fresh) {
    if (tier === 'l1') read.stats.hitsL1++
    else read.stats.hitsL2++
    if (queryShape !== undefined) queryShape.hits++
    parts.events.hit(read.model, read.operation, tier, read.args)
  } else {
    read.stats.stale++
    parts.events.stale(read.model, read.operation, tier, read.args)
  }
}
