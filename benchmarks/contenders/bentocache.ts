// bentocache 1.6.1 as a user wires it into Prisma by hand: one BentoCache with a memory L1 and a
// Redis L2, and a `query: { $allModels: { $allOperations } }` extension that serves reads through
// `getOrSet` under a namespace per model, keyed by operation + JSON.stringify(args), and clears the
// written model's namespace after every write (`namespace.clear()`: the L1's matching keys, and a
// SCAN + UNLINK of the namespace prefix in Redis). No bus: one process. Its `cache:hit` /
// `cache:miss` events (one per getOrSet) count hits and misses for the hit rate.
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisDriver } from 'bentocache/drivers/redis'
import { Redis } from 'ioredis'
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { ContenderFactory } from './types.js'

const READS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy'])

export const bentocache: ContenderFactory = {
  id: 'bentocache',
  label: 'bentocache 1.6.1 L1+L2',
  caches: true,
  redis: true,
  description:
    'Hand-wired query hook: reads via `namespace(model).getOrSet({ key: op + JSON.stringify(args) })`, memory L1 (LRU, 64 MB) + Redis L2; a write `clear()`s its model\'s namespace.',
  create: ({ base, prefix, redisUrl }) => {
    const redis = new Redis(redisUrl)
    const bento = new BentoCache({
      default: 'cache',
      prefix,
      ttl: '60s',
      stores: {
        cache: bentostore()
          .useL1Layer(memoryDriver({ maxItems: 250_000, maxSize: '64mb' }))
          .useL2Layer(redisDriver({ connection: redis })),
      },
    })
    let hits = 0
    let misses = 0
    bento.on('cache:hit', () => void hits++)
    bento.on('cache:miss', () => void misses++)
    const namespaces = new Map<string, ReturnType<typeof bento.namespace>>()
    const namespace = (model: string) => {
      let ns = namespaces.get(model)
      if (ns === undefined) namespaces.set(model, (ns = bento.namespace(model)))
      return ns
    }
    const client = base.$extends({
      name: 'bentocache-by-hand',
      query: {
        $allModels: {
          async $allOperations({ model, operation, args, query }) {
            if (READS.has(operation)) {
              return namespace(model).getOrSet({ key: `${operation}:${JSON.stringify(args)}`, factory: () => query(args) })
            }
            const result = await query(args)
            await namespace(model).clear()
            return result
          },
        },
      },
    })
    return {
      id: 'bentocache',
      label: 'bentocache 1.6.1 L1+L2',
      client: client as unknown as PrismaClient,
      redisPrefix: prefix,
      isEntryKey: () => true,
      cacheStats: () => ({ hits, misses }),
      reset: () => bento.clear(),
      close: async () => {
        await redis.quit()
      },
    }
  },
}
