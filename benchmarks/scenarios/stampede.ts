// Scenario: 1,000 concurrent cold reads of one key. `post.findFirst` (which Prisma does not batch)
// called 1,000 times in one tick on an empty cache: how many reach the database, and how long
// until all have answered. Three runs per contender, the cache emptied before each.
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import { caches, uncached } from '../contenders/index.js'
import { combine, verdict, type Verdict } from '../correctness.js'
import { measureEach } from '../harness.js'
import type { Row, ScenarioResult } from '../report.js'
import { progress } from './hot-read.js'

const CONCURRENCY = 1000
const args = { where: { authorId: 7, published: true }, orderBy: { id: 'desc' as const } }

export async function stampede(ctx: BenchContext): Promise<ScenarioResult> {
  const counting = ctx.counting
  const expected = await counting.prisma.post.findFirst(args)
  const rows: Row[] = []
  for (const factory of [uncached, ...caches]) {
    await ctx.with(
      factory,
      async (c) => {
        const queries: number[] = []
        const distinct: number[] = []
        let v: Verdict = { ok: true }
        const burst = async (client: PrismaClient) => {
          counting.reset()
          const answers = await Promise.all(Array.from({ length: CONCURRENCY }, () => client.post.findFirst(args)))
          queries.push(counting.queries())
          distinct.push(new Set(answers).size)
          v = combine(v, ...answers.map((a) => verdict(a, expected)))
        }
        const m = await measureEach(factory.label, () => c.reset(), () => burst(c.client), { samples: 3 })
        const sorted = [...queries].sort((a, b) => a - b)
        rows.push({
          contender: factory.id,
          label: factory.label,
          measurement: m,
          queries: sorted[0] === sorted.at(-1) ? sorted[0]! : `${sorted[0]}–${sorted.at(-1)}`,
          verdict: v,
          extra: { 'distinct result objects': Math.min(...distinct), 'Redis errors': c.errors?.() ?? '–' },
        })
        progress(`  ${factory.label}: ${(m.us / 1000).toFixed(1)} ms, queries ${queries.join('/')}`)
      },
      counting.prisma,
    )
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
