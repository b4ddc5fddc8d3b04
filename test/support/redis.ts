import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, inject } from 'vitest'

/** The `cluster` test project runs the core suite against a real 3-master Redis Cluster. */
export const onCluster = process.env.PTC_REDIS === 'cluster'

/**
 * Gives the calling test file a Redis client (standalone, or Cluster in the `cluster` project)
 * and a key namespace of its own; every key under the namespace is removed after the file
 * (SCAN + UNLINK on every master: test files share one Redis).
 */
export function useRedis() {
  const ctx = { namespace: `t${randomBytes(4).toString('hex')}` } as { redis: Redis | Cluster; namespace: string; url: string }
  beforeAll(async () => {
    ctx.url = inject('redisUrl')
    if (onCluster) {
      ctx.redis = new Cluster(inject('clusterNodes'), { lazyConnect: true })
    } else {
      ctx.redis = new Redis(ctx.url, { lazyConnect: true })
    }
    await ctx.redis.connect()
  })
  afterAll(async () => {
    // the file's namespace and the per-test ones derived from it (`${namespace}.1`, `-2`, …)
    for (const key of await scanKeys(ctx.redis, `${ctx.namespace}*`)) await ctx.redis.unlink(key)
    ctx.redis.disconnect()
  })
  return ctx
}

/**
 * Namespaces of one test each, `${ctx.namespace}-N` (a namespace cannot contain ':', and useRedis()
 * drops only the file's own keys at the end), each dropped after its test. Call it at file level.
 */
export function freshNamespaces(ctx: { redis: Redis | Cluster; namespace: string }): () => string {
  let count = 0
  const inUse: string[] = []
  afterEach(async () => {
    for (const namespace of inUse.splice(0)) await dropNamespace(ctx.redis, namespace)
  })
  return () => {
    const namespace = `${ctx.namespace}-${count++}`
    inUse.push(namespace)
    return namespace
  }
}

/** Every key matching a glob, from every master. */
export async function scanKeys(redis: Redis | Cluster, match: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis]
  const keys: string[] = []
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000)
      keys.push(...batch)
      cursor = next
    } while (cursor !== '0')
  }
  return keys
}

export async function dropNamespace(redis: Redis | Cluster, namespace: string): Promise<void> {
  // one UNLINK per key: keys of several slots in one command fail on a cluster
  for (const key of await scanKeys(redis, `${namespace}:*`)) await redis.unlink(key)
}
