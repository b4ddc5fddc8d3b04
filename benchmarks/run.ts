// `npm run bench`: every scenario against every contender, in one process and one run. Writes
// benchmarks/results/latest.json and latest.md, and prints the Markdown. Redis keys of the run
// live under their own prefix and are deleted at the end (SCAN + UNLINK).
// `BENCH_ONLY=mixed,stampede` runs only the scenarios with those ids (see `steps`) and writes
// results/only-<ids>.json and .md instead of latest.*.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BenchContext } from './context.js'
import { hitRateCell } from './cache-stats.js'
import { bentocache, caches, prismaBatching, prismaExtensionRedis, tieredL1, tieredL1L2, tieredL1L2Model, tieredL1L2Strict, tieredL2, uncached } from './contenders/index.js'
import { formatUs } from './harness.js'
import { markdownTable, scenarioMarkdown, type ScenarioResult } from './report.js'
import { blogApi } from './scenarios/blog-api.js'
import { findManyInclude } from './scenarios/find-many-include.js'
import { hotFindUnique } from './scenarios/hot-find-unique.js'
import { missCost } from './scenarios/miss-cost.js'
import { progress } from './scenarios/hot-read.js'
import { mixed, type MixedResult } from './scenarios/mixed.js'
import { nPlusOne } from './scenarios/n-plus-one.js'
import { payload } from './scenarios/payload.js'
import { stampede } from './scenarios/stampede.js'
import { probeCount, staleness, type StalenessResult } from './scenarios/staleness.js'
import { writeCost } from './scenarios/write-cost.js'
import { benchDatabase, countingClient, redisUrl } from './setup.js'

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results')
const started = performance.now()
const startedAt = new Date().toISOString()

