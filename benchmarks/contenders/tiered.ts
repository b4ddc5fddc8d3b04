// This library, three ways: L1 (in-process) + L2 (Redis), L2 only (`l1: false`), L1 only (no
// Redis). Reads are model-method overrides; writes bump per-model generation counters (in this
// process and in Redis), so nothing is deleted on a write and stale entries are never served.
import { Redis } from 'ioredis'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { withCache, type CacheOptions } from '../../src/index.js'
import type { Contender, ContenderContext, ContenderFactory } from './types.js'

function tiered(id: string, label: string, description: string, tiers: 'l1+l2' | 'l1+l2-strict' | 'l2' | 'l1'): ContenderFactory {
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
      const client = base.$extends(withCache(options))
      return {
        id,
        label,
        client: client as unknown as PrismaClient,
        ...(redis === undefined ? {} : { redisPrefix: prefix, isEntryKey: (key: string) => key.includes(':q:') }),
        errors: () => client.$cache.metrics().redisErrors,
        reset: () => client.$cache.invalidateAll(),
        close: async () => {
          if (redis !== undefined) await redis.quit()
        },
      }
    },
  }
}

export const tieredL1L2 = tiered(
  'tiered-l1l2',
  'prisma-tiered-cache L1+L2',
  'This library: in-process L1 (64 MiB) + Redis L2, generation-counter invalidation.',
  'l1+l2',
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
