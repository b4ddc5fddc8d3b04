// Scenario: a hot findUnique by id. Uncached Prisma, a bare Map behind a model override (the floor
// any cache on Prisma's extension API can reach), and this library's L1 hit, in one run.
import { Prisma, type PrismaClient } from '../generated/prisma/client.js'
import { withCache } from '../src/index.js'
import { measure, table, type Measurement } from './harness.js'

export async function findUniqueScenario(base: PrismaClient): Promise<{ markdown: string; results: Measurement[] }> {
  const args = { where: { id: 42 } }
  const uncached = await measure('uncached Prisma', () => base.user.findUnique(args), { iterations: 200, samples: 7 })

  const map = new Map<string, unknown>()
  map.set('42', await base.user.findUnique(args))
  const floor = base.$extends({
    model: {
      $allModels: {
        findUnique<T, A>(this: T, a: Prisma.Exact<A, Prisma.Args<T, 'findUnique'>>) {
          return Promise.resolve(map.get(String((a as { where: { id: number } }).where.id))) as Prisma.PrismaPromise<
            Prisma.Result<T, A, 'findUnique'>
          >
        },
      },
    },
  })
  const bare = await measure('bare Map in a model override', () => floor.user.findUnique(args), { iterations: 20_000 })

  const cached = base.$extends(withCache())
  const l1 = await measure('prisma-tiered-cache, L1 hit', () => cached.user.findUnique(args), { iterations: 20_000 })

  const results = [uncached, bare, l1]
  const markdown = [
    table('Hot findUnique by id', results, uncached),
    '',
    `L1 hit is ${(uncached.us / l1.us).toFixed(0)}× faster than uncached, ${(l1.us / bare.us).toFixed(2)}× the bare-Map floor.`,
  ].join('\n')
  return { markdown, results }
}
