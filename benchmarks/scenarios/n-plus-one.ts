// Scenario: the N+1 resolver. Load 100 posts, then each post's author by findUnique (100 distinct
// users). Caches and Prisma's batching issue the 100 lookups concurrently, in one tick, as a
// GraphQL list resolver does; the `uncached` row awaits each lookup in turn (the textbook N+1).
// Cold: every cache reset before the run (reset not timed). Warm: the same run again, all hits.
// Statements are counted on a query-logging client under every contender.
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import { caches, prismaBatching, uncached, type Contender, type ContenderFactory } from '../contenders/index.js'
import { verdict } from '../correctness.js'
import { measureInterleaved, type Task } from '../harness.js'
import type { Row, ScenarioResult } from '../report.js'
import { progress } from './hot-read.js'

async function resolve(client: PrismaClient, concurrent: boolean) {
  const posts = await client.post.findMany({ take: 100, orderBy: { id: 'asc' } })
  const lookup = (authorId: number | null) => client.user.findUnique({ where: { id: authorId ?? -1 } })
  if (concurrent) return Promise.all(posts.map((p) => lookup(p.authorId)))
  const authors = []
  for (const p of posts) authors.push(await lookup(p.authorId))
  return authors
}

export async function nPlusOne(ctx: BenchContext): Promise<ScenarioResult> {
  const counting = ctx.counting
  const expected = await resolve(counting.prisma, true)
  const rows: Row[] = []
  const tasks: Task[] = []
  const built: Contender[] = []

  const queriesOf = async (run: () => Promise<unknown>) => {
    counting.reset()
    const answer = await run()
    return { answer, queries: counting.queries() }
  }

  try {
    for (const factory of [uncached, prismaBatching] as ContenderFactory[]) {
      const concurrent = factory === prismaBatching
      const c = ctx.create(factory, counting.prisma)
      built.push(c)
      const { answer, queries } = await queriesOf(() => resolve(c.client, concurrent))
      rows.push({ contender: factory.id, label: factory.label, queries, verdict: verdict(answer, expected), ...(concurrent ? {} : { note: 'lookups awaited in turn' }) })
      tasks.push({ name: factory.label, call: () => resolve(c.client, concurrent), options: { time: 2000, batch: 1 } })
    }
    for (const factory of caches) {
      const c = ctx.create(factory, counting.prisma)
      built.push(c)
      await c.reset()
      const cold = await queriesOf(() => resolve(c.client, true))
      const warm = await queriesOf(() => resolve(c.client, true))
      rows.push({ contender: `${factory.id}:cold`, label: factory.label, note: 'cold', queries: cold.queries, verdict: verdict(cold.answer, expected) })
      tasks.push({ name: `${factory.label} cold`, call: () => resolve(c.client, true), prepare: () => c.reset(), options: { iterations: 9 } })
      rows.push({ contender: `${factory.id}:warm`, label: factory.label, note: 'warm', queries: warm.queries, verdict: verdict(warm.answer, expected) })
      tasks.push({ name: `${factory.label} warm`, call: () => resolve(c.client, true), options: { time: 1000, iterationMs: 10 } })
    }
    const measured = await measureInterleaved(tasks, 3)
    measured.forEach((m, i) => {
      rows[i]!.measurement = m
      progress(`  ${m.name}: ${(m.us / 1000).toFixed(2)} ms, ${rows[i]!.queries} queries`)
    })
  } finally {
    for (const c of built) await ctx.dispose(c)
  }

  const batching = rows.find((r) => r.contender === 'prisma-batching')!.measurement!.us
  return {
    id: 'n-plus-one',
    title: 'N+1 resolver: 100 posts, then each author by findUnique',
    description:
      '`post.findMany({ take: 100 })`, then `user.findUnique({ where: { id: post.authorId } })` for each post (100 distinct authors), all 100 lookups issued in one tick ' +
      '(except the first row). Time per whole resolver run; DB queries counted by a query-logging client for one run. ' +
      '*cold*: the contender\'s cache was emptied before each timed run; *warm*: everything is cached.',
    baseline: 'uncached',
    unit: 'per resolver run',
    showQueries: true,
    rows,
    after: [
      `Against Prisma's own batching (${Math.round(batching)} µs, uncached): ` +
        rows
          .filter((r) => r.note === 'cold')
          .map((r) => `${r.label} cold ${(r.measurement!.us / batching).toFixed(1)}× its time`)
          .join('; ') +
        '.',
    ],
  }
}
