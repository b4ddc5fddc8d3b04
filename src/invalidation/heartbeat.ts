/**
 * The bus's own liveness check. A Redis that stalls (CLIENT PAUSE, DEBUG SLEEP, a long fork)
 * keeps its sockets open: nothing is delivered and nothing reports an error, so without this the
 * bus would look subscribed while other processes' invalidations wait. Each process publishes a
 * heartbeat on a channel of its own every quarter of `stallMs` and listens for it; one not heard
 * back within `stallMs` is a stalled bus (test/tiers/faults.test.ts, "CLIENT PAUSE").
 */
export class Heartbeat {
  /** The breaker is open: Redis is skipped, so the bus cannot be trusted either. */
  suspended = false
  /** The latest heartbeat's round trip (publish to hearing it back), ms; undefined before one. */
  roundTripMs: number | undefined
  private sentAt = 0
  private stalled = false
  private lastHeard = 0
  private due = 0
  private inFlight = false
  private timer: NodeJS.Timeout | undefined
  private readonly everyMs: number

  constructor(
    private readonly stallMs: number,
    private readonly send: () => Promise<unknown>,
    private readonly changed: () => void,
  ) {
    this.everyMs = Math.max(10, Math.floor(stallMs / 4))
  }

  get healthy(): boolean {
    return !this.stalled && !this.suspended
  }

  /** (Re)subscribed: the clock starts now. */
  start(): void {
    this.lastHeard = performance.now()
    this.due = this.lastHeard + this.everyMs
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.tick(), this.everyMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  heard(): void {
    this.lastHeard = performance.now()
    if (this.sentAt !== 0) this.roundTripMs = this.lastHeard - this.sentAt
    if (!this.stalled) return
    this.stalled = false
    this.changed()
  }

  private tick(): void {
    const now = performance.now()
    // this process's loop was busy past a whole beat: a heartbeat may be waiting in the socket
    const late = now - this.due > this.everyMs
    this.due = now + this.everyMs
    if (!this.inFlight && !this.suspended) {
      // one at a time: a stalled Redis holds it, so nothing piles up in ioredis's queue
      this.inFlight = true
      this.sentAt = performance.now()
      void this.send().catch(() => {}).finally(() => (this.inFlight = false))
    }
    if (late) return
    // judged after the poll phase, so that a heartbeat already received counts
    setImmediate(() => {
      if (this.stalled || performance.now() - this.lastHeard <= this.stallMs) return
      this.stalled = true
      this.changed()
    })
  }
}
