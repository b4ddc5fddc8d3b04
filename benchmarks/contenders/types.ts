import type { Redis } from 'ioredis'
import type { PrismaClient } from '../../generated/prisma/client.js'

/** What a contender is built from. */
export interface ContenderContext {
  /** The Prisma client the contender wraps (plain, query-counting, or with a stubbed database). */
  base: PrismaClient
  /** A Redis key prefix of this contender instance alone; every key it writes starts with it. */
  prefix: string
  redisUrl: string
}

/**
 * A contender's own read counters, cumulative since it was created (a scenario diffs two
 * snapshots to get a window). `hits / (hits + misses)` is the hit rate; reads the contender
 * answered otherwise (skipped the cache, joined another read's query) are counted apart where it
 * tells them.
 */
export interface CacheStats {
  hits: number
  misses: number
  /** this library: L1 and L2 hits */
  hitsL1?: number
  hitsL2?: number
  /** reads that skipped the cache (this library's `bypasses`) */
  bypasses?: number
  /** reads answered by another read's query */
  coalesced?: number
}

/** One way of answering Prisma reads: a cache library wired as its users wire it, or no cache. */
export interface Contender {
  id: string
  label: string
  /**
   * The client to call. Every contender keeps Prisma's call signatures, so benchmarks call them
   * all through the plain client's type; the runtime object is the contender's own.
   */
  client: PrismaClient
  /** Set when the contender stores entries in Redis, all under this prefix. */
  redisPrefix?: string
  /** Which of its Redis keys hold cached values (as opposed to counters or locks). */
  isEntryKey?(key: string): boolean
  /** The contender's own error counters, where it keeps any (Redis calls failed or timed out). */
  errors?(): number
  /** Its read counters, where it exposes a way to count hits and misses (absent: "n/a"). */
  cacheStats?(): CacheStats
  /** Forgets every cached answer, so that the next reads are cold. */
  reset(): Promise<void>
  /** Releases connections and timers (not the base client). */
  close(): Promise<void>
}

export interface ContenderFactory {
  id: string
  label: string
  /** true for caches, false for uncached baselines */
  caches: boolean
  /** true when it needs Redis */
  redis: boolean
  /** One line for the report: what this contender is and how it is wired. */
  description: string
  create(ctx: ContenderContext): Contender
}
