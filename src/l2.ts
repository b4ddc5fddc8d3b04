import { hash, randomInt } from 'node:crypto'
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib'
import type { Cluster, Redis } from 'ioredis'
import { Breaker } from './breaker.js'
import { decode, encode } from './codec.js'
import type { CacheLogger } from './options.js'
import { registerScripts, type Scripts } from './redis-scripts.js'
import type { LeaseStore } from './stampede.js'

/** Counts the Redis failures of one kind of read (metrics.ts's per-operation counters). */
export interface ErrorCounter {
  redisErrors: number
}

/** What an L2 entry carries besides the value. */
export interface L2Entry {
  /** The value, msgpack-encoded (codec.ts). */
  bytes: Uint8Array
  /** Generations of the read's dependencies (same order as its dependency names) when it queried. */
  seen: string[]
  /** Epoch ms after which the entry is no longer fresh. */
  freshUntil: number
}

/** An L2 lookup: the entry if one is stored, and the current generations of the dependencies. */
export interface L2Lookup {
  entry: L2Entry | undefined
  generations: string[]
}

export interface L2Options {
  redis: Redis | Cluster
  namespace: string
  schemaHash: string
  timeoutMs: number
  breaker: { failures: number; cooldownMs: number }
  now: () => number
  logger: CacheLogger | undefined
  /** Every failed or timed-out Redis call, after the breaker counted it. */
  onError: (error: unknown) => void
  /** The breaker opened (Redis is skipped) or closed again. */
  onBreakerChange?: (state: 'open' | 'closed') => void
  /** Announces bumped counters to other processes (the bus), after they are bumped in Redis. */
  publish?: (names: string[]) => Promise<unknown>
}

/** Entry formats; 0 and 1 held values before codec.ts sent Dates as numbers, and now read as misses. */
const RAW = 2
const BROTLI = 3
/**
 * Values above this many encoded bytes are compressed. Brotli at quality 1 made 100 blog rows
 * (28 KB of msgpack) ~15× smaller for ~70 µs to compress and ~45 µs to decompress: worth it for
 * Redis memory on large values, too slow for the hit path of ordinary ones (DESIGN.md, "Codec").
 */
const COMPRESS_ABOVE = 32 * 1024

class RedisTimeout extends Error {}

/**
 * The Redis tier. Keys: `<ns>:{<Model>}:q:<schema>:<hash>` for entries and `<ns>:{<Model>}:gen`
 * for a model's generation, so that an entry and its model's counter share a cluster slot (the
 * store script needs both); tags and the global counter have their own slots. Every call is
 * bounded by a timeout and a circuit breaker: a slow or absent Redis costs the caller a database
 * query, never an error.
 */
export class L2 implements LeaseStore {
  private readonly scripts: Scripts
  private readonly breaker: Breaker
  /**
   * Counters whose bump did not reach Redis (until they do, its entries may be stale), each with
   * a version: a flush forgets only what it applied, not a bump added again while it ran.
   */
  private readonly unbumped = new Map<string, number>()
  private bumpVersion = 0
  /** Tag patterns whose drop failed: applied before L2 is read again. */
  private readonly undropped = new Set<string>()
  private retryTimer: NodeJS.Timeout | undefined
  private flushing: Promise<boolean> | undefined
  private readonly isCluster: boolean

  constructor(private readonly options: L2Options) {
    this.scripts = registerScripts(options.redis)
    this.isCluster = 'nodes' in options.redis && typeof options.redis.nodes === 'function'
    this.breaker = new Breaker(options.breaker.failures, options.breaker.cooldownMs, options.now, (state) => {
      options.onBreakerChange?.(state)
      if (state === 'open') {
        options.logger?.warn({ cooldownMs: options.breaker.cooldownMs }, 'prisma-tiered-cache: Redis unavailable, serving from L1 and the database')
      } else options.logger?.info({}, 'prisma-tiered-cache: Redis is back')
    })
  }

  entryKey(model: string, key: string): string {
    return `${this.options.namespace}:{${model}}:q:${this.options.schemaHash}:${hash('sha1', key, 'base64url')}`
  }

  /** The stampede lease of an entry: same slot, so it is cheap to reason about on Cluster. */
  leaseKey(entryKey: string): string {
    return `${entryKey}:lease`
  }

  /** Counter names are `m:<Model>`, `t:<tag>` or `*` (see generations.ts). */
  generationKey(name: string): string {
    const ns = this.options.namespace
    return name.startsWith('m:') ? `${ns}:{${name.slice(2)}}:gen` : `${ns}:{${name}}:gen`
  }

