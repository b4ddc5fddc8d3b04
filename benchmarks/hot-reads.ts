// Scenario: hot reads. A findUnique by id, and a findMany with include returning 100 rows, each
// uncached, from this library's L1, and from its L2 alone (L1 disabled); for findUnique also a bare
// Map behind a model override (the floor any cache on Prisma's extension API can reach), and the
// L1 hit with metrics collection off, to show what the collector costs on the hot path. One run.
import type { Redis } from 'ioredis'
import { Prisma, type PrismaClient } from '../generated/prisma/client.js'
import { withCache } from '../src/index.js'
import { measure, table, type Measurement } from './harness.js'

export async function hotReadScenarios(base: PrismaClient, redis: Redis): Promise<{ markdown: string; results: Measurement[] }> {
  const namespace = `bench${process.pid}`
  const l1 = base.$extends(withCache({ namespace }))
  const l1NoMetrics = base.$extends(withCache({ namespace, metrics: false }))
  const l2 = base.$extends(withCache({ namespace, redis, l1: false }))

  const one = { where: { id: 42 } }
  const uncached = await measure('uncached Prisma', () => base.user.findUnique(one), { iterations: 200, samples: 7 })
  const map = new Map<number, unknown>([[42, await base.user.findUnique(one)]])
  const floor = base.$extends({
    model: {
      $allModels: {
        findUnique<T, A>(this: T, a: Prisma.Exact<A, Prisma.Args<T, 'findUnique'>>) {
          const id = (a as { where: { id: number } }).where.id
          return Promise.resolve(map.get(id)) as Prisma.PrismaPromise<Prisma.Result<T, A, 'findUnique'>>
        },
      },
    },
  })
  const bare = await measure('bare Map in a model override', () => floor.user.findUnique(one), { iterations: 20_000 })
  const l1Hit = await measure('prisma-tiered-cache, L1 hit', () => l1.user.findUnique(one), { iterations: 20_000 })
  const { on, off, overhead } = await metricsCost(
    () => l1.user.findUnique(one),
    () => l1NoMetrics.user.findUnique(one),
  )
  const l2Hit = await measure('prisma-tiered-cache, L2 hit (L1 off)', () => l2.user.findUnique(one), { iterations: 1000 })

  const many = { where: { published: true }, take: 100, orderBy: { id: 'asc' as const }, include: { author: true } }
  const manyUncached = await measure('uncached Prisma', () => base.post.findMany(many), { iterations: 50, samples: 7 })
  const manyL1 = await measure('prisma-tiered-cache, L1 hit', () => l1.post.findMany(many), { iterations: 2000 })
  const manyL2 = await measure('prisma-tiered-cache, L2 hit (L1 off)', () => l2.post.findMany(many), { iterations: 300 })

  const results = [uncached, bare, l1Hit, l2Hit, manyUncached, manyL1, manyL2]
  const markdown = [
    table('Hot findUnique by id', [uncached, bare, l1Hit, l2Hit], uncached),
    '',
    `L1 hit: ${(uncached.us / l1Hit.us).toFixed(0)}× faster than uncached, ${(l1Hit.us / bare.us).toFixed(2)}× the bare-Map floor. ` +
      `L2 hit: ${(uncached.us / l2Hit.us).toFixed(1)}× faster than uncached.`,
    '',
    table('findMany with include, 100 rows', [manyUncached, manyL1, manyL2], manyUncached),
    '',
    `L2 hit: ${(manyUncached.us / manyL2.us).toFixed(1)}× faster than uncached.`,
    '',
    table('L1 hit, metrics on and off', [uncached, on, off], uncached),
    '',
    `Metrics on: ${on.us.toFixed(3)} µs, off: ${off.us.toFixed(3)} µs per L1 hit (medians of 40 samples). ` +
      `The collector costs ${(overhead * 100).toFixed(1)}% (median of the 40 paired on/off ratios; the budget is 10%).`,
  ].join('\n')
  return { markdown, results: [...results, on, off] }
}

/**
 * The same L1 hit with the collector on and off. The difference (a few percent at most) is far
 * below the drift of a shared machine, so the two are measured in 40 short back-to-back pairs,
 * alternating which goes first, and the overhead is the median of the per-pair ratios: drift
 * between pairs cancels out, and so does any advantage of going first.
 */
async function metricsCost(
  on: () => PromiseLike<unknown>,
  off: () => PromiseLike<unknown>,
): Promise<{ on: Measurement; off: Measurement; overhead: number }> {
  const options = { iterations: 5000, samples: 1, warmup: 0 }
  await measure('warm-up', on, { iterations: 20_000, samples: 1 })
  await measure('warm-up', off, { iterations: 20_000, samples: 1 })
  const pairs: Array<{ on: number; off: number }> = []
  for (let pair = 0; pair < 40; pair++) {
    const first = pair % 2 === 0 ? off : on
    const a = (await measure('', first, options)).us
    const b = (await measure('', first === off ? on : off, options)).us
    pairs.push(first === off ? { off: a, on: b } : { on: a, off: b })
  }
  const ratios = pairs.map((p) => p.on / p.off).sort((x, y) => x - y)
  const summary = (name: string, values: number[]): Measurement => {
    const sorted = [...values].sort((x, y) => x - y)
    return { name, us: sorted[sorted.length >> 1]!, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples: sorted.length }
  }
  return {
    on: summary('L1 hit, metrics on', pairs.map((p) => p.on)),
    off: summary('L1 hit, metrics off', pairs.map((p) => p.off)),
    overhead: ratios[ratios.length >> 1]! - 1,
  }
}
