// Scenario: a mixed 95/5 read/write workload over 2 OS processes. For each contender, two child
// processes (mixed-worker.ts) each build their own client of that contender on the same database
// and the same Redis prefix, and run a seeded mix in 8 concurrent lanes each: 50% post.findUnique
// by id, 25% post.findMany by authorId, 20% comment.count by postId, 3% post.update (title
// `p<id> v<N>`, published flipped), 2% comment.create, over one hot set (every post of 10 authors:
// 100 posts, keys picked with a skew), so that each process reads what the other writes.
//
// The machine is shared and its load moves, so contenders take turns as the timing tables do:
// all processes (2 per contender) are started first, then every contender runs ROUNDS segments in alternation
// (A B C …, A B C …). Each contender has hot authors of its own (contender k: authors
// 10k+1..10k+10), so that no contender's writes change what another has cached.
//
// Besides throughput and DB queries, each contender's hit rate over the measured windows comes
// from its own counters (`Contender.cacheStats()`: this library's `$cache.metrics()`, the other
// caches' hit/miss hooks), snapshotted by each worker at the start and end of its window.
//
// The staleness oracle is checked after the run, from complete logs, against what each write
// was acknowledged to have committed:
// - Times are ns on CLOCK_MONOTONIC (`process.hrtime`), one clock for every process of the
//   machine; the parent checks it for every child (a child's reading must fall between the
//   parent's readings before and after asking). A read's start is taken before the call, a
//   write's ack after its promise resolved.
// - Each hot post is updated by one process only (id % 2), one write at a time, with versions
//   1, 2, 3… in issue order: its versions commit in order, and the database's version of a post
//   never decreases. A read that started after version N's ack must see N or later; if it
//   returns an older version it is stale. Only acks strictly before the read's start count, so
//   no delay of any message can make a fresh read look stale (the uncached baseline checks it).
// - Comments are only ever added: comment.count of a post must be at least its count before the
//   scenario plus the creates acknowledged before the read started.
// - The other side is checked too: no read may return a version, or a count, that no write
//   issued before the read ended could have produced ("impossible": an oracle or clock error).
import type { BenchContext } from '../context.js'
import {
  COUNT,
  CREATE_COMMENT,
  FIND_MANY,
  FIND_UNIQUE,
  KIND_NAMES,
  MixedWorker,
  mixedFactories,
  OBS_VERSION,
  UPDATE,
  type MixedLog,
} from '../mixed-worker.js'
import { hitRate, hitRateCell, statsDetail, statsSum } from '../cache-stats.js'
import type { CacheStats } from '../contenders/index.js'
import { scanUnlink } from '../redis-keys.js'
import { markdownTable, type ScenarioResult } from '../report.js'
import { databaseUrl } from '../setup.js'
import { progress } from './hot-read.js'

const PROCESSES = 2
const LANES = 8
const ROUNDS = 3
const SEGMENT_MS = 2_500
/** The start of every segment is not timed (connections, JIT, the first round's cold cache); it is checked for staleness. */
const WARMUP_MS = 500
const HOT_AUTHORS = 10
/** Cumulative: findUnique 50%, findMany 25%, count 20%, update 3%, comment.create 2%. */
const MIX: [number, number, number, number] = [0.5, 0.75, 0.95, 0.98]
/** Keys picked as list[floor(u^2 × length)]: the first 10% of keys get ~32% of the picks. */
const SKEW = 2
const SEED = 20_261_122

/** Contender k's hot set: authors 10k+1..10k+10 and every post they have. */
async function hotSet(ctx: BenchContext, k: number): Promise<{ authors: number[]; posts: number[]; postsPerAuthor: Record<number, number> }> {
  const authors = Array.from({ length: HOT_AUTHORS }, (_, i) => k * HOT_AUTHORS + i + 1)
  // ordered by id: neighbouring ranks alternate between the two writers (id % 2)
  const rows = await ctx.base.post.findMany({ where: { authorId: { in: authors } }, select: { id: true, authorId: true }, orderBy: { id: 'asc' } })
  const postsPerAuthor: Record<number, number> = Object.fromEntries(authors.map((a) => [a, 0]))
  for (const row of rows) postsPerAuthor[row.authorId!]!++
  return { authors, posts: rows.map((r) => r.id), postsPerAuthor }
}

