import type { Cluster, Redis } from 'ioredis'
import { isPerValue, type CounterName, type RedisKeys } from '../keys/names.js'
import type { LeaseStore } from '../stampede/lease.js'
import { packEntry, unpackEntry, type L2Entry } from './entry.js'
import { ClusterIdentity } from './cluster-identity.js'
import { freshGeneration, hashTag, StandaloneIdentity, type ServerIdentity } from './identity.js'
import type { ErrorCounter, RedisGuard } from './redis-guard.js'
import { isCluster } from './scan.js'
import { registerScripts, type Scripts } from './scripts.js'

export type { L2Entry } from './entry.js'

/** An L2 lookup: the entry if one is stored, and the current generations of the dependencies. */
export interface L2Lookup {
  entry: L2Entry | undefined
  generations: string[]
}

/**
 * Invalidations of this process that have not reached Redis yet (invalidation/outbox.ts). While
 * any wait, Redis's counters may be behind this process's writes, so L2 is not read.
 */
export interface PendingInvalidations {
  idle(): boolean
  /** Applies what waits; false when Redis refused. */
  flush(): Promise<boolean>
}

/**
 * The Redis tier: entries, their counters and leases (key layout in keys/names.ts), every call
 * through the guard. Reads wait for this process's pending invalidations first.
 */
export class L2 implements LeaseStore {
  private readonly scripts: Scripts
  private readonly cluster: boolean
  private readonly identity: ServerIdentity
  private pending: PendingInvalidations = { idle: () => true, flush: async () => true }

  constructor(
    private readonly redis: Redis | Cluster,
    readonly keys: RedisKeys,
    readonly guard: RedisGuard,
    /** Lifetime of per-value counters: longer than any entry that records them. */
    private readonly counterTtlMs: number,
  ) {
    this.scripts = registerScripts(redis)
    this.cluster = isCluster(redis)
    this.identity = isCluster(redis)
      ? new ClusterIdentity(redis, keys, this.scripts, guard)
      : new StandaloneIdentity(redis as Redis, keys, this.scripts, guard)
  }

  /**
   * Per-value counters (one per row value read or written) expire, so that Redis's memory does
   * not grow with every value ever seen. An expired counter reads as unknown (created again at a
   * random value): entries that recorded it become misses, never current.
   */
  private ttlOf(name: CounterName): number {
    return isPerValue(name) ? this.counterTtlMs : 0
  }

  /** Wired once by the composition root: the outbox sits above this tier. */
  waitFor(pending: PendingInvalidations): void {
    this.pending = pending
  }

  /**
   * Reads an entry and the current generations of its dependencies in one round trip.
   * `undefined` when Redis cannot be trusted now. A failure also counts on `errors`, the reader's counters.
   */
  async lookup(entryKey: string, dependencies: readonly CounterName[], errors?: ErrorCounter): Promise<L2Lookup | undefined> {
    return (await this.lookupMany([{ entryKey, dependencies }], errors))?.[0]
  }

  /**
   * Many entries and the union of their dependencies' generations, in one round trip (two when a
   * counter is missing, rare: it is then created).
   */
  async lookupMany(
    requests: ReadonlyArray<{ entryKey: string; dependencies: readonly CounterName[] }>,
    errors?: ErrorCounter,
  ): Promise<L2Lookup[] | undefined> {
    const names = [...new Set(requests.flatMap((r) => r.dependencies))]
    const counterKeys = names.map((name) => this.keys.counter(name))
    const keys = [...requests.map((r) => r.entryKey), ...counterKeys]
    if (!this.ready(keys) && !(await this.usable(keys, errors))) return undefined
    const token = this.identity.token()
    const found = await this.guard.run(errors, async () => {
      const perValue = counterKeys.filter((_, i) => isPerValue(names[i]!))
      const values = await this.read(keys, perValue)
      const counters = await this.known(names, values.slice(requests.length))
      const generations = new Map(names.map((name, i) => [name, counters[i]!]))
      return requests.map((r, i) => {
        const raw = values[i]!
        return { entry: raw === null ? undefined : unpackEntry(raw), generations: r.dependencies.map((n) => generations.get(n)!) }
      })
    })
    // answered over a connection made since (ioredis resends what a dropped one left unanswered)
    // or by a master Cluster failed over to, not checked yet: not trusted (test/tiers/faults.test.ts)
    return this.identity.still(token, keys) ? found : undefined
  }

  /**
   * Plain reads, no script: one MGET on standalone Redis (a script costs Redis ~10 µs a call, and
   * a large value passed through Lua ~170 µs more); on Cluster, where the keys live in several
   * slots, concurrent GETs, which ioredis writes out together per node.
   *
   * Per-value counters are new on the first read of a row value (most misses of a cold row), so
   * each is created if missing, at a random value with its TTL (`SET NX PX`), ahead of the read
   * and in the same round trip (a pipeline; on Cluster the commands of each node go out
   * together), instead of a second round trip once the read found them missing
   * (benchmarks/scenarios/miss-cost.ts).
   */
  private read(keys: string[], perValue: readonly string[]): Promise<Array<Buffer | null>> {
    const redis = this.redis
    const initial = (key: string) => [key, freshGeneration(), 'PX', this.counterTtlMs, 'NX'] as const
    if (this.cluster) {
      for (const key of perValue) void redis.set(...initial(key)).catch(() => {})
      return Promise.all(keys.map((key) => redis.getBuffer(key)))
    }
    if (perValue.length === 0) return redis.mgetBuffer(keys)
    const pipeline = redis.pipeline()
    for (const key of perValue) pipeline.set(...initial(key))
    pipeline.mgetBuffer(keys)
    return pipeline.exec().then((replies) => {
      const [error, values] = replies![replies!.length - 1]!
      if (error) throw error
      return values as Array<Buffer | null>
    })
  }

