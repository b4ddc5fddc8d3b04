import type { Cluster, Redis } from 'ioredis'
import { ALL, type RedisKeys } from '../keys/names.js'
import { freshGeneration, hashTag, type ServerIdentity } from './identity.js'
import type { ErrorCounter, RedisGuard } from './redis-guard.js'
import type { Scripts } from './scripts.js'

/** A hash tag whose master was checked: trusted while ioredis maps its slot to that node, on that socket. */
interface Checked {
  slot: number
  node: string
  redis: Redis
  stream: object | undefined
}

/**
 * Redis Cluster: every master is a server of its own, so the check is made per master, for the
 * hash tags a call touches. A tag is trusted while ioredis routes its slot to the node checked for
 * it over the same socket: a failover (ioredis re-points the slot on the MOVED reply, before it
 * resends) and a restart in place (a new socket) both make it untrusted until checked again.
 * A check asks each new master for its identity (`run_id` and replication id; a promoted replica
 * takes a new replication id) and runs lua/servers-2.lua on the global counter's slot, which
 * renews the global counter unless every identity is already recorded: two round trips per
 * reconnect or failover, against one on standalone Redis (test/tiers/cluster-failover.test.ts).
 */
export class ClusterIdentity implements ServerIdentity {
  /** By hash tag: tags are per model, tag and relation (keys/names.ts), so bounded by the schema and the tags used. */
  private readonly checked = new Map<string, Checked>()
  /** Masters whose identity this process recorded, with the socket it came over. */
  private readonly verified = new WeakMap<Redis, object | undefined>()
  /** Checks completed: an answer in flight while one completes is not trusted (see `still`). */
  private checks = 0
  private checking: Promise<boolean> = Promise.resolve(true)

  constructor(
    private readonly cluster: Cluster,
    private readonly keys: RedisKeys,
    private readonly scripts: Scripts,
    private readonly guard: RedisGuard,
  ) {}

  current(keys: readonly string[]): boolean {
    for (const key of keys) if (!this.tagCurrent(hashTag(key))) return false
    return true
  }

  token(): unknown {
    return this.checks
  }

  still(token: unknown, keys: readonly string[]): boolean {
    return token === this.checks && this.current(keys)
  }

  /** One check at a time: a caller arriving meanwhile checks what is still unchecked after it. */
  check(keys: readonly string[], errors?: ErrorCounter): Promise<boolean> {
    const run = this.checking.then(() => this.current(keys) || this.checkNow(keys, errors))
    this.checking = run.catch(() => false)
    return run
  }

  private tagCurrent(tag: string): boolean {
    const seen = this.checked.get(tag)
    return seen !== undefined && this.cluster.slots[seen.slot]?.[0] === seen.node && streamOf(seen.redis) === seen.stream
  }

  private async checkNow(keys: readonly string[], errors: ErrorCounter | undefined): Promise<boolean> {
    // before its first slot table (a client still connecting), a command waits in ioredis's queue
    const needed = this.mastersOf(keys) ?? ((await this.guard.run(errors, () => this.cluster.ping())) ? this.mastersOf(keys) : undefined)
    if (needed === undefined) return false
    // Every other master not recorded yet comes along: a master first recorded later would renew
    // the global counter then, and turn what was cached meanwhile into misses (write-rules.test.ts,
    // patterns on Cluster). A node that is no master any more is left out.
    const others = this.cluster.nodes('master').filter((redis) => !needed.some((m) => m.redis === redis) && !this.recorded(redis))
    const identities = await this.guard.run(errors, () =>
      Promise.all([...needed.map((m) => identityOf(m.redis)), ...others.map((redis) => identityOf(redis).catch(() => undefined))]),
    )
    if (identities === undefined || identities.slice(0, needed.length).includes(undefined)) return false
    const known = identities.filter((identity) => identity !== undefined)
    const renewed = await this.guard.run(errors, () => this.scripts.servers(this.keys.knownServers, this.keys.counter(ALL), freshGeneration(), known))
    if (renewed === undefined) return false
    this.checks++
    others.forEach((redis, i) => identities[needed.length + i] !== undefined && this.verified.set(redis, streamOf(redis)))
    for (const master of needed) {
      // no socket before the first connection: the identity came over the one made for it
      if (master.stream !== undefined && master.stream !== streamOf(master.redis)) continue
      this.verified.set(master.redis, streamOf(master.redis))
      for (const { tag, slot } of master.tags) {
        if (this.cluster.slots[slot]?.[0] === master.node) this.checked.set(tag, { slot, node: master.node, redis: master.redis, stream: streamOf(master.redis) })
      }
    }
    return this.current(keys)
  }

  /** Whether a master's identity was recorded over the socket it has now. */
  private recorded(redis: Redis): boolean {
    return this.verified.has(redis) && this.verified.get(redis) === streamOf(redis)
  }

  /** The masters ioredis routes the untrusted tags of `keys` to; undefined while a slot has none known. */
  private mastersOf(keys: readonly string[]) {
    const masters = new Map<string, { node: string; redis: Redis; stream: object | undefined; tags: Array<{ tag: string; slot: number }> }>()
    for (const tag of new Set(keys.map(hashTag))) {
      if (this.tagCurrent(tag)) continue
      const slot = keySlot(tag)
      const node = this.cluster.slots[slot]?.[0]
      const redis = node === undefined ? undefined : this.nodeAt(node)
      if (node === undefined || redis === undefined) return undefined
      let master = masters.get(node)
      if (master === undefined) masters.set(node, (master = { node, redis, stream: streamOf(redis), tags: [] }))
      master.tags.push({ tag, slot })
    }
    return [...masters.values()]
  }

  /** ioredis's client for a node key of its slot table (through its NAT map, when one is set). */
  private nodeAt(node: string): Redis | undefined {
    const mapped = (this.cluster as unknown as { natMapper?: (key: string) => { host: string; port: number } }).natMapper?.(node)
    const key = mapped === undefined ? node : `${mapped.host}:${mapped.port}`
    return this.cluster.nodes('all').find((redis) => `${redis.options.host}:${redis.options.port}` === key)
  }
}

function streamOf(redis: Redis): object | undefined {
  return (redis as { stream?: object }).stream
}

/** `<run_id>:<master_replid>` of a node that is a master now; undefined for a replica. */
async function identityOf(redis: Redis): Promise<string | undefined> {
  const [server, replication] = await Promise.all([redis.info('server'), redis.info('replication')])
  if (!/^role:master\s*$/m.test(replication)) return undefined
  return `${/^run_id:(\w+)/m.exec(server)?.[1]}:${/^master_replid:(\w+)/m.exec(replication)?.[1]}`
}

/**
 * Redis Cluster's hash slot of a hash tag: CRC16/XMODEM of its UTF-8 bytes, modulo 16384
 * (the Redis Cluster specification). Checked against `CLUSTER KEYSLOT` in cluster-failover.test.ts.
 */
export function keySlot(tag: string): number {
  let crc = 0
  for (const byte of Buffer.from(tag, 'utf8')) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc % 16384
}