export interface MixedResult {
  contender: string
  label: string
  /** operations per second of both processes together, in the measured window */
  opsPerSecond: number
  readsPerSecond: number
  writesPerSecond: number
  /** SQL statements of both processes in the measured window, per 1,000 operations */
  queriesPer1kOps: number
  windowQueries: number
  /** latency of the operations of the window, ms: median and 99th percentile, reads and writes */
  latencyMs: { read: { p50: number; p99: number }; write: { p50: number; p99: number } }
  /** every successful read of the run (warm-up included) is checked */
  readsChecked: number
  staleReads: number
  staleByKind: Record<string, number>
  /** per stale read: how long before its start the oldest write it missed was acknowledged, ms */
  staleLagMs?: { p50: number; p99: number; max: number }
  /** reads returning what no write issued before they ended could produce: must be 0 */
  impossible: number
  anomalies: string[]
  errors: Record<string, number>
  firstError?: string
  /** checks of the shared clock: the largest child-reading window, µs */
  clockCheckUs: number
  cacheMetrics?: (MixedLog['cacheMetrics'] | undefined)[]
  /**
   * The contender's own read counters over the measured windows (both processes, every round):
   * for this library `$cache.metrics()` (hits, misses, bypasses), for the others their hit/miss
   * hooks; absent (n/a) for uncached Prisma.
   */
  stats?: CacheStats
  /** stats.hits / (stats.hits + stats.misses); NaN when n/a */
  hitRate: number
  /** this library with a bus: messages each process received from the other, per write acknowledged (2 expected: one bump before the write, one after) */
  busMessagesPerWrite?: number
  example?: string
}

/** Per post: its acknowledged updates (in version order) and comment creates. */
interface PostAcks {
  versions: number[]
  versionIssue: number[]
  versionAck: number[]
  commentAck: number[]
  commentIssue: number[]
}

