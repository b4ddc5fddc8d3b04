// Hit rates from the contenders' own counters (`Contender.cacheStats()`, cumulative): windows are
// differences of two snapshots, several processes' or rounds' windows are summed.
import type { CacheStats } from './contenders/index.js'

const OPTIONAL = ['hitsL1', 'hitsL2', 'bypasses', 'coalesced'] as const

/** Counters of `to` minus those of `from` (optional counters kept only where both have them). */
export function statsDiff(to: CacheStats, from: CacheStats): CacheStats {
  const out: CacheStats = { hits: to.hits - from.hits, misses: to.misses - from.misses }
  for (const k of OPTIONAL) if (to[k] !== undefined && from[k] !== undefined) out[k] = to[k]! - from[k]!
  return out
}

/** Sums of counters (optional counters kept only where every one has them); undefined for none. */
export function statsSum(all: readonly (CacheStats | undefined)[]): CacheStats | undefined {
  if (all.length === 0 || all.some((s) => s === undefined)) return undefined
  const list = all as CacheStats[]
  const out: CacheStats = { hits: list.reduce((n, s) => n + s.hits, 0), misses: list.reduce((n, s) => n + s.misses, 0) }
  for (const k of OPTIONAL) if (list.every((s) => s[k] !== undefined)) out[k] = list.reduce((n, s) => n + s[k]!, 0)
  return out
}

/** hits / (hits + misses); NaN without lookups. */
export function hitRate(s: CacheStats): number {
  return s.hits + s.misses > 0 ? s.hits / (s.hits + s.misses) : Number.NaN
}

/** `83.1%` or `n/a` (no counters). */
export function hitRateCell(s: CacheStats | undefined): string {
  if (s === undefined) return 'n/a'
  const r = hitRate(s)
  return Number.isNaN(r) ? 'n/a' : `${(r * 100).toFixed(1)}%`
}

/** `L1 1200, L2 30, misses 400, bypasses 0, coalesced 5`, as far as the contender tells. */
export function statsDetail(s: CacheStats | undefined): string {
  if (s === undefined) return 'n/a'
  const parts = [
    ...(s.hitsL1 !== undefined && s.hitsL2 !== undefined ? [`L1 ${s.hitsL1}`, `L2 ${s.hitsL2}`] : [`hits ${s.hits}`]),
    `misses ${s.misses}`,
    ...(s.bypasses !== undefined ? [`bypasses ${s.bypasses}`] : []),
    ...(s.coalesced !== undefined ? [`coalesced ${s.coalesced}`] : []),
  ]
  return parts.join(', ')
}
