// Scenario: a hot findUnique by id (one User row), on a warm cache. Besides the contenders, the
// floor any cache built on Prisma's extension API can reach: a bare Map behind a model override.
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js'
import { withCache } from '../../src/index.js'
import type { BenchContext } from '../context.js'
import { bentocache, prismaExtensionRedis, tieredL1, tieredL1L2, tieredL2, uncached } from '../contenders/index.js'
import type { ScenarioResult } from '../report.js'
import { hotRead } from './hot-read.js'

const args = { where: { id: 42 } }

export async function hotFindUnique(ctx: BenchContext): Promise<ScenarioResult> {
  const call = (client: PrismaClient) => client.user.findUnique(args)
  const map = new Map<number, unknown>([[42, await call(ctx.base)]])
  const floor = ctx.base.$extends({
    model: {
      $allModels: {
        findUnique<T, A>(this: T, a: Prisma.Exact<A, Prisma.Args<T, 'findUnique'>>) {
          const id = (a as { where: { id: number } }).where.id
          return Promise.resolve(map.get(id)) as Prisma.PrismaPromise<Prisma.Result<T, A, 'findUnique'>>
        },
      },
    },
  })
  // the collector's cost on the hot path: L1 only, metrics off, timed in the same rounds as L1 only
  const metricsOff = ctx.base.$extends(withCache({ namespace: `bench-metrics-off-${process.pid}`, metrics: false }))
  const rows = await hotRead(
    ctx,
    [uncached, tieredL1L2, tieredL2, tieredL1, prismaExtensionRedis, bentocache],
    call,
    { uncached: { time: 1500 }, cached: { time: 1000 } },
    [
      { id: 'bare-map', label: 'bare Map in a model override (floor, not a cache)', client: floor as unknown as PrismaClient, index: 1 },
      { id: 'metrics-off', label: 'prisma-tiered-cache L1 only, metrics off', client: metricsOff as unknown as PrismaClient, index: 5 },
    ],
  )

  const byId = (id: string) => rows.find((r) => r.contender === id)!.measurement!.us
  return {
    id: 'hot-find-unique',
    title: 'Hot findUnique by id',
    description:
      '`user.findUnique({ where: { id: 42 } })`, one row, on a warm cache (every cached call is a hit: L1 where the contender has one, else Redis). ' +
      'Each sample is the mean of a batch of sequential awaited calls.',
    baseline: 'uncached',
    rows,
    after: [
      `L1 hit: ${(byId('uncached') / byId('tiered-l1l2')).toFixed(0)}× faster than uncached, ${(byId('tiered-l1l2') / byId('bare-map')).toFixed(2)}× the bare-Map floor. ` +
        `L2 hit (L1 off): ${(byId('uncached') / byId('tiered-l2')).toFixed(1)}× faster than uncached.`,
      `Metrics collection on the L1 hit path: ${byId('tiered-l1').toFixed(3)} µs on, ${byId('metrics-off').toFixed(3)} µs off ` +
        `(${((byId('tiered-l1') / byId('metrics-off') - 1) * 100).toFixed(1)}%; the budget is 10%).`,
    ],
  }
}
