import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'

/**
 * The Lua scripts of src/tiers/lua/, registered once per client with `defineCommand` under
 * version-suffixed names (ioredis then sends EVALSHA, and the script text only on NOSCRIPT), each
 * behind a typed wrapper so that no caller builds KEYS/ARGV by hand. File names say how many keys
 * a script takes: `<name>-<numberOfKeys>.lua`, or `<name>-n.lua` for any number.
 */
const VERSION = 'v1'
const SCRIPTS = {
  generation: 'generation-1',
  bumpMany: 'bump-n',
  store: 'store-3',
  lease: 'lease-2',
  release: 'release-1',
  renew: 'renew-1',
  epoch: 'epoch-2',
  servers: 'servers-2',
} as const

type Command = (...args: Array<string | Buffer | number>) => Promise<unknown>

export interface Scripts {
  /** Current value of a generation counter, created at `initial` (expiring after `ttlMs`, 0: never) when missing. */
  generation(key: string, initial: string, ttlMs: number): Promise<string>
  /** Moves counters of one slot on in one call, each missing one created at `initial`, each with its own expiry (0: never). */
  bumpMany(keys: readonly string[], initial: string, ttlsMs: readonly number[]): Promise<void>
  /**
   * Stores `entry` if the generation at `generationKey` is still `seen` (true when stored), and
   * releases the lease `token` holds (`''`: none).
   */
  store(entryKey: string, generationKey: string, leaseKey: string, seen: string, entry: Buffer, ttlMs: number, token: string): Promise<boolean>
  /** Takes a lease with `token` if free; also says whether the entry exists now. */
  lease(leaseKey: string, entryKey: string, token: string, ttlMs: number): Promise<{ taken: boolean; entryExists: boolean }>
  /** Deletes a lease if `token` still holds it. */
  release(leaseKey: string, token: string): Promise<boolean>
  /** Extends a lease if `token` still holds it. */
  renew(leaseKey: string, token: string, ttlMs: number): Promise<boolean>
  /** Renews `allKey` at `fresh` unless `ownerKey` already records this server's run_id (true when renewed). */
  epoch(ownerKey: string, allKey: string, fresh: string): Promise<boolean>
  /** Cluster: renews `allKey` at `fresh` unless the set `knownKey` holds every one of `identities` (true when renewed). */
  servers(knownKey: string, allKey: string, fresh: string, identities: readonly string[]): Promise<boolean>
}

export function registerScripts(redis: Redis | Cluster): Scripts {
  const commands = redis as unknown as Record<string, Command>
  for (const file of Object.values(SCRIPTS)) {
    const name = commandName(file)
    if (typeof commands[name] === 'function') continue
    const lua = readFileSync(new URL(`./lua/${file}.lua`, import.meta.url), 'utf8')
    // `<name>-n.lua` takes any number of keys: its callers pass the count first
    const keys = /-(\d+)$/.exec(file)
    redis.defineCommand(name, keys ? { numberOfKeys: Number(keys[1]), lua } : { lua })
  }
  // looked up at each call, not bound once: tests (and tracing wrappers) can wrap a command
  const call = (file: string) => (...args: Array<string | Buffer | number>) => commands[commandName(file)]!.apply(redis, args)
  const generation = call(SCRIPTS.generation)
  const bumpMany = call(SCRIPTS.bumpMany)
  const store = call(SCRIPTS.store)
  const lease = call(SCRIPTS.lease)
  const release = call(SCRIPTS.release)
  const renew = call(SCRIPTS.renew)
  const epoch = call(SCRIPTS.epoch)
  const servers = call(SCRIPTS.servers)
  return {
    generation: async (key, initial, ttlMs) => String(await generation(key, initial, ttlMs)),
    bumpMany: async (keys, initial, ttlsMs) => void (await bumpMany(keys.length, ...keys, initial, ...ttlsMs)),
    store: async (entryKey, generationKey, leaseKey, seen, entry, ttlMs, token) =>
      (await store(entryKey, generationKey, leaseKey, seen, entry, ttlMs, token)) === 1,
    lease: async (leaseKey, entryKey, token, ttlMs) => {
      const [taken, exists] = (await lease(leaseKey, entryKey, token, ttlMs)) as [number, number]
      return { taken: taken === 1, entryExists: exists === 1 }
    },
    release: async (leaseKey, token) => (await release(leaseKey, token)) === 1,
    renew: async (leaseKey, token, ttlMs) => (await renew(leaseKey, token, ttlMs)) === 1,
    epoch: async (ownerKey, allKey, fresh) => (await epoch(ownerKey, allKey, fresh)) === 1,
    servers: async (knownKey, allKey, fresh, identities) => (await servers(knownKey, allKey, fresh, ...identities)) === 1,
  }
}

function commandName(file: string): string {
  return `ptc_${file.replace(/-(\d+|n)$/, '')}_${VERSION}`
}
