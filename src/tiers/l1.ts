import type { Copier } from '../codec/copier.js'
import type { Generation } from '../keys/names.js'
import type { ShapeStats } from '../metrics/state.js'

/** One cached read held in process memory. */
export interface L1Entry {
  value: unknown
  /** Copies `value` for each caller: specialised to its shape (copier.ts). */
  copy: Copier
  /** Encoded size in bytes, what the budget counts. */
  size: number
  /** Wall-clock ms after which the entry is no longer fresh. */
  freshUntil: number
  /** Until then an expired entry may still be served while it is refreshed (swr). */
  staleUntil: number
  /** Redis's counters for `deps` when it was read; kept only for `consistency: 'strict'`. */
  remote?: readonly string[]
  /** Counters of every model and tag the read depends on, and their values when it was queried. */
  deps: readonly Generation[]
  seen: readonly number[]
  /** The query shape it answers for (metrics: a hit counts toward the time it saved). */
  queryShape?: ShapeStats
  /** Epoch ms its value was stored (in L2, for one filled from there): `.withCacheInfo()`'s age. */
  storedAt?: number | undefined
  /** Set on every hit; eviction gives a used entry a second chance (CLOCK). */
  used?: boolean
}

/**
 * The in-process tier, bounded by bytes, evicting by CLOCK (second chance): a hit only sets a flag,
 * and the rare eviction pass moves used entries to the back of the Map's insertion order. This
 * keeps the ~1 µs hit path free of list maintenance; lru-cache's `get` measured ~0.25 µs here
 * (options object, staleness and recency bookkeeping), a tenth of the whole L1 hit.
 * Expiry and validity are checked by the caller (`isCurrent`, `freshUntil`) with the injectable clock.
 */
export class L1 {
  private readonly entries = new Map<string, L1Entry>()
  private bytes = 0
  /** While the bus is down, other processes' writes go unheard: entries stored now live at most this long. */
  ttlCapMs = Infinity

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntryBytes: number,
  ) {}

  get(key: string): L1Entry | undefined {
    const entry = this.entries.get(key)
    if (entry !== undefined) entry.used = true
    return entry
  }

  set(key: string, entry: L1Entry): void {
    this.delete(key)
    if (entry.size > this.maxEntryBytes) return
    this.entries.set(key, entry)
    this.bytes += entry.size
    if (this.bytes > this.maxBytes) this.evict(key)
  }

  delete(key: string): void {
    const old = this.entries.get(key)
    if (old === undefined) return
    this.entries.delete(key)
    this.bytes -= old.size
  }

  clear(): void {
    this.entries.clear()
    this.bytes = 0
  }

  get size(): number {
    return this.entries.size
  }

  get usedBytes(): number {
    return this.bytes
  }

  /** Oldest first; a used entry (or the one just added) loses its flag and goes to the back instead of out. */
  private evict(added: string): void {
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) return
      this.entries.delete(key)
      if (entry.used || key === added) {
        entry.used = false
        this.entries.set(key, entry)
      } else {
        this.bytes -= entry.size
      }
    }
  }
}

/** True while every dependency is still at the generation the entry was read at. */
export function isCurrent(entry: L1Entry): boolean {
  return unchanged(entry.deps, entry.seen)
}

/** True while every counter in `deps` still has the value in `seen` (an entry's, or a read's before it stores). */
export function unchanged(deps: readonly Generation[], seen: readonly number[]): boolean {
  for (let i = 0; i < deps.length; i++) if (deps[i]!.value !== seen[i]) return false
  return true
}
