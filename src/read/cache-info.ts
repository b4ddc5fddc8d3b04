import type { Tier } from '../config/event-types.js'
import type { BypassReason } from '../metrics/metrics.js'

/**
 * How one read was answered: what `.withCacheInfo()` gives beside the data. Accelerate's
 * `withAccelerateInfo()` says `'ttl' | 'swr' | 'miss' | 'none'`; here a hit names its tier.
 * - `'l1'`, `'l2'`: a fresh entry of that tier answered, no query ran;
 * - `'swr'`: an expired entry within its swr window answered (`tier` says which), refreshed in the background;
 * - `'miss'`: the database answered (this call's query, or one it shared with identical reads);
 * - `'bypass'`: the cache was not used; `reason` says why.
 */
export type CacheStatus = 'l1' | 'l2' | 'swr' | 'miss' | 'bypass'

export interface CacheInfo {
  cacheStatus: CacheStatus
  /** The tier a cached answer (`'l1'`, `'l2'`, `'swr'`) came from. */
  tier: Tier | undefined
  /** Why a `'bypass'` skipped the cache (`'redisDown'`: Redis failed or its breaker is open; L1 may still be filled). */
  reason: BypassReason | undefined
  /** Milliseconds since the answering entry was stored (by the cache's clock); 0 for a miss or a bypass. */
  ageMs: number
  /** When the answer was read from the database, as Accelerate's `lastModified`. */
  lastModified: Date
  /**
   * The entry's Redis key (hashed: it holds no argument value), or a short hash of its L1 key
   * without Redis; `undefined` for a bypass.
   */
  key: string | undefined
}

/** What a call that asked for its info starts with: a miss, until a step of the read path says otherwise. */
export function newInfo(now: number): CacheInfo {
  return { cacheStatus: 'miss', tier: undefined, reason: undefined, ageMs: 0, lastModified: new Date(now), key: undefined }
}

/** The cache was not used (or, for `redisDown`, only L1 was). */
export function noteBypass(info: CacheInfo, reason: BypassReason): void {
  info.cacheStatus = 'bypass'
  info.reason = reason
}