  /**
   * Reads an entry and the current generations of its dependencies in one round trip.
   * `undefined` when Redis cannot be trusted now. A failure also counts on `errors`, the reader's counters.
   */
  async lookup(entryKey: string, dependencies: readonly string[], errors?: ErrorCounter): Promise<L2Lookup | undefined> {
    return (await this.lookupMany([{ entryKey, dependencies }], errors))?.[0]
  }

  /**
   * Many entries and the union of their dependencies' generations, in one round trip (two when a
   * counter is missing, rare: it is then created).
   */
  async lookupMany(
    requests: ReadonlyArray<{ entryKey: string; dependencies: readonly string[] }>,
    errors?: ErrorCounter,
  ): Promise<L2Lookup[] | undefined> {
    if (!this.ready() && !(await this.usable())) return undefined
    return this.guard(errors, async () => {
      const names = [...new Set(requests.flatMap((r) => r.dependencies))]
      const values = await this.read([...requests.map((r) => r.entryKey), ...names.map((name) => this.generationKey(name))])
      const counters = await this.known(names, values.slice(requests.length))
      const generations = new Map(names.map((name, i) => [name, counters[i]!]))
      return requests.map((r, i) => {
        const raw = values[i]!
        return { entry: raw === null ? undefined : unpackEntry(raw), generations: r.dependencies.map((n) => generations.get(n)!) }
      })
    })
  }

  /**
   * Plain reads, no script: one MGET on standalone Redis (a script costs Redis ~10 µs a call, and
   * a large value passed through Lua ~170 µs more); on Cluster, where the keys live in several
   * slots, concurrent GETs, which ioredis writes out together per node.
   */
  private read(keys: string[]): Promise<Array<Buffer | null>> {
    const redis = this.options.redis
    return this.isCluster ? Promise.all(keys.map((key) => redis.getBuffer(key))) : redis.mgetBuffer(keys)
  }

  /**
   * The counters' values, a missing one created first (generation-1.lua): missing means unknown
   * (Redis restarted, flushed or evicted it), never zero, and no entry can match a new counter.
   */
  private known(names: readonly string[], values: ReadonlyArray<Buffer | null>): string[] | Promise<string[]> {
    if (!values.includes(null)) return values.map((value) => value!.toString('latin1')) // nearly always
    return Promise.all(
      values.map((value, i) => (value === null ? this.scripts.generation(this.generationKey(names[i]!), initialGeneration()) : value.toString('latin1'))),
    )
  }

  /**
   * Stores a read's result, unless the generation of its target model (the first dependency,
   * `target`) moved since `entry.seen` was read.
   */
  async store(entryKey: string, target: string, entry: L2Entry, ttlMs: number, errors?: ErrorCounter, leaseToken = ''): Promise<void> {
    if (!this.ready() && !(await this.usable())) return
    await this.guard(errors, () =>
      this.scripts.store(entryKey, this.generationKey(target), this.leaseKey(entryKey), entry.seen[0]!, packEntry(entry), ttlMs, leaseToken),
    )
  }

  /** Current values of counters, for `consistency: 'strict'` L1 hits; `undefined` if unknown now. */
  async generations(names: readonly string[]): Promise<string[] | undefined> {
    if (!this.ready() && !(await this.usable())) return undefined
    return this.guard(undefined, async () => this.known(names, await this.read(names.map((name) => this.generationKey(name)))))
  }

  async tryLease(entryKey: string, token: string, ttlMs: number): Promise<{ taken: boolean; entryExists: boolean } | undefined> {
    if (!this.ready() && !(await this.usable())) return undefined
    return this.guard(undefined, () => this.scripts.lease(this.leaseKey(entryKey), entryKey, token, ttlMs))
  }

