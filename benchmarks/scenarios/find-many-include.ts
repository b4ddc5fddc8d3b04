// Scenario: findMany with include, 100 rows (each post with its author), on a warm cache.
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import { bentocache, prismaExtensionRedis, tieredL1, tieredL1L2, tieredL2, uncached } from '../contenders/index.js'
import type { ScenarioResult } from '../report.js'
import { hotRead } from './hot-read.js'

export const manyArgs = {
  where: { published: true },
  take: 100,
  orderBy: { id: 'asc' as const },
  include: { author: true },
}

export async function findManyInclude(ctx: BenchContext): Promise<ScenarioResult> {
  const call = (client: PrismaClient) => client.post.findMany(manyArgs)
  const rows = await hotRead(ctx, [uncached, tieredL1L2, tieredL2, tieredL1, prismaExtensionRedis, bentocache], call, {
    uncached: { time: 1500 },
    cached: { time: 1000 },
  })
  return {
    id: 'find-many-include',
    title: 'findMany with include, 100 rows',
    description:
      '`post.findMany({ where: { published: true }, take: 100, orderBy: { id: "asc" }, include: { author: true } })` on a warm cache: ' +
      '100 posts (~240 characters of content each) with their authors.',
    baseline: 'uncached',
    rows,
  }
}
