import { LRUCache } from 'lru-cache'
import type { Generation } from './generations.js'

/** One cached read held in process memory. */
export interface L1Entry {
  value: unknown
  /** Encoded size in bytes, what the budget counts. */
  size: number
  /** Wall-clock ms after which the entry is no longer fresh. */
  freshUntil: number
  /** Counters of every model and tag the read depends on, and their values when it was queried. */
  deps: readonly Generation[]
  seen: readonly number[]
}

/**
 * The in-process tier: an LRU bounded by bytes. Expiry and validity are checked by the caller
 * (`isValid`), not by lru-cache's own TTL, so that the clock is injectable and one check covers
 * both.
 */
export class L1 {
  private readonly lru: LRUCache<string, L1Entry>

  constructor(maxBytes: number, private readonly maxEntryBytes: number) {
    this.lru = new LRUCache<string, L1Entry>({ maxSize: maxBytes, sizeCalculation: (e) => e.size })
  }

  get(key: string): L1Entry | undefined {
    return this.lru.get(key)
  }

  set(key: string, entry: L1Entry): void {
    if (entry.size > this.maxEntryBytes) return
    this.lru.set(key, entry)
  }

  delete(key: string): void {
    this.lru.delete(key)
  }

  clear(): void {
    this.lru.clear()
  }

  get size(): number {
    return this.lru.size
  }

  get bytes(): number {
    return this.lru.calculatedSize
  }
}

/** True while every dependency is still at the generation the entry was read at. */
export function isCurrent(entry: L1Entry): boolean {
  const { deps, seen } = entry
  for (let i = 0; i < deps.length; i++) if (deps[i]!.value !== seen[i]) return false
  return true
}
