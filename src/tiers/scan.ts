import type { Cluster, Redis } from 'ioredis'

export function isCluster(redis: Redis | Cluster): redis is Cluster {
  return 'nodes' in redis && typeof redis.nodes === 'function'
}

/**
 * SCAN + UNLINK of every key matching a glob, on every master (never KEYS). ioredis prefixes
 * the keys of commands with the client's `keyPrefix` but not SCAN's pattern, nor the keys SCAN
 * returns: the prefix is added to the one and taken off the other (test/invalidation/write-rules.test.ts).
 */
export async function scanAndUnlink(redis: Redis | Cluster, match: string): Promise<void> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis]
  const pattern = escapeGlob(keyPrefixOf(redis)) + match
  for (const node of nodes) {
    const added = keyPrefixOf(node) // what this node's own commands add to the keys given
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      if (keys.length) await Promise.all(keys.map((key) => node.unlink(key.startsWith(added) ? key.slice(added.length) : key)))
      cursor = next
    } while (cursor !== '0')
  }
}

function keyPrefixOf(redis: Redis | Cluster): string {
  const options = redis.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } }
  return options.keyPrefix ?? options.redisOptions?.keyPrefix ?? ''
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
