import { safeError } from '../errors.js'
import { randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { CacheLogger } from '../config/options.js'

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
  /** The subscription is lost (or, `closed`, its owner closed it): messages may be missed from now on. */
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
  private up = false
  /** Closed by its owner: the connection going away is expected, not a lost bus. */
  private closed = false

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly channel: string,
    private readonly events: BusEvents,
    private readonly logger: CacheLogger | undefined,
  ) {
    this.subscriber = redis.duplicate()
    this.subscriber.on('message', (channel: string, text: string) => this.receive(channel, text))
    this.subscriber.on('ready', () => void this.subscribe())
    this.subscriber.on('close', () => this.down())
    this.subscriber.on('end', () => this.down())
    this.subscriber.on('error', () => this.down())
    void this.subscribe() // connects a lazy client too; ioredis resubscribes after reconnects
  }

  get connected(): boolean {
    return this.up
  }

  publish(names: string[]): Promise<unknown> {
    const message: BusMessage = { o: this.origin, n: names, t: Date.now() }
    return this.redis.publish(this.channel, JSON.stringify(message))
  }

  /** Resolves once subscribed (for tests and startup ordering). */
  async ready(): Promise<void> {
    while (!this.up) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  close(): void {
    this.closed = true
    this.subscriber.disconnect()
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel)
      if (!this.up) {
        this.up = true
        this.events.onUp()
      }
    } catch (error) {
      this.logger?.warn({ err: safeError(error) }, 'prisma-tiered-cache: bus subscription failed')
      this.down()
    }
  }

  private down(): void {
    if (!this.up) return
    this.up = false
    this.events.onDown(this.closed)
  }

  private receive(channel: string, text: string): void {
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
