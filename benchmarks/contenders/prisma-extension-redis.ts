// prisma-extension-redis 5.0.0 wired as its README's quick start: auto-caching of every read
// operation on Redis (`type: 'STRING'`: our Redis 7 has no RedisJSON module), write invalidation
// (`auto.invalidateOnWrite`: a write SCANs and UNLINKs the written model's auto-cache keys), our
// own ioredis client, and a key prefix of its own. Values are stored as JSON text. Its `onHit` /
// `onMiss` hooks count hits and misses for the hit rate (counting only, no behaviour).
import { Redis } from 'ioredis'
import { PrismaExtensionRedis } from 'prisma-extension-redis'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { scanUnlink } from '../redis-keys.js'
import type { ContenderFactory } from './types.js'

export const prismaExtensionRedis: ContenderFactory = {
  id: 'prisma-extension-redis',
  label: 'prisma-extension-redis 5.0.0',
  caches: true,
  redis: true,
  description:
    'Auto-caches reads in Redis as JSON (query hook, request coalescing); a write SCAN+UNLINKs its own model\'s keys (`auto.invalidateOnWrite`).',
  create: ({ base, prefix, redisUrl }) => {
    const redis = new Redis(redisUrl)
    let errors = 0
    // its own hooks, counted for the hit rate (a read coalesced into another in flight fires neither)
    let hits = 0
    let misses = 0
    const client = base.$extends(
      PrismaExtensionRedis({
        config: {
          ttl: 60,
          stale: 0,
          type: 'STRING',
          cacheKey: { prefix },
          auto: { invalidateOnWrite: true, ttl: 60, stale: 0 },
          onError: () => void errors++,
          onHit: () => void hits++,
          onMiss: () => void misses++,
        },
        client: redis,
      }),
    )
    return {
      id: 'prisma-extension-redis',
      label: 'prisma-extension-redis 5.0.0',
      client: client as unknown as PrismaClient,
      redisPrefix: prefix,
      isEntryKey: () => true,
      errors: () => errors,
      cacheStats: () => ({ hits, misses }),
      reset: () => scanUnlink(redis, `${prefix}:*`).then(() => {}),
      close: async () => {
        await redis.quit()
      },
    }
  },
}
