// Scenario: hot reads. A findUnique by id, and a findMany with include returning 100 rows, each
// uncached, from this library's L1, and from its L2 alone (L1 disabled); for findUnique also a bare
// Map behind a model override (the floor any cache on Prisma's extension API can reach). One run.
import type { Redis } from 'ioredis'
import { Prisma, type PrismaClient } from '../generated/prisma/client.js'
import { withCache } from '../src/index.js'
import { measure, table, type Measurement } from './harness.js'

export async function hotReadScenarios(base: PrismaClient, redis: Redis): Promise<{ markdown: string; results: Measurement[] }> {
  const namespace = `bench${process.pid}`
  const l1 = base.$extends(withCache({ namespace }))
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
  ].join('\n')
  return { markdown, results }
}