/** Index of the first element > x in a sorted array (= how many are <= x). */
function upperBound(sorted: readonly number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Index of the first element >= x (= how many are < x). */
function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

export interface OracleVerdict {
  readsChecked: number
  stale: number
  staleByKind: Record<string, number>
  lagsNs: number[]
  impossible: number
  example?: string
}

/** Checks every read of every log against the acknowledged writes of all logs (see the top of the file). */
export function oracle(logs: MixedLog[], baseComments: ReadonlyMap<number, number>, labels: readonly string[] = logs.map((_, n) => `log ${n}`)): OracleVerdict {
  const acks = new Map<number, PostAcks>()
  const of = (post: number) => {
    let a = acks.get(post)
    if (a === undefined) acks.set(post, (a = { versions: [], versionIssue: [], versionAck: [], commentAck: [], commentIssue: [] }))
    return a
  }
  for (const log of logs) {
    for (let k = 0; k < log.wKind.length; k++) {
      const a = of(log.wPost[k]!)
      if (log.wKind[k] === UPDATE) {
        a.versions.push(log.wVersion[k]!)
        a.versionIssue.push(log.wIssue[k]!)
        a.versionAck.push(log.wAck[k]!)
      } else {
        a.commentAck.push(log.wAck[k]!)
        a.commentIssue.push(log.wIssue[k]!)
      }
    }
  }
  for (const [post, a] of acks) {
    // a post's updates come from one process, one at a time: in version order, acks increase
    const order = a.versions.map((_, k) => k).sort((x, y) => a.versions[x]! - a.versions[y]!)
    a.versions = order.map((k) => a.versions[k]!)
    a.versionIssue = order.map((k) => a.versionIssue[k]!)
    a.versionAck = order.map((k) => a.versionAck[k]!)
    for (let k = 1; k < a.versions.length; k++) {
      if (!(a.versionIssue[k]! >= a.versionAck[k - 1]!)) throw new Error(`mixed oracle: post ${post} v${a.versions[k]} issued before v${a.versions[k - 1]} was acknowledged`)
    }
    a.commentAck.sort((x, y) => x - y)
    a.commentIssue.sort((x, y) => x - y)
  }
  const empty: PostAcks = { versions: [], versionIssue: [], versionAck: [], commentAck: [], commentIssue: [] }
  const verdict: OracleVerdict = { readsChecked: 0, stale: 0, staleByKind: {}, lagsNs: [], impossible: 0 }
  logs.forEach((log, n) => {
    let current = -1
    let stale = false
    let lag = 0
    let bad = false
    const close = () => {
      if (current >= 0) {
        verdict.readsChecked++
        if (stale) {
          verdict.stale++
          const kind = KIND_NAMES[log.opKind[current]!]
          verdict.staleByKind[kind] = (verdict.staleByKind[kind] ?? 0) + 1
          verdict.lagsNs.push(lag)
        }
        if (bad) verdict.impossible++
      }
      stale = false
      lag = 0
      bad = false
    }
    for (let k = 0; k < log.obsOp.length; k++) {
      const op = log.obsOp[k]!
      if (op !== current) {
        close()
        current = op
      }
      const start = log.opStart[op]!
      const end = log.opEnd[op]!
      const a = acks.get(log.obsPost[k]!) ?? empty
      const value = log.obsValue[k]!
      if (log.obsKind[k] === OBS_VERSION) {
        const known = lowerBound(a.versionAck, start) // versions acknowledged strictly before the read started
        const required = known === 0 ? 0 : a.versions[known - 1]!
        if (value < required) {
          // the oldest acknowledged write this read missed: the first version after the one returned
          const missed = upperBound(a.versions, value)
          stale = true
          lag = Math.max(lag, start - a.versionAck[missed]!)
          verdict.example ??= `${labels[n]}, ${KIND_NAMES[log.opKind[op]!]} of post ${log.obsPost[k]} returned v${value}, v${required} had been acknowledged ${((start - a.versionAck[known - 1]!) / 1e6).toFixed(2)} ms before the read started`
        }
        if (value > 0) {
          const at = lowerBound(a.versions, value)
          if (a.versions[at] !== value || a.versionIssue[at]! > end) bad = true
        }
      } else {
        const base = baseComments.get(log.obsPost[k]!) ?? 0
        const required = base + lowerBound(a.commentAck, start)
        if (value < required) {
          stale = true
          lag = Math.max(lag, start - a.commentAck[Math.max(0, value - base)]!)
          verdict.example ??= `${labels[n]}, comment.count of post ${log.obsPost[k]} returned ${value}, ${required} were acknowledged before the read started`
        }
        if (value > base + upperBound(a.commentIssue, end)) bad = true
      }
    }
    close()
  })
  return verdict
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * q))] ?? Number.NaN
}

/** Parent time in ns since `origin`, on the same clock as the children's. */
const since = (origin: bigint) => Number(process.hrtime.bigint() - origin)

/** A child's clock reading must fall between the parent's before and after asking: one clock. */
async function checkClock(worker: MixedWorker, origin: bigint): Promise<number> {
  let widest = 0
  for (let k = 0; k < 3; k++) {
    const before = process.hrtime.bigint()
    const theirs = await worker.clock()
    const after = process.hrtime.bigint()
    if (theirs < before || theirs > after) {
      throw new Error(`mixed: ${worker.name}'s monotonic clock is not the parent's (${theirs - origin} outside ${before - origin}..${after - origin} ns)`)
    }
    widest = Math.max(widest, Number(after - before) / 1000)
  }
  return widest
}

/** One contender's two processes and what they logged. */
interface Pair {
  factory: (typeof mixedFactories)[number]
  prefix: string
  workers: MixedWorker[]
  logs: MixedLog[]
  /** labels of the logs, for examples */
  labels: string[]
  /** start of each of its segments, ns since origin */
  segments: number[]
  clockCheckUs: number
}

