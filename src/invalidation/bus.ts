import { randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { CacheError, safeError } from '../errors.js'
import type { CacheLogger } from '../config/options.js'
import { Heartbeat } from './heartbeat.js'

/** A message on the bus: who bumped, and which counters. Never values. */
interface BusMessage {
  o: string
  n: string[]
  /** Epoch ms when published: receivers measure delivery delay from it. */
  t: number
}

export interface BusEvents {
  /** Counters another process bumped. */
  onBumped(names: string[], delayMs: number): void
  /**
   * The subscription is lost, stalled (its heartbeat did not come back in time), or Redis is
   * being skipped (the breaker is open); `closed`: its owner closed it. Messages may be missed.
   */
  onDown(closed: boolean): void
  /** Subscribed again; anything published meanwhile was missed. */
  onUp(): void
}

/**
 * The invalidation bus: Redis pub/sub carrying bumped counter names between processes, so that
 * each process's L1 drops what another process's write invalidated. Delivery is at most once,
 * so the owner treats a lost subscription as "L1 cannot be trusted" until it is back.
 */
export class Bus {
  readonly origin = randomBytes(8).toString('base64url')
  private readonly subscriber: Redis | Cluster
  private subscribed = false
  /** What the owner was last told: subscribed, heard its heartbeat in time, breaker closed. */
  private up = false
  /** Closed by its owner: the connection going away is expected, not a lost bus. */
  private closed = false
  private readonly heartbeat: Heartbeat
  /** Why Redis refused the last subscription attempt (NOPERM, …), until one succeeds. */
  private refused: string | undefined
  /** This process's own channel, for its heartbeat only: nobody else receives it. */
  private readonly heartbeatChannel: string

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly channel: string,
    private readonly events: BusEvents,
    private readonly logger: CacheLogger | undefined,
    /** A heartbeat not back within this is a stalled bus (`l1.degradedTtlMs`). */
    stallMs: number,
  ) {
    this.heartbeatChannel = `${channel}:${this.origin}`
    this.heartbeat = new Heartbeat(stallMs, () => this.redis.publish(this.heartbeatChannel, '1'), () => this.update())
    // ioredis 6 types Redis's and Cluster's duplicate() with different generics: a union not callable as is
    const source: { duplicate(): Redis | Cluster } = redis
    this.subscriber = source.duplicate()
    this.subscriber.on('message', (channel: string, text: string) => this.receive(channel, text))
    this.subscriber.on('ready', () => void this.subscribe())
    this.subscriber.on('close', () => this.lost())
    this.subscriber.on('end', () => this.lost())
    this.subscriber.on('error', () => this.lost())
    void this.subscribe() // connects a lazy client too; ioredis resubscribes after reconnects
  }

  get connected(): boolean {
    return this.up
  }

  /** The latest heartbeat's round trip through Redis pub/sub, ms (health.ts). */
  get roundTripMs(): number | undefined {
    return this.heartbeat.roundTripMs
  }

  publish(names: string[]): Promise<unknown> {
    const message: BusMessage = { o: this.origin, n: names, t: Date.now() }
    return this.redis.publish(this.channel, JSON.stringify(message))
  }

  /**
   * Resolves once subscribed (for tests and startup ordering); rejects when Redis refuses the
   * subscription (an ACL without the channel), or after `boundMs` without it, so that startup
   * code awaiting it never hangs (test/tiers/ready.test.ts).
   */
  async ready(boundMs: number): Promise<void> {
    const deadline = performance.now() + boundMs
    while (!this.up) {
      if (this.refused !== undefined) {
        throw new CacheError('PTC_BUS', `prisma-tiered-cache: Redis refused the subscription to ${this.channel}: ${this.refused}`, { tier: 'l2' })
      }
      if (performance.now() > deadline) {
        throw new CacheError('PTC_BUS', `prisma-tiered-cache: not subscribed to ${this.channel} within ${boundMs} ms; is Redis reachable?`, { tier: 'l2' })
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  close(): void {
    this.closed = true
    this.heartbeat.stop()
    this.subscriber.disconnect()
  }

  /** Redis is skipped while the breaker is open: the bus counts as lost meanwhile. */
  set breakerOpen(open: boolean) {
    this.heartbeat.suspended = open
    this.update()
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel, this.heartbeatChannel)
      this.refused = undefined
      this.subscribed = true
      this.heartbeat.start()
      this.update()
    } catch (error) {
      // Redis's own answer (NOPERM, …) is final; a connection error is retried by ioredis
      if (error instanceof Error && error.name === 'ReplyError') this.refused = safeError(error).message
      this.logger?.warn({ err: safeError(error) }, 'prisma-tiered-cache: bus subscription failed')
      this.lost()
    }
  }

  private lost(): void {
    this.subscribed = false
    this.update()
  }

  /** Tells the owner when the bus becomes trustworthy or stops being so. */
  private update(): void {
    const up = this.subscribed && !this.closed && this.heartbeat.healthy
    if (up === this.up) return
    this.up = up
    if (up) this.events.onUp()
    else this.events.onDown(this.closed)
  }

  private receive(channel: string, text: string): void {
    if (channel === this.heartbeatChannel) return this.heartbeat.heard()
    if (channel !== this.channel) return
    let message: BusMessage
    try {
      message = JSON.parse(text) as BusMessage
    } catch {
      return
    }
    if (message.o === this.origin || !Array.isArray(message.n)) return
    this.events.onBumped(message.n, Date.now() - message.t)
  }
}
