/** Counters of one model. Plain numbers on a preallocated object: the hot path only increments. */
export interface ModelCounters {
  hitsL1: number
  hitsL2: number
  misses: number
  /** Reads that skipped the cache: policy, `cacheStrategy: false`, a transaction, bad input. */
  bypasses: number
  /** Writes that bumped this model's generation. */
  invalidations: number
}

export interface MetricsSnapshot {
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

  for(model: string): ModelCounters {
    let counters = this.models.get(model)
    if (counters === undefined) {
      counters = { hitsL1: 0, hitsL2: 0, misses: 0, bypasses: 0, invalidations: 0 }
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
    return { redisErrors: this.redisErrors, hits, misses, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses), models }
  }

  reset(): void {
    this.redisErrors = 0
    for (const c of this.models.values()) {
      c.hitsL1 = c.hitsL2 = c.misses = c.bypasses = c.invalidations = 0
    }
  }
}