export async function mixed(ctx: BenchContext): Promise<ScenarioResult & { results: MixedResult[] }> {
  // BENCH_MIXED=uncached,tiered-l1l2 runs only those contenders (for development)
  const picked = process.env.BENCH_MIXED?.split(',').map((id) => id.trim()).filter(Boolean)
  const factories = mixedFactories.filter((f) => !picked?.length || picked.includes(f.id))
  if (factories.length * HOT_AUTHORS > 100) throw new Error('mixed: not enough authors for a hot set per contender')
  // every hot post starts at version 0; comment counts before the scenario are the oracle's floor
  await ctx.base.$executeRawUnsafe(`UPDATE "Post" SET "title" = 'p' || "id" || ' v0' WHERE "authorId" BETWEEN 1 AND ${factories.length * HOT_AUTHORS}`)
  const counts = await ctx.base.comment.groupBy({ by: ['postId'], _count: { _all: true } })
  const baseComments = new Map(counts.map((c) => [c.postId, c._count._all]))

  const origin = process.hrtime.bigint()
  const pairs: Pair[] = []
  try {
    progress(`  starting ${factories.length * PROCESSES} processes…`)
    for (const [k, factory] of factories.entries()) {
      const pair: Pair = {
        factory,
        prefix: `${ctx.runPrefix}mixed${k}_${factory.id.replace(/[^a-z0-9]/gi, '').toLowerCase()}`,
        workers: [],
        logs: [],
        labels: [],
        segments: [],
        clockCheckUs: 0,
      }
      pairs.push(pair)
      const started = await Promise.allSettled(Array.from({ length: PROCESSES }, (_, p) => MixedWorker.start(`${factory.id}#${p}`)))
      for (const s of started) if (s.status === 'fulfilled') pair.workers.push(s.value)
      for (const s of started) if (s.status === 'rejected') throw s.reason
      const { authors, posts, postsPerAuthor } = await hotSet(ctx, k)
      await Promise.all(
        pair.workers.map((w, p) =>
          w.init({
            contender: factory.id,
            databaseUrl,
            redisUrl: ctx.redisUrl,
            prefix: pair.prefix,
            index: p,
            seed: SEED,
            originNs: origin,
            hotPosts: posts,
            hotAuthors: authors,
            postsPerAuthor,
            mix: MIX,
            skew: SKEW,
            lanes: LANES,
          }),
        ),
      )
      for (const w of pair.workers) pair.clockCheckUs = Math.max(pair.clockCheckUs, await checkClock(w, origin))
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const pair of pairs) {
        const startNs = since(origin) + 50e6
        const logs = await Promise.all(pair.workers.map((w) => w.run({ startNs, windowStartNs: startNs + WARMUP_MS * 1e6, endNs: startNs + SEGMENT_MS * 1e6 })))
        pair.segments.push(startNs)
        pair.logs.push(...logs)
        pair.labels.push(...logs.map((_, p) => `process ${p}, round ${round + 1}`))
      }
      progress(`  round ${round + 1}/${ROUNDS} done`)
    }
    await Promise.all(pairs.flatMap((pair) => pair.workers.map((w) => w.stop())))
  } finally {
    for (const pair of pairs) for (const w of pair.workers) w.kill()
    await Promise.all(pairs.flatMap((pair) => pair.workers.map((w) => w.exited)))
    for (const pair of pairs) await scanUnlink(ctx.admin, `${pair.prefix}*`)
  }

  const results = pairs.map((pair) => summarize(pair, baseComments))
  return {
    id: 'mixed',
    title: 'Mixed 95/5 read/write workload over 2 processes',
    description: description(),
    rows: [],
    after: [table(results), '', ...notes(results)],
    data: results,
    results,
  }
}

