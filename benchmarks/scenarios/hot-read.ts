// Shared by the two hot-read scenarios: one call, repeated on a warm cache, per contender.
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import type { ContenderFactory } from '../contenders/index.js'
import { verdict } from '../correctness.js'
import { measure, type MeasureOptions } from '../harness.js'
import type { Row } from '../report.js'

export async function hotRead(
  ctx: BenchContext,
  contenders: ContenderFactory[],
  call: (client: PrismaClient) => PromiseLike<unknown>,
  timing: { uncached: MeasureOptions; cached: MeasureOptions },
): Promise<Row[]> {
  const expected = await call(ctx.base)
  const rows: Row[] = []
  for (const factory of contenders) {
    rows.push(
      await ctx.with(factory, async (c) => {
        await call(c.client) // fills the cache
        const answer = await call(c.client) // a hit: what the benchmark measures
        const m = await measure(factory.label, () => call(c.client), factory.caches ? timing.cached : timing.uncached)
        return { contender: factory.id, label: factory.label, measurement: m, verdict: verdict(answer, expected) }
      }),
    )
    progress(`  ${factory.label}: ${rows.at(-1)!.measurement!.us.toFixed(2)} µs`)
  }
  return rows
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`)
}
