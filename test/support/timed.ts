import type { PrismaClient } from '../../generated/prisma/client.js'
import { withCache, type CacheOptions } from '../../src/index.js'

export type Delay = (model: string, operation: string, args: { where?: { id?: number } }) => number

/**
 * A client under a query hook that moves a latency clock forward by a known number of
 * milliseconds per query, and cached clients on it that time with that clock: every latency the
 * cache measures is then known exactly, however slow the machine.
 */
export function timedDatabase(prisma: PrismaClient, delay: Delay) {
  const clock = { now: 0 }
  const client = prisma.$extends({
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          const result = await query(args)
          clock.now += delay(model, operation, args as { where?: { id?: number } })
          return result
        },
      },
    },
  })
  const cached = (options: CacheOptions = {}) =>
    client.$extends(withCache({ ...options, metrics: { clock: () => clock.now, ...(options.metrics || {}) } }))
  return { clock, cached }
}

/** A User findUnique by id takes `id` ms, a User findMany 20 ms, a Post read 3 ms, anything else 1 ms. */
export const knownDelays: Delay = (model, operation, args) =>
  model === 'User' && operation === 'findUnique' ? args.where!.id! : model === 'User' && operation === 'findMany' ? 20 : model === 'Post' ? 3 : 1
