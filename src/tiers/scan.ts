import type { Cluster, Redis } from 'ioredis'

export function isCluster(redis: Redis | Cluster): redis is Cluster {
  return 'nodes' in redis && typeof redis.nodes === 'function'
}

/** SCAN + UNLINK of every key matching a glob, on every master (never KEYS). */
export async function scanAndUnlink(redis: Redis | Cluster, match: string): Promise<void> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis]
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 500)
      if (keys.length) await Promise.all(keys.map((key) => node.unlink(key)))
      cursor = next
    } while (cursor !== '0')
  }
}