  /**
   * The counters' values, a missing one created first (generation-1.lua): missing means unknown
   * (Redis restarted, flushed or evicted it), never zero, and no entry can match a new counter.
   */
  private known(names: readonly CounterName[], values: ReadonlyArray<Buffer | null>): string[] | Promise<string[]> {
    if (!values.includes(null)) return values.map((value) => value!.toString('latin1')) // nearly always
    return Promise.all(
      values.map((value, i) => (value === null ? this.scripts.generation(this.keys.counter(names[i]!), freshGeneration(), this.ttlOf(names[i]!)) : value.toString('latin1'))),
    )
  }

  /**
   * Stores a read's result, unless the generation of its target model (the first dependency,
   * `target`) moved since `entry.seen` was read.
   */
  async store(entryKey: string, target: CounterName, entry: L2Entry, ttlMs: number, errors?: ErrorCounter, leaseToken = ''): Promise<void> {
    if (!this.ready([entryKey]) && !(await this.usable([entryKey]))) return
    await this.guard.run(errors, () =>
      this.scripts.store(entryKey, this.keys.counter(target), this.keys.lease(entryKey), entry.seen[0]!, packEntry(entry), ttlMs, leaseToken),
    )
  }

  /** Current values of counters, for `consistency: 'strict'` L1 hits; `undefined` if unknown now. */
  async generations(names: readonly CounterName[]): Promise<string[] | undefined> {
    const keys = names.map((name) => this.keys.counter(name))
    if (!this.ready(keys) && !(await this.usable(keys))) return undefined
    const token = this.identity.token()
    const values = await this.guard.run(undefined, async () => this.known(names, await this.read(keys, [])))
    return this.identity.still(token, keys) ? values : undefined
  }

  /**
   * Moves counters on in Redis (a missing one is created at a random value, never from zero):
   * one script call per hash slot (a write's counters are mostly its model's, one slot), one for
   * all on standalone Redis. When Redis refuses the script (`maxmemory` with `noeviction` refuses
   * every write that may allocate), the counters are deleted instead, which Redis allows under
   * OOM: a missing counter comes back at a random value, so the entries that recorded it never
   * match again (test/tiers/faults.test.ts, "maxmemory").
   */
  async bump(names: readonly CounterName[]): Promise<void> {
    const bySlot = new Map<string, { keys: string[]; ttls: number[] }>()
    for (const name of names) {
      const key = this.keys.counter(name)
      const slot = this.cluster ? hashTag(key) : ''
      let group = bySlot.get(slot)
      if (group === undefined) bySlot.set(slot, (group = { keys: [], ttls: [] }))
      group.keys.push(key)
      group.ttls.push(this.ttlOf(name))
    }
    await Promise.all(
      [...bySlot.values()].map(({ keys, ttls }) =>
        this.scripts.bumpMany(keys, freshGeneration(), ttls).catch(async (error: unknown) => {
          if (!isOom(error)) throw error
          await this.redis.unlink(...keys)
        }),
      ),
    )
  }

  async tryLease(entryKey: string, token: string, ttlMs: number): Promise<{ taken: boolean; entryExists: boolean } | undefined> {
    if (!this.ready([entryKey]) && !(await this.usable([entryKey]))) return undefined
    return this.guard.run(undefined, () => this.scripts.lease(this.keys.lease(entryKey), entryKey, token, ttlMs))
  }

  async renewLease(entryKey: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.guard.run(undefined, () => this.scripts.renew(this.keys.lease(entryKey), token, ttlMs))) ?? false
  }

  async releaseLease(entryKey: string, token: string): Promise<void> {
    await this.guard.run(undefined, () => this.scripts.release(this.keys.lease(entryKey), token))
  }

  /** The common case, answered without a promise: nothing pending, breaker closed, servers of `keys` checked. */
  private ready(keys: readonly string[]): boolean {
    return this.pending.idle() && !this.guard.isOpen && this.identity.current(keys)
  }

  /** Whether L2 can be used for `keys` now; a failure of what that takes counts on the reader's `errors`. */
  private async usable(keys: readonly string[], errors?: ErrorCounter): Promise<boolean> {
    if (!this.guard.allow()) return false
    if (!this.identity.current(keys) && !(await this.identity.check(keys, errors))) return false
    return this.pending.idle() || (await this.pending.flush())
  }
}

function isOom(error: unknown): boolean {
  return error instanceof Error && error.message.includes('OOM')
}

