import { randomInt } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { ALL, type RedisKeys } from '../keys/names.js'
import type { ErrorCounter, RedisGuard } from './redis-guard.js'
import type { Scripts } from './scripts.js'

/** ioredis's socket: a new object on every (re)connection, so identity comparison tells them apart. */
type Connection = object | undefined

/**
 * Which Redis server L2 talks to, checked on every new connection before any L2 answer read on
 * it is served: a server that restarted from disk or took over from a master may hold counters
 * that went back in time (lua/epoch-2.lua renews the global counter then, one round trip).
 *
 * Standalone Redis only: ioredis's Cluster client has no single connection to compare, so there
 * the check runs once, against the master of the global counter's slot (see README, Cluster).
 */
export class ServerIdentity {
  private checked: Connection | null = null
  private checking: Promise<boolean> | undefined

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: RedisKeys,
    private readonly scripts: Scripts,
    private readonly guard: RedisGuard,
  ) {}

  /** The connection answers now go through (compare before and after a call). */
  connection(): Connection {
    return (this.redis as { stream?: object }).stream
  }

  /** Whether the connection in use has been checked: the hot path's test, a property read. */
  current(): boolean {
    return this.checked === this.connection()
  }

  /** Checks the connection in use; false when Redis did not answer (L2 is then not used). */
  check(errors?: ErrorCounter): Promise<boolean> {
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
