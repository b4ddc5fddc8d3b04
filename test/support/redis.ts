import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, inject } from 'vitest'

/**
 * Gives the calling test file a Redis client and a key namespace of its own; every key under the
 * namespace is removed after the file (SCAN + UNLINK: test files share one Redis).
 */
export function useRedis() {
  const ctx = { namespace: `t${randomBytes(4).toString('hex')}` } as { redis: Redis; namespace: string; url: string }
  beforeAll(async () => {
    ctx.url = inject('redisUrl')
    ctx.redis = new Redis(ctx.url, { lazyConnect: true })
    await ctx.redis.connect()
  })
  afterAll(async () => {
    await dropNamespace(ctx.redis, ctx.namespace)
    ctx.redis.disconnect()
  })
  return ctx
}

export async function dropNamespace(redis: Redis, namespace: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000)
    if (keys.length) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
}