  async renewLease(entryKey: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.guard(undefined, () => this.scripts.renew(this.leaseKey(entryKey), token, ttlMs))) ?? false
  }

  async releaseLease(entryKey: string, token: string): Promise<void> {
    await this.guard(undefined, () => this.scripts.release(this.leaseKey(entryKey), token))
  }

  /**
   * Bumps counters and announces them on the bus. One that does not reach Redis is remembered,
   * and L2 is not read until it does.
   */
  async bump(names: Iterable<string>): Promise<void> {
    for (const name of names) this.unbumped.set(name, ++this.bumpVersion)
    if (!this.breaker.allow()) {
      this.retryLater()
      return
    }
    await this.flush()
  }

  /** Deletes the tag counters matching a glob, in the background: SCAN + UNLINK on every master. */
  dropTagPattern(pattern: string): void {
    void this.scan(pattern).then((done) => {
      if (done) return
      // not applied: L2 is not trusted until it is (flush retries it)
      this.undropped.add(pattern)
      this.retryLater()
    })
  }

  private async scan(pattern: string): Promise<boolean> {
    const match = `${escapeGlob(this.options.namespace)}:{t:${pattern}}:gen`
    try {
      // bounded like every call: a read may be waiting for this retry
      await withTimeout(scanAndUnlink(this.options.redis, match), this.options.timeoutMs)
      return true
    } catch (error) {
      this.options.onError(error)
      this.options.logger?.warn({ err: error, pattern }, 'prisma-tiered-cache: tag pattern invalidation failed, will retry')
      return false
    }
  }

  /** The common case, answered without a promise: nothing pending, breaker closed. */
  private ready(): boolean {
    return this.idle() && !this.breaker.isOpen
  }

  private async usable(): Promise<boolean> {
    if (!this.breaker.allow()) return false
    return this.idle() || (await this.flush())
  }

  /**
   * While invalidations wait for Redis, retry them on a timer too: other processes read L2, and
   * they must stop serving what this one invalidated even if this one stays idle.
   */
  private retryLater(): void {
    if (this.retryTimer !== undefined) return
    this.retryTimer = setInterval(() => {
      if (this.idle()) {
        clearInterval(this.retryTimer)
        this.retryTimer = undefined
        return
      }
      if (this.breaker.allow()) void this.flush()
    }, this.options.breaker.cooldownMs)
    this.retryTimer.unref()
  }

  /**
   * Applies remembered bumps and pattern drops. One flush at a time: concurrent callers (every
   * L2 call of a busy process while a write's bump is on its way) wait for the one in flight and
   * then flush only what it did not cover, instead of bumping the same counters again each.
   */
  private flush(): Promise<boolean> {
    if (this.flushing !== undefined) {
      return this.flushing.then((ok) => ok && (this.idle() || this.flush()))
    }
    this.flushing = this.flushNow().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private idle(): boolean {
    return this.unbumped.size === 0 && this.undropped.size === 0
  }

  private async flushNow(): Promise<boolean> {
    for (const pattern of [...this.undropped]) {
      if (!(await this.scan(pattern))) return false
      this.undropped.delete(pattern)
    }
    const snapshot = [...this.unbumped]
    const pending = snapshot.map(([name]) => name)
    if (pending.length === 0) return true
    const done = await this.guard(undefined, async () => {
      await Promise.all(pending.map((name) => this.scripts.bump(this.generationKey(name), initialGeneration())))
      // after the counters: a process that hears of a bump must find it in Redis already
      await this.options.publish?.(pending)
      return true
    })
    if (done === undefined) {
      this.retryLater()
      return false
    }
    for (const [name, version] of snapshot) if (this.unbumped.get(name) === version) this.unbumped.delete(name)
    return true
  }

  /** Runs a Redis call under the timeout; failures are counted, logged once by the breaker, swallowed. */
  private async guard<T>(errors: ErrorCounter | undefined, call: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await withTimeout(call(), this.options.timeoutMs)
      this.breaker.success()
      return result
    } catch (error) {
      this.breaker.failure()
      if (errors !== undefined) errors.redisErrors++
      this.options.onError(error)
      if (!this.breaker.isOpen) this.options.logger?.warn({ err: error }, 'prisma-tiered-cache: Redis call failed')
      return undefined
    }
  }
}

/** A fresh counter starts at a random value, so that a lost counter never repeats an old one. */
function initialGeneration(): string {
  return String(randomInt(1, 2 ** 47))
}

/** `[format, seen, freshUntil, value bytes]`, the value compressed when large. */
function packEntry(entry: L2Entry): Buffer {
  if (entry.bytes.length <= COMPRESS_ABOVE) return encode([RAW, entry.seen, entry.freshUntil, entry.bytes])
  const packed = brotliCompressSync(entry.bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } })
  return encode([BROTLI, entry.seen, entry.freshUntil, packed])
}

/** `undefined` for anything that is not an entry we wrote: a foreign or corrupt value is a miss. */
function unpackEntry(raw: Buffer): L2Entry | undefined {
  try {
    const [format, seen, freshUntil, bytes] = decode<[number, string[], number, Uint8Array]>(raw)
    if ((format !== RAW && format !== BROTLI) || !Array.isArray(seen) || typeof freshUntil !== 'number' || !(bytes instanceof Uint8Array)) return undefined
    return { seen, freshUntil, bytes: format === BROTLI ? brotliDecompressSync(bytes) : bytes }
  } catch {
    return undefined
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeout(`Redis did not answer within ${ms} ms`)), ms)
  })
  promise.catch(() => {}) // a late failure after the timeout has nobody to tell
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

async function scanAndUnlink(redis: Redis | Cluster, match: string): Promise<void> {
  const nodes = 'nodes' in redis && typeof redis.nodes === 'function' ? redis.nodes('master') : [redis as Redis]
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 500)
      if (keys.length) await Promise.all(keys.map((key) => node.unlink(key)))
      cursor = next
    } while (cursor !== '0')
  }
}
