// This library, several ways: L1 (in-process) + L2 (Redis), L2 only (`l1: false`), L1 only (no
// Redis), and L1 + L2 with model-wide invalidation (`invalidation: 'model'`). Reads are
// model-method overrides; writes bump generation counters (in this process and in Redis), so
// nothing is deleted on a write and stale entries are never served. The other rows leave
// `invalidation` at the library's default ('row': a write drops only the cached reads its rows can
// change); `tiered-l1l2-model` pins 'model' (every write drops every cached read of the models it
// touches), so that the two can be compared side by side.
import { Redis } from 'ioredis'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { withCache, type CacheOptions } from '../../src/index.js'
import type { Contender, ContenderContext, ContenderFactory } from './types.js'

type Tiers = 'l1+l2' | 'l1+l2-strict' | 'l2' | 'l1'

function tiered(id: string, label: string, description: string, tiers: Tiers, invalidation?: CacheOptions['invalidation']): ContenderFactory {
  return {
    id,
    label,
    caches: true,
    redis: tiers !== 'l1',
    description,
    create: ({ base, prefix, redisUrl }: ContenderContext): Contender => {
      const redis = tiers === 'l1' ? undefined : new Redis(redisUrl)
      const options: CacheOptions = { namespace: prefix, defaults: { ttl: 60 } }
      if (redis !== undefined) options.redis = redis
      if (tiers === 'l2') options.l1 = false
      if (tiers === 'l1+l2-strict') options.l1 = { consistency: 'strict' }
      if (invalidation !== undefined) options.invalidation = invalidation
      const client = base.$extends(withCache(options))
      return {
        id,
        label,
        client: client as unknown as PrismaClient,
        ...(redis === undefined ? {} : { redisPrefix: prefix, isEntryKey: (key: string) => key.includes(':q:') }),
        errors: () => client.$cache.metrics().redisErrors,
        cacheStats: () => {
          const m = client.$cache.metrics()
          return { hits: m.hits, misses: m.misses, hitsL1: m.hitsL1, hitsL2: m.hitsL2, bypasses: m.bypasses, coalesced: m.coalesced }
        },
        reset: () => client.$cache.invalidateAll(),
        close: async () => {
          client.$cache.close()
          if (redis !== undefined) await redis.quit()
        },
      }
    },
  }
}

export const tieredL1L2 = tiered(
  'tiered-l1l2',
  'prisma-tiered-cache L1+L2',
  "This library: in-process L1 (64 MiB) + Redis L2, generation-counter invalidation at the default granularity (`invalidation: 'row'`: a write drops only the reads its rows can change).",
  'l1+l2',
)
export const tieredL1L2Model = tiered(
  'tiered-l1l2-model',
  'prisma-tiered-cache L1+L2, model-wide invalidation',
  "This library, L1 + L2 as above, with `invalidation: 'model'`: every write drops every cached read of the models it touches.",
  'l1+l2',
  'model',
)
/** Only in the two-process mixed scenario: what `strict` costs, and that it closes the bus window. */
export const tieredL1L2Strict = tiered(
  'tiered-l1l2-strict',
  'prisma-tiered-cache L1+L2 strict',
  "This library with `l1: { consistency: 'strict' }`: every L1 hit first checks Redis's counters (one small round trip). Mixed scenario only.",
  'l1+l2-strict',
)
export const tieredL2 = tiered(
  'tiered-l2',
  'prisma-tiered-cache L2 only',
  'This library with `l1: false`: every read goes to Redis (entry + counters in one MGET).',
  'l2',
)
export const tieredL1 = tiered(
  'tiered-l1',
  'prisma-tiered-cache L1 only',
  'This library without Redis: in-process L1 only.',
  'l1',
)
