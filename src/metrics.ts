/** Counters of one model. Plain numbers on a preallocated object: the hot path only increments. */
export interface ModelCounters {
  hitsL1: number
  hitsL2: number
  misses: number
  /** Reads that skipped the cache: policy, `cacheStrategy: false`, a transaction, bad input. */
  bypasses: number
  /** Writes that bumped this model's generation. */
  invalidations: number
  /** Expired entries served within their swr window while a refresh ran. */
  stale: number
  /** Reads answered by another read's query: same process (single flight) or another (lease). */
  coalesced: number
  /** Background refreshes that failed (the stale value stayed). */
  refreshErrors: number
  /** Batches dispatched (each one L2 round trip and at most one database query). */
  batches: number
}

export interface MetricsSnapshot {
  /** Invalidation-bus delivery delay, ms, over the last 1,024 messages (undefined: none yet). */
  busDelayMs: { p50: number; p99: number; count: number } | undefined
  /** Redis calls that failed or timed out (each answered from L1 or the database instead). */
  redisErrors: number
  hits: number
  misses: number
  hitRate: number
  models: Record<string, ModelCounters>
}

export class Metrics {
  private readonly models = new Map<string, ModelCounters>()
  redisErrors = 0
  /** Bus delivery delays, ms, most recent last (bounded). */
  private readonly busDelays: number[] = []

  busDelay(ms: number): void {
    if (this.busDelays.length >= 1024) this.busDelays.shift()
    this.busDelays.push(ms)
  }

  for(model: string): ModelCounters {
    let counters = this.models.get(model)
    if (counters === undefined) {
      counters = { hitsL1: 0, hitsL2: 0, misses: 0, bypasses: 0, invalidations: 0, stale: 0, coalesced: 0, refreshErrors: 0, batches: 0 }
      this.models.set(model, counters)
    }
    return counters
  }

  snapshot(): MetricsSnapshot {
    const models: Record<string, ModelCounters> = {}
    let hits = 0
    let misses = 0
    for (const [name, c] of this.models) {
      models[name] = { ...c }
      hits += c.hitsL1 + c.hitsL2
      misses += c.misses
    }
    return { busDelayMs: percentiles(this.busDelays), redisErrors: this.redisErrors, hits, misses, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses), models }
  }

  reset(): void {
    this.redisErrors = 0
    for (const c of this.models.values()) {
      c.hitsL1 = c.hitsL2 = c.misses = c.bypasses = c.invalidations = c.stale = c.coalesced = c.refreshErrors = c.batches = 0
    }
  }
}

function percentiles(values: readonly number[]): MetricsSnapshot['busDelayMs'] {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return { p50: at(0.5), p99: at(0.99), count: sorted.length }
}
