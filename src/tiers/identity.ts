import { randomInt } from 'node:crypto'
import type { Redis } from 'ioredis'
import { ALL, type RedisKeys } from '../keys/names.js'
import type { ErrorCounter, RedisGuard } from './redis-guard.js'
import type { Scripts } from './scripts.js'

/**
 * Which Redis servers L2 talks to, checked before any L2 answer read from them is served: a server
 * that restarted from disk or took over from a master may hold counters that went back in time
 * together with the entries that recorded them. A new identity renews the global counter every
 * entry records, so that every entry stored before it is a miss (test/tiers/faults.test.ts,
 * test/tiers/cluster-failover.test.ts).
 *
 * Each call of L2 takes a `token()` before it is sent and trusts its answer only if `still()`
 * holds after it: ioredis resends what a dropped connection left unanswered, so a reply can come
 * from a server that was not checked when the call was sent.
 */
export interface ServerIdentity {
  /** Whether the servers holding `keys` now have been checked: the L2 path's test, no I/O. */
  current(keys: readonly string[]): boolean
  /** Checks the servers holding `keys`; false when Redis did not answer (L2 is then not used). */
  check(keys: readonly string[], errors?: ErrorCounter): Promise<boolean>
  token(): unknown
  still(token: unknown, keys: readonly string[]): boolean
}

/** ioredis's socket: a new object on every (re)connection, so identity comparison tells them apart. */
type Connection = object | undefined

/**
 * Standalone Redis: one connection, checked on every new socket by lua/epoch-2.lua, which compares
 * the server's `run_id` and replication id with those recorded in `<ns>:{*}:server` (one round trip).
 */
export class StandaloneIdentity implements ServerIdentity {
  private checked: Connection | null = null
  private checking: Promise<boolean> | undefined

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly scripts: Scripts,
    private readonly guard: RedisGuard,
  ) {}

  private connection(): Connection {
    return (this.redis as { stream?: object }).stream
  }

  current(): boolean {
    return this.checked === this.connection()
  }

  token(): unknown {
    return this.connection()
  }

  still(token: unknown): boolean {
    return token === this.connection() && this.current()
  }

  check(_keys: readonly string[], errors?: ErrorCounter): Promise<boolean> {
    this.checking ??= this.checkNow(errors).finally(() => (this.checking = undefined))
    return this.checking
  }

  private async checkNow(errors: ErrorCounter | undefined): Promise<boolean> {
    const connection = this.connection()
    const done = await this.guard.run(errors, () => this.scripts.epoch(this.keys.serverIdentity, this.keys.counter(ALL), freshGeneration()))
    // no socket before the first connection: the call went over the one made for it
    if (done === undefined || (connection !== undefined && connection !== this.connection())) return false
    this.checked = this.connection()
    return true
  }
}

/** A counter set afresh takes a random value, so that a lost or renewed counter never repeats an old one. */
export function freshGeneration(): string {
  return String(randomInt(1, 2 ** 47))
}

/** The part of a key between its first `{` and the next `}`: what Redis Cluster hashes. */
export function hashTag(key: string): string {
  const open = key.indexOf('{')
  const close = open < 0 ? -1 : key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : key
}
