import type { CounterName, Generation } from '../keys/names.js'

/**
 * When counters were last bumped, for reads that may have been answered by a lagging read
 * replica (`replicaLagMs`). A replica that lags at most `lagMs` answers a query started at `t`
 * with every write committed before `t - lagMs`; a write whose bumps came later may be missing
 * from the answer although the counters the read snapshot already include it. Such an answer is
 * returned (as uncached Prisma on the replica would return it) but not stored
 * (test/read/read-replicas.test.ts). Writes that bump after the snapshot are the counters' job.
 *
 * Both this process's writes and other processes' writes heard on the bus are noted (both reach
 * `Generations.bumpName`), at the time they are noted here.
 */
export class RecentBumps {
  /** Insertion order is bump order: a name bumped again moves to the end, so pruning stops early. */
  private readonly at = new Map<CounterName, number>()
  /** The newest time forgotten: a read that began before it cannot be judged, and is not stored. */
  private forgottenUpTo = -Infinity
  /** The bus is down, or not up yet: other processes' writes go unheard, so nothing can be judged. */
  private deaf = false

  constructor(
    readonly lagMs: number,
    private readonly now: () => number,
  ) {}

  note(name: CounterName): void {
    this.at.delete(name)
    this.at.set(name, this.now())
  }

  /**
   * The bus is lost (or not subscribed yet), or back. Whatever was published meanwhile was
   * missed: its coming back counts as a bump of every counter.
   */
  hearing(up: boolean): void {
    this.deaf = !up
    if (up) this.forgottenUpTo = Math.max(this.forgottenUpTo, this.now())
  }

  /**
   * Whether an answer to a read that snapshot `deps` at `startedAt` may predate a write to them:
   * one of them was bumped less than `lagMs` before the read began (or since).
   */
  unsettled(deps: readonly Generation[], startedAt: number): boolean {
    if (this.deaf) return true
    this.prune()
    const since = startedAt - this.lagMs
    if (since <= this.forgottenUpTo) return true
    if (this.at.size === 0) return false
    for (const gen of deps) {
      const bumped = this.at.get(gen.name)
      if (bumped !== undefined && bumped >= since) return true
    }
    return false
  }

  /**
   * Forgets bumps older than twice the lag: memory follows the write rate, not the counters ever
   * bumped. Reads that took longer than the lag since their snapshot meet `forgottenUpTo`.
   */
  private prune(): void {
    const horizon = this.now() - 2 * this.lagMs
    for (const [name, bumped] of this.at) {
      if (bumped >= horizon) break
      this.at.delete(name)
      this.forgottenUpTo = Math.max(this.forgottenUpTo, bumped)
    }
  }
}
