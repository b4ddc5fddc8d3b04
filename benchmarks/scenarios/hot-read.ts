// Shared by the two hot-read scenarios: one call, repeated on a warm cache, per contender. All
// contenders are built and warmed first, then timed in alternating rounds (harness.ts).
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import type { Contender, ContenderFactory } from '../contenders/index.js'
import { verdict } from '../correctness.js'
import { measureInterleaved, type MeasureOptions, type Task } from '../harness.js'
import type { Row } from '../report.js'

/** A row that is not a contender (the bare-Map floor), timed along with them. */
export interface ExtraTask {
  id: string
  label: string
  client: PrismaClient
  index: number
}

export async function hotRead(
  ctx: BenchContext,
  contenders: ContenderFactory[],
  call: (client: PrismaClient) => PromiseLike<unknown>,
  timing: { uncached: MeasureOptions; cached: MeasureOptions },
  extra: ExtraTask[] = [],
): Promise<Row[]> {
  const expected = await call(ctx.base)
  const built: Contender[] = []
  try {
    const rows: Row[] = []
    const tasks: Task[] = []
    for (const factory of contenders) {
      const c = ctx.create(factory)
      built.push(c)
      await call(c.client) // fills the cache
      const answer = await call(c.client) // a hit: what the benchmark measures
      rows.push({ contender: factory.id, label: factory.label, verdict: verdict(answer, expected) })
      tasks.push({ name: factory.label, call: () => call(c.client), options: factory.caches ? timing.cached : timing.uncached })
    }
    for (const e of extra) {
      rows.splice(e.index, 0, { contender: e.id, label: e.label, verdict: verdict(await call(e.client), expected) })
      tasks.splice(e.index, 0, { name: e.label, call: () => call(e.client), options: timing.cached })
    }
    const measured = await measureInterleaved(tasks, 3)
    measured.forEach((m, i) => {
      rows[i]!.measurement = m
      progress(`  ${m.name}: ${m.us.toFixed(2)} µs`)
    })
    return rows
  } finally {
    for (const c of built) await ctx.dispose(c)
  }
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`)
}