const base = await benchDatabase()
const counting = countingClient()
const ctx = new BenchContext(base, counting, redisUrl)
const scenarios: ScenarioResult[] = []
let stale: StalenessResult[] = []
let mixedResults: MixedResult[] = []
const only = process.env.BENCH_ONLY?.split(',').map((id) => id.trim()).filter(Boolean)
try {
  const allSteps: [string, string, (ctx: BenchContext) => Promise<ScenarioResult>][] = [
    ['hot-find-unique', 'hot findUnique', hotFindUnique],
    ['find-many-include', 'findMany with include', findManyInclude],
    ['n-plus-one', 'N+1 resolver', nPlusOne],
    ['stampede', '1,000 concurrent cold reads', stampede],
    ['payload', 'payload bytes in Redis', payload],
    ['write-cost', 'write cost', writeCost],
    ['staleness', 'staleness probes', async (c) => {
      const s = await staleness(c)
      stale = s.results
      return s
    }],
    // adds rows of its own (users, posts, comments, tags), touches no seeded row
    ['blog-api', 'blog API (Conduit-like requests)', blogApi],
    ['miss-cost', 'cost of a cold findUnique', missCost],
    // last: it rewrites the hot posts' titles and adds comments
    ['mixed', 'mixed 95/5 workload over 2 processes', async (c) => {
      const s = await mixed(c)
      mixedResults = s.results
      return s
    }],
  ]
  const unknown = only?.filter((id) => !allSteps.some(([sid]) => sid === id)) ?? []
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: no scenario ${unknown.join(', ')} (ids: ${allSteps.map(([id]) => id).join(', ')})`)
  const steps = allSteps.filter(([id]) => only === undefined || only.length === 0 || only.includes(id)).map(([, name, step]) => [name, step] as const)
  for (const [name, step] of steps) {
    progress(`${name}…`)
    const t = performance.now()
    const result = await step(ctx)
    result.seconds = (performance.now() - t) / 1000
    progress(`${name}: ${result.seconds.toFixed(1)} s`)
    scenarios.push(result)
  }
} finally {
  const deleted = await ctx.cleanup()
  progress(`deleted ${deleted} leftover Redis keys under ${ctx.runPrefix}*`)
  await Promise.all([base.$disconnect(), counting.prisma.$disconnect()])
}

const totalSeconds = (performance.now() - started) / 1000
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`
const md = [
  `# prisma-tiered-cache: side-by-side benchmarks`,
  '',
  `Run ${startedAt} on ${machine}; PostgreSQL and Redis on loopback; ${totalSeconds.toFixed(0)} s in all. ` +
    'Shared machine: absolute times are noisy, compare within a table. Timing by tinybench; median per call and 10th–90th percentile of samples.',
  '',
  '## Contenders',
  '',
  markdownTable(
    ['contender', 'what it is'],
    [uncached, prismaBatching, tieredL1L2, tieredL1L2Model, tieredL2, tieredL1, tieredL1L2Strict, prismaExtensionRedis, bentocache].map((f) => [f.label, f.description]),
    ['l', 'l'],
  ),
  '',
  summary(scenarios, stale, mixedResults),
  '',
  ...scenarios.map(scenarioMarkdown),
  `Scenario times: ${scenarios.map((s) => `${s.title} ${s.seconds?.toFixed(0)} s`).join('; ')}.`,
  '',
].join('\n')

const outName = only?.length ? `only-${only.join('-')}` : 'latest'
mkdirSync(resultsDir, { recursive: true })
writeFileSync(join(resultsDir, `${outName}.md`), md)
writeFileSync(
  join(resultsDir, `${outName}.json`),
  `${JSON.stringify({ startedAt, machine, totalSeconds, scenarios }, null, 2)}\n`,
)
console.log(md)
progress(`wrote ${join(resultsDir, `${outName}.md`)} and ${outName}.json in ${totalSeconds.toFixed(0)} s`)

/** One line per cache: speed next to whether its answers were right. */
function summary(results: ScenarioResult[], stale: StalenessResult[], mixedResults: MixedResult[]): string {
  const scenario = (id: string) => results.find((s) => s.id === id)
  const row = (sid: string, rid: string) => scenario(sid)?.rows.find((r) => r.contender === rid)
  const speed = (sid: string, rid: string) => {
    const r = row(sid, rid)?.measurement
    const b = row(sid, 'uncached')?.measurement
    return r && b ? `${formatUs(r.us)} (${(b.us / r.us).toFixed(b.us / r.us >= 10 ? 0 : 1)}×)` : '–'
  }
  const wrongAnswers = (rid: string) => {
    const bad = results.flatMap((s) => s.rows.filter((r) => (r.contender === rid || r.contender.startsWith(`${rid}:`)) && r.verdict && !r.verdict.ok))
    return bad.length === 0 ? 'equal everywhere' : `**wrong** in ${bad.length} rows (e.g. ${bad[0]!.verdict!.detail})`
  }
  const staleCell = (rid: string) => {
    const s = stale.find((x) => x.contender === rid)
    if (!s) return '–'
    const failed = Object.entries(s.probes).filter(([k, v]) => v !== undefined && !s.errors.includes(k)).map(([k]) => k)
    const errors = s.errors.length === 0 ? '' : `${failed.length ? '; ' : ''}**errors in ${s.errors.length}/${probeCount}**: ${s.errors.join(', ')}`
    return failed.length === 0 && errors === '' ? 'none stale' : `${failed.length ? `**stale in ${failed.length}/${probeCount}**: ${failed.join(', ')}` : ''}${errors}`
  }
  const mixedCell = (rid: string) => {
    const m = mixedResults.find((x) => x.contender === rid)
    if (!m) return '–'
    const stale = m.staleReads === 0 ? '0 stale' : `**${((m.staleReads / Math.max(1, m.readsChecked)) * 100).toFixed(2)}% stale**`
    const hits = m.stats === undefined ? '' : `, ${hitRateCell(m.stats)} hits`
    return `${m.opsPerSecond.toFixed(0)} ops/s${hits}, ${stale}`
  }
  return [
    '## Summary',
    '',
    markdownTable(
      ['contender', 'hot findUnique', 'findMany 100 rows', 'N+1 cold: DB queries', '1,000 cold reads: DB queries', 'write, 100k keys cached', 'answers vs uncached', 'staleness probes', '2 processes, 95/5 mix'],
      caches.map((f) => [
        f.label,
        speed('hot-find-unique', f.id),
        speed('find-many-include', f.id),
        String(row('n-plus-one', `${f.id}:cold`)?.queries ?? '–'),
        String(row('stampede', f.id)?.queries ?? '–'),
        row('write-cost', `${f.id}:large`)?.measurement ? formatUs(row('write-cost', `${f.id}:large`)!.measurement!.us) : '–',
        wrongAnswers(f.id),
        staleCell(f.id),
        mixedCell(f.id),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'l', 'r'],
    ),
    '',
    `Uncached Prisma: findUnique ${speed('hot-find-unique', 'uncached').replace(/ \(.*/, '')}, findMany ${speed('find-many-include', 'uncached').replace(/ \(.*/, '')}, ` +
      `N+1 ${row('n-plus-one', 'uncached')?.queries ?? '–'} queries (Prisma batching: ${row('n-plus-one', 'prisma-batching')?.queries ?? '–'}), ` +
      `1,000 cold reads ${row('stampede', 'uncached')?.queries ?? '–'} queries, write ${row('write-cost', 'uncached')?.measurement ? formatUs(row('write-cost', 'uncached')!.measurement!.us) : '–'}, ` +
      `2 processes 95/5: ${mixedCell('uncached')}.` +
      (mixedResults.some((m) => m.contender === tieredL1L2Strict.id) ? ` prisma-tiered-cache L1+L2 with \`l1: { consistency: 'strict' }\` (mixed scenario only): ${mixedCell(tieredL1L2Strict.id)}.` : '') +
      (mixedResults.some((m) => m.contender === tieredL1L2Model.id) || stale.some((x) => x.contender === tieredL1L2Model.id)
        ? ` prisma-tiered-cache L1+L2 with \`invalidation: 'model'\`: 2 processes 95/5 ${mixedCell(tieredL1L2Model.id)}; staleness probes ${staleCell(tieredL1L2Model.id)}.`
        : ''),
  ].join('\n')
}