function summarize(pair: Pair, baseComments: ReadonlyMap<number, number>): MixedResult {
  const { factory, logs } = pair
  // the measured windows: operations that completed in [segment start + warm-up, segment end]
  const readMs: number[] = []
  const writeMs: number[] = []
  logs.forEach((log, n) => {
    const segment = pair.segments[Math.floor(n / PROCESSES)]!
    const from = segment + WARMUP_MS * 1e6
    const to = segment + SEGMENT_MS * 1e6
    for (let k = 0; k < log.opKind.length; k++) {
      const end = log.opEnd[k]!
      if (!(end >= from && end <= to)) continue
      const kind = log.opKind[k]!
      const ms = (end - log.opStart[k]!) / 1e6
      if (kind === FIND_UNIQUE || kind === FIND_MANY || kind === COUNT) readMs.push(ms)
      else if (kind === UPDATE || kind === CREATE_COMMENT) writeMs.push(ms)
    }
  })
  const windowNs = ROUNDS * (SEGMENT_MS - WARMUP_MS) * 1e6
  const reads = readMs.length
  const writes = writeMs.length
  readMs.sort((a, b) => a - b)
  writeMs.sort((a, b) => a - b)
  const v = oracle(logs, baseComments, pair.labels)
  const lags = [...v.lagsNs].sort((a, b) => a - b).map((ns) => ns / 1e6)
  const windowQueries = logs.reduce((n, l) => n + l.windowQueries, 0)
  const errors: Record<string, number> = {}
  for (const log of logs) for (const [k, n] of Object.entries(log.errors)) errors[k] = (errors[k] ?? 0) + n
  const firstError = logs.find((l) => l.firstError !== undefined)?.firstError
  const last = logs.slice(-PROCESSES)
  const allWrites = logs.reduce((n, l) => n + l.wKind.length, 0)
  const busMessages = last.reduce((n, l) => n + (l.cacheMetrics?.busMessages ?? 0), 0)
  const stats = statsSum(logs.map((l) => l.windowStats))
  const result: MixedResult = {
    contender: factory.id,
    label: factory.label,
    opsPerSecond: ((reads + writes) / windowNs) * 1e9,
    readsPerSecond: (reads / windowNs) * 1e9,
    writesPerSecond: (writes / windowNs) * 1e9,
    queriesPer1kOps: reads + writes > 0 ? (windowQueries / (reads + writes)) * 1000 : Number.NaN,
    windowQueries,
    latencyMs: {
      read: { p50: quantile(readMs, 0.5), p99: quantile(readMs, 0.99) },
      write: { p50: quantile(writeMs, 0.5), p99: quantile(writeMs, 0.99) },
    },
    readsChecked: v.readsChecked,
    staleReads: v.stale,
    staleByKind: v.staleByKind,
    ...(lags.length > 0 ? { staleLagMs: { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: lags.at(-1)! } } : {}),
    impossible: v.impossible,
    anomalies: logs.flatMap((l) => l.anomalies).slice(0, 5),
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    clockCheckUs: pair.clockCheckUs,
    ...(last.some((l) => l.cacheMetrics) ? { cacheMetrics: last.map((l) => l.cacheMetrics) } : {}),
    ...(stats === undefined ? {} : { stats }),
    hitRate: stats === undefined ? Number.NaN : hitRate(stats),
    ...(busMessages > 0 && allWrites > 0 ? { busMessagesPerWrite: busMessages / allWrites } : {}),
    ...(v.example === undefined ? {} : { example: v.example }),
  }
  progress(
    `  ${factory.label}: ${result.opsPerSecond.toFixed(0)} ops/s, hit rate ${hitRateCell(stats)}, ${result.queriesPer1kOps.toFixed(0)} queries/1k ops, ` +
      `read p50 ${result.latencyMs.read.p50.toFixed(2)} ms, write p50 ${result.latencyMs.write.p50.toFixed(2)} ms, stale ${v.stale}/${v.readsChecked}` +
      `${v.impossible ? `, IMPOSSIBLE ${v.impossible}` : ''}${Object.keys(errors).length ? `, errors ${JSON.stringify(errors)}` : ''}`,
  )
  return result
}

