import type { ShapeStats } from './state.js'

/**
 * Below this many reads per invalidation an entry is on average invalidated before its second
 * read: caching costs a store and a lookup per read and saves less than one query per entry.
 */
export const DO_NOT_CACHE_BELOW = 2

/** What a query shape's reads and invalidations in a window say about its ttl. */
export interface TtlAdvice {
  /** Reads that reached the cache: hits, and database answers (misses, batch fills, swr refreshes). */
  reads: number
  /** Entries of the shape that reads found invalidated by a write (counted once per read). */
  invalidations: number
  /** reads / invalidations; undefined when no entry was found invalidated. */
  readsPerInvalidation: number | undefined
  /** Mean age of the entries found invalidated, ms: how long an entry stayed valid. */
  validMs: number | undefined
  /** `'do not cache'`: fewer than DO_NOT_CACHE_BELOW reads per invalidation. */
  advice: 'cache' | 'do not cache'
  /**
   * `'cache'`: `validMs`, as an entry rarely outlives it (an entry's ttl cut short measures no
   * longer than its ttl); undefined without invalidations (writes do not limit it, the staleness
   * you accept from writes the cache cannot see does). `'do not cache'`: 0.
   */
  suggestedTtlMs: number | undefined
}

export function ttlAdvice(shape: ShapeStats): TtlAdvice {
  const reads = shape.hits + shape.queries + shape.filled
  const invalidations = shape.invalidated
  if (invalidations === 0) return { reads, invalidations, readsPerInvalidation: undefined, validMs: undefined, advice: 'cache', suggestedTtlMs: undefined }
  const readsPerInvalidation = reads / invalidations
  const validMs = shape.invalidatedAgeMs / invalidations
  const cache = readsPerInvalidation >= DO_NOT_CACHE_BELOW
  return { reads, invalidations, readsPerInvalidation, validMs, advice: cache ? 'cache' : 'do not cache', suggestedTtlMs: cache ? validMs : 0 }
}
