import type { Redis } from 'ioredis'

/** Deletes every key matching a glob: SCAN + UNLINK in pages, never KEYS. Returns how many. */
export async function scanUnlink(redis: Redis, match: string): Promise<number> {
  let cursor = '0'
  let deleted = 0
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    if (keys.length) deleted += await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
  return deleted
}

/** Every key matching a glob, by SCAN. */
export async function scanKeys(redis: Redis, match: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    found.push(...keys)
    cursor = next
  } while (cursor !== '0')
  return found
}