function description(): string {
  return (
    `${PROCESSES} OS processes per contender, each with its own PrismaClient and its own instance of the contender, on one database and one Redis prefix; ` +
    `each runs ${LANES} concurrent lanes of a seeded mix: 50% \`post.findUnique\` by id, 25% \`post.findMany\` by authorId, ` +
    `20% \`comment.count\` by postId (95% reads), 3% \`post.update\` (title \`p<id> v<N>\`, published flipped), 2% \`comment.create\` (5% writes), ` +
    `over every post of ${HOT_AUTHORS} authors (~100 posts, keys picked with a skew: the first 10% get ~32% of the picks), which both processes read and write. ` +
    `Contenders take turns: ${ROUNDS} rounds of ${SEGMENT_MS / 1000} s each, all processes started beforehand, each contender on authors of its own. ` +
    `Throughput, latency, hit rate (the contender's own counters: hits / (hits + misses)) and DB queries (Prisma query events, both processes) exclude the first ${WARMUP_MS / 1000} s of each turn; ` +
    'every read is checked for staleness against the database: a read is **stale** when it returns an older version of a post, or fewer comments, ' +
    'than writes acknowledged (by either process) before the read started.'
  )
}

function table(results: MixedResult[]): string {
  const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2))
  const baseline = results.find((r) => r.contender === 'uncached')
  const ratio = (r: MixedResult) => (baseline === undefined ? '–' : r === baseline ? '1×' : `${(r.opsPerSecond / baseline.opsPerSecond).toFixed(2)}×`)
  return markdownTable(
    [
      'contender',
      'ops/s (2 processes)',
      'vs uncached',
      'reads/s',
      'writes/s',
      'read p50 / p99',
      'write p50 / p99',
      'hit rate',
      'bypasses',
      'DB queries / 1,000 ops',
      'stale reads',
      'stale %',
      'stale by read',
      'ack → stale read (median / max)',
    ],
    results.map((r) => [
      r.label,
      r.opsPerSecond.toFixed(0),
      ratio(r),
      r.readsPerSecond.toFixed(0),
      r.writesPerSecond.toFixed(0),
      `${ms(r.latencyMs.read.p50)} / ${ms(r.latencyMs.read.p99)} ms`,
      `${ms(r.latencyMs.write.p50)} / ${ms(r.latencyMs.write.p99)} ms`,
      hitRateCell(r.stats),
      r.stats?.bypasses === undefined ? 'n/a' : String(r.stats.bypasses),
      r.queriesPer1kOps.toFixed(0),
      `${r.staleReads === 0 ? '0' : `**${r.staleReads}**`} of ${r.readsChecked}`,
      `${((r.staleReads / Math.max(1, r.readsChecked)) * 100).toFixed(r.staleReads === 0 ? 0 : 2)}%`,
      r.staleReads === 0 ? '–' : Object.entries(r.staleByKind).map(([k, n]) => `${k.replace(/^\w+\./, '')} ${n}`).join(', '),
      r.staleLagMs ? `${ms(r.staleLagMs.p50)} / ${ms(r.staleLagMs.max)} ms` : '–',
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r'],
  )
}

function notes(results: MixedResult[]): string[] {
  const by = (id: string) => results.find((r) => r.contender === id)
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`
  const out: string[] = [
    '"ack → stale read": for each stale read, how long before it started the oldest write it missed had been acknowledged. ' +
      'The oracle only counts writes acknowledged strictly before a read started, on one monotonic clock shared by the processes ' +
      '(checked for every process), each post updated by one process at a time with increasing versions, comments only added: ' +
      'a fresh read can never count as stale (uncached Prisma is the control), and no read may return a version or a count that no write could yet have produced ' +
      `(${results.every((r) => r.impossible === 0) ? 'none did' : `**${results.filter((r) => r.impossible > 0).map((r) => `${r.label}: ${r.impossible}`).join(', ')}**`}).`,
  ]
  const uncachedRow = by('uncached')
  const l1l2 = by('tiered-l1l2')
  const strict = by('tiered-l1l2-strict')
  const l2 = by('tiered-l2')
  const l1 = by('tiered-l1')
  const model = by('tiered-l1l2-model')
  const withStats = results.filter((r) => r.stats !== undefined)
  if (withStats.length > 0) {
    out.push(
      '',
      'Hit rate: hits / (hits + misses) over the measured windows of both processes, from each contender\'s own counters: `$cache.metrics()` for this library ' +
        '(bypasses: reads that skipped the cache), the `onHit`/`onMiss` hooks of prisma-extension-redis (a read coalesced into one in flight fires neither), ' +
        'bentocache\'s `cache:hit`/`cache:miss` events; n/a for uncached Prisma. ' +
        `Counters per contender: ${withStats.map((r) => `${r.label.replace('prisma-tiered-cache ', '')}: ${statsDetail(r.stats)}`).join('; ')}.`,
      '',
      'Model-wide invalidation (this library with `invalidation: \'model\'`, and the other caches, which delete the written model\'s keys) makes every `post.update` invalidate every cached Post read ' +
        'and every `comment.create` every Comment count, whichever row they touched: at 3% post updates and 2% comment creates that is one invalidation of Post every ~33 operations and of Comment every ~50, ' +
        'against ~110 hot Post keys and ~100 counts, so hit rates stay low. ' +
        "With `invalidation: 'row'` (the default, the `prisma-tiered-cache L1+L2` row) a write should drop only what its row can change (a post's findUnique and its author's findMany, a post's comment count)" +
        (model && l1l2 ? `: here ${hitRateCell(l1l2.stats)} against ${hitRateCell(model.stats)} with \`'model'\`.` : '.') +
        ' A miss of this library costs more than an uncached read: a Redis lookup, for a lone key a cross-process lease (take, look up again, release), the query, a compare-and-set store; ' +
        'and a read that overlaps a write of what it read is answered but not stored (it cannot prove it is current).' +
        (uncachedRow && l1l2
          ? ` Throughput against uncached Prisma: L1+L2 ${pct(l1l2.opsPerSecond / uncachedRow.opsPerSecond)}` +
            (model ? `, L1+L2 model-wide ${pct(model.opsPerSecond / uncachedRow.opsPerSecond)}` : '') +
            (l2 ? `, L2 only ${pct(l2.opsPerSecond / uncachedRow.opsPerSecond)}` : '') +
            `; DB queries: L1+L2 ${pct(l1l2.queriesPer1kOps / uncachedRow.queriesPer1kOps)} of uncached's` +
            (model ? `, model-wide ${pct(model.queriesPer1kOps / uncachedRow.queriesPer1kOps)}` : '') +
            '.'
          : ''),
    )
  }
  if (l1l2) {
    out.push(
      '',
      l1l2.staleReads === 0
        ? "prisma-tiered-cache L1+L2 served no stale read across the two processes: a write bumps this process's counters, Redis's counters and publishes on the bus both before it runs and before it resolves; " +
            "an L2 lookup always checks Redis's counters, and no read of the other process hit an L1 entry that the write had made stale. " +
            'What the bus does not guarantee (README, Consistency) is the case where an L1 entry filled while the write ran is read in the other process after the ack but before that process has read the second bus message; ' +
            `it did not happen here (bus delivery p99 is in the note below)${strict ? `, and \`l1: { consistency: 'strict' }\` rules it out (${strict.staleReads} stale)` : ''}.`
        : `prisma-tiered-cache L1+L2 (\`consistency: 'bus'\`) served ${l1l2.staleReads} stale reads, at most ${l1l2.staleLagMs!.max.toFixed(2)} ms after the write's ack: ` +
            "the write resolves once Redis's counters are bumped and the bus message is published, but the other process's L1 only drops the entry when its event loop reads that message; " +
            'a read that starts in between is served from L1. This is the documented bus window (README, Consistency)' +
            (strict ? `; \`l1: { consistency: 'strict' }\` closes it (${strict.staleReads} stale).` : '.'),
    )
  }
  if (l2) out.push('', `prisma-tiered-cache L2 only: ${l2.staleReads} stale reads; every read checks Redis's counters, which a write bumps before it resolves.`)
  if (l1) {
    out.push(
      '',
      `**prisma-tiered-cache L1 only is stale across processes by construction** (${l1.staleReads} stale reads): without Redis there is no shared counter and no bus, ` +
        "so a process never hears of the other's writes and serves its L1 entry until its ttl (60 s here) ends or one of its own writes to the model invalidates it " +
        '(so stale reads are rare here only because each process writes every model often; the longest waits span the other contenders\' turns). ' +
        'It is correct within one process only: with several processes, give it Redis (L1+L2).',
    )
  }
  const per = by('prisma-extension-redis')
  const bento = by('bentocache')
  if (per) {
    out.push(
      '',
      `prisma-extension-redis keeps entries in Redis only and a write awaits the SCAN + UNLINK of its model's keys before it resolves, so the other process stops reading them at once; ` +
        (per.staleReads === 0
          ? 'it served no stale read in this run; the cache-aside race (a read that queried before a write stores its old answer after the write\'s UNLINK) remains open to it.'
          : `its ${per.staleReads === 1 ? 'stale read comes from a read' : `${per.staleReads} stale reads come from reads`} that began before a write: the cache-aside race (such a read stores its old answer after the write's UNLINK, and later reads are served it), or its in-process request coalescing (a read that starts after the write joins one in flight since before it).`),
    )
  }
  if (bento) {
    out.push(
      '',
      `bentocache is wired as in the other scenarios, without its bus (\`bentocache/buses/redis\`): \`namespace.clear()\` empties Redis and this process's L1, not the other process's, ` +
        `so the other's L1 serves stale entries until their ttl or its own next write to the model (${bento.staleReads} stale reads). With its bus it would be a different contender.`,
    )
  }
  const busDelays = results
    .filter((r) => r.cacheMetrics?.some((m) => m?.busDelayP99 !== undefined))
    .map((r) => `${r.label.replace('prisma-tiered-cache ', '')} ${r.cacheMetrics!.map((m) => (m?.busDelayP99 === undefined ? '–' : `${m.busDelayP99.toFixed(0)} ms (${m.busMessages} messages)`)).join(' / ')}`)
  if (busDelays.length > 0) {
    out.push('', `Bus delivery delay p99 per process, as this library measures it (epoch ms: 1 ms resolution; event-loop delay under a saturated CPU included): ${busDelays.join('; ')}.`)
  }
  const amplified = results.filter((r) => r.busMessagesPerWrite !== undefined)
  if (amplified.length > 0) {
    out.push(
      '',
      `Bus messages per write (received by the other process, per write acknowledged; 2 expected, one bump before the write and one after): ` +
        `${amplified.map((r) => `${r.label.replace('prisma-tiered-cache ', '')} ${r.busMessagesPerWrite!.toFixed(1)}`).join('; ')}. ` +
        "Above 2 means bumps are applied again: while a bump is on its way to Redis, every L2 call of that process (lookup, store, lease) finds it pending and flushes it again " +
        "(`L2.usable()` → `flush()`), so Redis's counter moves again and the bus carries it again, invalidating what was cached in between. Safe, but it multiplies invalidations under concurrency.",
    )
  }
  const troubled = results.filter((r) => Object.keys(r.errors).length > 0 || r.anomalies.length > 0)
  for (const r of troubled) {
    out.push('', `${r.label}: errors ${JSON.stringify(r.errors)}${r.firstError ? ` (first: ${escapeLine(r.firstError)})` : ''}; wrong-shaped answers: ${r.anomalies.join('; ') || 'none'}.`)
  }
  const examples = results.filter((r) => r.example).map((r) => `${r.label}: ${r.example}`)
  if (examples.length > 0) out.push('', `First stale read of each: ${examples.join('; ')}.`)
  return out
}

function escapeLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 200)
}
