import type { Cluster, Redis } from 'ioredis'
import { ALL, type RedisKeys } from '../keys/names.js'
import { freshGeneration, hashTag, type ServerIdentity } from './identity.js'
import type { ErrorCounter, RedisGuard } from './redis-guard.js'
import type { Scripts } from './scripts.js'

/** A master whose identity this process recorded: trusted over that client and socket. */
interface Verified {
  redis: Redis
  stream: object | undefined
}

export class ClusterIdentity implements ServerIdentity {
  /** By node key (ioredis's slot table's `host:port`): as many as the cluster has masters. */
  private readonly verified = new Map<string, Verified>()
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
    for (const key of keys) if (!this.nodeCurrent(this.nodeOf(key))) return false
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

  /** The node ioredis sends a key's commands to now. */
  private nodeOf(key: string): string | undefined {
    return this.cluster.slots[keySlot(hashTag(key))]?.[0]
  }

  private nodeCurrent(node: string | undefined): boolean {
    const seen = node === undefined ? undefined : this.verified.get(node)
    return seen !== undefined && this.instanceAt(node!) === seen.redis && streamOf(seen.redis) === seen.stream
  }

  private async checkNow(keys: readonly string[], errors: ErrorCounter | undefined): Promise<boolean> {
    const needed = this.mastersOf(keys) ?? ((await this.guard.run(errors, () => this.slotTable())) ? this.mastersOf(keys) : undefined)
    if (needed === undefined) return false
    // Every master is checked again, not only the new one: a node recorded once, demoted and
    // promoted again without a reconnect has a new replication id; and a master first recorded
    // later would renew the global counter then, turning what was cached meanwhile into misses
    // (write-rules.test.ts, patterns on Cluster). Checks are rare: a reconnect, a failover.
    this.verified.clear()
    const others = this.cluster
      .nodes('master')
      .map((redis) => ({ node: `${redis.options.host}:${redis.options.port}`, redis, stream: streamOf(redis) }))
      // one whose connection was lost (a killed master ioredis still lists) would hold up the check;
      // one not connected yet ('wait': ioredis connects a node on its first command) comes along
      .filter((other) => !LOST.has(other.redis.status) && !needed.some((m) => m.node === other.node))
    const identities = await this.guard.run(errors, () =>
      Promise.all([...needed.map((m) => identityOf(m.redis)), ...others.map((m) => identityOf(m.redis).catch(() => undefined))]),
    )
    if (identities === undefined || identities.slice(0, needed.length).includes(undefined)) return false
    const known = identities.filter((identity) => identity !== undefined)
    const renewed = await this.guard.run(errors, () => this.scripts.servers(this.keys.knownServers, this.keys.counter(ALL), freshGeneration(), known))
    if (renewed === undefined) return false
    this.checks++
    ;[...needed, ...others].forEach((master, i) => {
      // no socket before the first connection: the identity came over the one made for it
      const stream = streamOf(master.redis)
      if (identities[i] !== undefined && (master.stream === undefined || master.stream === stream)) this.verified.set(master.node, { redis: master.redis, stream })
    })
    return this.current(keys)
  }

  /**
   * A slot table naming a master for every key: a client still connecting has none yet (a command
   * waits in ioredis's queue until it has); one whose table names a node it has dropped (a killed
   * master) asks the cluster again, as ioredis itself does when a command meets a MOVED.
   */
  private slotTable(): Promise<unknown> {
    if (this.cluster.status !== 'ready') return this.cluster.ping()
    return new Promise<void>((resolve, reject) => this.cluster.refreshSlotsCache((error) => (error ? reject(error) : resolve())))
  }

  /** The masters ioredis routes the untrusted keys of `keys` to; undefined while a slot has none known. */
  private mastersOf(keys: readonly string[]): Array<{ node: string; redis: Redis; stream: object | undefined }> | undefined {
    const masters = new Map<string, { node: string; redis: Redis; stream: object | undefined }>()
    for (const key of keys) {
      const node = this.nodeOf(key)
      if (this.nodeCurrent(node) || masters.has(node!)) continue
      const redis = node === undefined ? undefined : this.instanceAt(node)
      if (node === undefined || redis === undefined) return undefined
      masters.set(node, { node, redis, stream: streamOf(redis) })
    }
    return [...masters.values()]
  }

  /** ioredis's client for a node key of its slot table, as ioredis itself finds it when it sends. */
  private instanceAt(node: string): Redis | undefined {
    const pool = (this.cluster as unknown as { connectionPool?: { getInstanceByKey?(key: string): Redis | undefined } }).connectionPool
    return pool?.getInstanceByKey?.(node) ?? this.cluster.nodes('all').find((redis) => `${redis.options.host}:${redis.options.port}` === node)
  }
}

/** ioredis statuses of a client whose connection is gone. */
const LOST = new Set(['reconnecting', 'close', 'end'])

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
  // computed for every key of every L2 call: an ASCII tag (nearly every one) is read without a Buffer
  // eslint-disable-next-line no-control-regex
  const bytes = /^[\x00-\x7f]*$/.test(tag) ? undefined : Buffer.from(tag, 'utf8')
  const length = bytes === undefined ? tag.length : bytes.length
  let crc = 0
  for (let i = 0; i < length; i++) {
    crc ^= (bytes === undefined ? tag.charCodeAt(i) : bytes[i]!) << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc % 16384
}
