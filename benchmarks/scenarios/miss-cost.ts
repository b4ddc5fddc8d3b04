// Scenario: what a cache miss costs. A cold `post.findUnique` by id (every call a key its
// contender has never read: distinct ids of existing posts), through this library (L1+L2, L1+L2
// with model-wide invalidation, L2 only) and through uncached Prisma, one call at a time.
// The contenders are interleaved call by call, in an order rotated every id (id 1: A B C D, id 2:
// B C D A, …), so that a burst of load on the shared machine, or a row just brought into
// PostgreSQL's buffers by whoever read it first, lands on every contender alike. Each contender
// reads every id once; the caches' own counters must show only misses (else a call was not cold).
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import { tieredL1L2, tieredL1L2Model, tieredL2, uncached, type Contender, type ContenderFactory } from '../contenders/index.js'
import { difference } from '../correctness.js'
import { formatUs } from '../harness.js'
import { escape, markdownTable, type ScenarioResult } from '../report.js'
import type { MetricsSnapshot } from '../../src/index.js'
import { statsDetail, statsDiff } from '../cache-stats.js'
import type { CacheStats } from '../contenders/index.js'

const CONTENDERS: ContenderFactory[] = [uncached, tieredL1L2, tieredL1L2Model, tieredL2]
/** Untimed cold calls per contender first (JIT, connections, Redis scripts loaded). */
const WARMUP = 60
/** Timed cold calls per contender. */
const SAMPLES = 600
/** The target of this library's L1+L2 miss, as a multiple of uncached Prisma's p50. */
const TARGET = 1.25

type CacheHandle = { $cache?: { ready(): Promise<void>; resetMetrics(): void; metrics(): MetricsSnapshot } }

export interface MissCostResult {
  contender: string
  label: string
  samples: number
  /** µs per call */
  p50: number
  p95: number
  mean: number
  /** this library: its own counters over the timed calls (misses only, if every call was cold) */
  stats?: CacheStats
  /** this library: the database time of its misses as it measures it, p50 ms */
  dbP50Ms?: number
  wrongAnswers: number
  firstWrong?: string
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

export async function missCost(ctx: BenchContext): Promise<ScenarioResult & { results: MissCostResult[] }> {
  const ids = (await ctx.base.post.findMany({ select: { id: true }, orderBy: { id: 'asc' }, take: WARMUP + SAMPLES })).map((p) => p.id)
  if (ids.length < WARMUP + SAMPLES) throw new Error(`miss-cost: ${WARMUP + SAMPLES} posts needed, ${ids.length} found`)
  const contenders: Contender[] = []
  const timings: number[][] = CONTENDERS.map(() => [])
  const wrong = CONTENDERS.map(() => ({ n: 0, first: undefined as string | undefined }))
  const stats: (CacheStats | undefined)[] = []
  const dbP50: (number | undefined)[] = []
  try {
    for (const factory of CONTENDERS) {
      const contender = ctx.create(factory)
      contenders.push(contender)
      await (contender.client as unknown as CacheHandle).$cache?.ready()
    }
    const call = (c: Contender, id: number) => c.client.post.findUnique({ where: { id } })
    const expected = new Map<number, unknown>()
    for (let i = 0; i < ids.length; i++) {
      if (i === WARMUP) {
        for (const c of contenders) (c.client as unknown as CacheHandle).$cache?.resetMetrics()
        stats.push(...contenders.map((c) => c.cacheStats?.()))
      }
      const id = ids[i]!
      for (let j = 0; j < contenders.length; j++) {
        const k = (i + j) % contenders.length
        const c = contenders[k]!
        const start = process.hrtime.bigint()
        const answer = await call(c, id)
        const us = Number(process.hrtime.bigint() - start) / 1000
        if (i >= WARMUP) timings[k]!.push(us)
        if (!expected.has(id)) expected.set(id, await (ctx.base as PrismaClient).post.findUnique({ where: { id } }))
        const diff = difference(answer, expected.get(id))
        if (diff !== undefined) {
          wrong[k]!.n++
          wrong[k]!.first ??= `post ${id}: ${diff}`
        }
      }
    }
    contenders.forEach((c, k) => {
      const after = c.cacheStats?.()
      const before = stats[k]
      stats[k] = before && after && statsDiff(after, before)
      dbP50[k] = (c.client as unknown as CacheHandle).$cache?.metrics().latency.db?.p50
    })
  } finally {
    for (const c of contenders) await ctx.dispose(c)
  }
  const results = CONTENDERS.map((factory, k): MissCostResult => {
    const sorted = [...timings[k]!].sort((a, b) => a - b)
    const s = stats[k]
    const db = dbP50[k]
    return {
      contender: factory.id,
      label: factory.label,
      samples: sorted.length,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
      ...(s === undefined ? {} : { stats: s }),
      ...(db === undefined ? {} : { dbP50Ms: db }),
      wrongAnswers: wrong[k]!.n,
      ...(wrong[k]!.first === undefined ? {} : { firstWrong: wrong[k]!.first }),
    }
  })
  const base = results.find((r) => r.contender === 'uncached')!
  const l1l2 = results.find((r) => r.contender === 'tiered-l1l2')
  const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}×`
  const table = markdownTable(
    ['contender', 'cold findUnique p50', 'p95', 'mean', 'p50 vs uncached', 'p95 vs uncached', 'p50 overhead', 'DB time inside (library p50)', 'cache counters (timed calls)', 'answers vs uncached'],
    results.map((r) => [
      r.label,
      formatUs(r.p50),
      formatUs(r.p95),
      formatUs(r.mean),
      r === base ? '1×' : ratio(r.p50, base.p50),
      r === base ? '1×' : ratio(r.p95, base.p95),
      r === base ? '–' : `+${formatUs(r.p50 - base.p50)}`,
      r.dbP50Ms === undefined ? '–' : formatUs(r.dbP50Ms * 1000),
      r.stats === undefined ? 'n/a' : statsDetail(r.stats),
      r.wrongAnswers === 0 ? 'equal' : `**WRONG** in ${r.wrongAnswers}: ${escape(r.firstWrong ?? '')}`,
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
  )
  const notCold = results.filter((r) => r.stats !== undefined && (r.stats.hits > 0 || (r.stats.coalesced ?? 0) > 0 || r.stats.misses !== r.samples))
  const after = [
    table,
    '',
    l1l2
      ? `Target for L1+L2: a cold read at most ${TARGET}× an uncached read (p50): **${ratio(l1l2.p50, base.p50)}**, ${l1l2.p50 <= TARGET * base.p50 ? 'met' : '**not met**'}.`
      : '',
    notCold.length === 0
      ? 'Every timed call of every cache was a miss (its own counters: no hit, no coalesced read).'
      : `**Not every call was cold**: ${notCold.map((r) => `${r.label}: ${statsDetail(r.stats)} for ${r.samples} calls`).join('; ')}.`,
  ]
  return {
    id: 'miss-cost',
    title: 'Cost of a miss: cold findUnique by id',
    description:
      `\`post.findUnique({ where: { id } })\`, each call an id its contender never read (${SAMPLES} distinct existing posts, after ${WARMUP} untimed ones), one call at a time, ` +
      'contenders interleaved call by call in a rotating order; per-call wall time (hrtime). "DB time inside": the database query of a miss as the library times it (its metrics, 1.6% buckets).',
    rows: [],
    after,
    data: results,
    results,
  }
}
