// Scenario: 1,000 concurrent cold reads of one key. `post.findFirst` (which Prisma does not batch)
// called 1,000 times in one tick on an empty cache: how many reach the database, and how long
// until all have answered. Three bursts per contender (interleaved), the cache emptied before each.
import type { BenchContext } from '../context.js'
import { caches, uncached, type Contender } from '../contenders/index.js'
import { combine, verdict, type Verdict } from '../correctness.js'
import { measureInterleaved, type Task } from '../harness.js'
import type { Row, ScenarioResult } from '../report.js'
import { progress } from './hot-read.js'

const CONCURRENCY = 1000
const args = { where: { authorId: 7, published: true }, orderBy: { id: 'desc' as const } }

export async function stampede(ctx: BenchContext): Promise<ScenarioResult> {
  const counting = ctx.counting
  const expected = await counting.prisma.post.findFirst(args)
  const rows: Row[] = []
  const tasks: Task[] = []
  const built: Contender[] = []
  const stats: { queries: number[]; distinct: number[]; verdict: Verdict }[] = []
  try {
    for (const factory of [uncached, ...caches]) {
      const c = ctx.create(factory, counting.prisma)
      built.push(c)
      const s = { queries: [] as number[], distinct: [] as number[], verdict: { ok: true } as Verdict }
      stats.push(s)
      const burst = async () => {
        counting.reset()
        const answers = await Promise.all(Array.from({ length: CONCURRENCY }, () => c.client.post.findFirst(args)))
        s.queries.push(counting.queries())
        s.distinct.push(new Set(answers).size)
        s.verdict = combine(s.verdict, ...answers.map((a) => verdict(a, expected)))
      }
      tasks.push({ name: factory.label, call: burst, prepare: () => c.reset(), options: { iterations: 3 } })
    }
    const measured = await measureInterleaved(tasks, 3)
    measured.forEach((m, i) => {
      const c = built[i]!
      const s = stats[i]!
      const sorted = [...s.queries].sort((a, b) => a - b)
      rows.push({
        contender: c.id,
        label: c.label,
        measurement: m,
        queries: sorted[0] === sorted.at(-1) ? sorted[0]! : `${sorted[0]}–${sorted.at(-1)}`,
        verdict: s.verdict,
        extra: { 'distinct result objects': Math.min(...s.distinct), 'Redis errors': c.errors?.() ?? '–' },
      })
      progress(`  ${c.label}: ${(m.us / 1000).toFixed(1)} ms, queries ${s.queries.join('/')}`)
    })
  } finally {
    for (const c of built) await ctx.dispose(c)
  }
  return {
    id: 'stampede',
    title: '1,000 concurrent cold reads of one key',
    description:
      `${CONCURRENCY} × \`post.findFirst({ where: { authorId: 7, published: true }, orderBy: { id: "desc" } })\` in one tick on an empty cache ` +
      '(findFirst is not batched by Prisma). Time until all have answered; DB queries per burst (3 bursts, cache emptied before each).',
    baseline: 'uncached',
    unit: 'per burst',
    showQueries: true,
    extraColumns: ['distinct result objects', 'Redis errors'],
    rows,
    after: [
      'A caller may mutate what Prisma returns, so every caller should get its own object: "distinct result objects" counts the different objects among the 1,000 answers of a burst (fewest over the bursts). "Redis errors" are the failed or timed-out Redis calls the contender counted (where it counts them).',
    ],
  }
}
