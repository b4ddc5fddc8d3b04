import { clone } from '../codec/clone.js'
import { Lease, pollDelay, sleep } from '../stampede/lease.js'
import { SingleFlight } from '../stampede/single-flight.js'
import { noteBypass } from './cache-info.js'
import type { L2Answers } from './from-l2.js'
import type { ReadParts } from './parts.js'
import { answer, type ReadRequest } from './request.js'
import type { EntryStore } from './store.js'

/** A read L1 could not answer: single flight in this process, then L2, then the database under a lease. */
export class MissPath {
  private readonly flights = new SingleFlight<unknown>()

  constructor(
    private readonly parts: ReadParts,
    private readonly store: EntryStore,
    private readonly fromL2: L2Answers,
  ) {}

  /** Concurrent identical misses that saw the same generations share one load. */
  async miss(read: ReadRequest): Promise<unknown> {
    // Joining a flight is safe only where this process's counters hear of every write (see
    // ReadParts.localCountersAuthoritative): a read that starts after another process's write
    // must not take the answer of a query that started before it.
    if (!this.parts.localCountersAuthoritative) return answer(read, await this.load(read))
    const flightKey = `${read.key}\u0000${read.seen.join(',')}`
    const flight = this.flights.get(flightKey)
    if (flight !== undefined) {
      read.stats.coalesced++
      return answer(read, clone(await flight))
    }
    return answer(read, await this.flights.run(flightKey, () => this.load(read)))
  }

  /**
   * A lease costs a round trip before the query: worth it where a stampede across processes would
   * cost much, a query of a shape not measured yet or measured slower than `stampede.leaseAboveMs`
   * (benchmarks/scenarios/miss-cost.ts measures a miss with and without it).
   */
  private worthALease(read: ReadRequest): boolean {
    const shape = read.queryShape
    const threshold = this.parts.options.stampede.leaseAboveMs
    return shape === undefined || threshold === 0 || shape.queries < 3 || shape.recentNs >= threshold * 1e6
  }

  /** L2, then the database under a lease so that one process computes a missing entry. */
  private async load(read: ReadRequest): Promise<unknown> {
    const { l2, metrics, options } = this.parts
    if (l2 === undefined) {
      read.stats.misses++
      return this.store.queryAndStore(read, undefined)
    }
    const entryKey = l2.keys.entry(read.model, read.key)
    const names = read.deps.map((gen) => gen.name)
    const started = metrics.clock()
    let lookup = await l2.lookup(entryKey, names, read.stats)
    const served = lookup && this.fromL2.serve(read, lookup, false)
    if (served !== undefined) {
      metrics.recordL2(read.stats, started)
      return served.value
    }
    if (lookup === undefined) {
      read.stats.bypasses.redisDown++ // Redis failed, or the breaker keeps it out of the way
      const value = await this.store.queryAndStore(read, undefined)
      if (read.run.info !== undefined) noteBypass(read.run.info, 'redisDown')
      return value
    }
    if (!this.worthALease(read)) {
      read.stats.misses++
      return this.store.queryAndStore(read, lookup, entryKey)
    }
    const deadline = options.now() + options.stampede.waitMs
    for (let attempt = 0; ; attempt++) {
      const lease = await Lease.take(l2, entryKey, options.stampede.leaseMs)
      if (lease !== null) {
        try {
          // the previous holder may have stored and released between our lookup and our lease
          const again = lease?.entryExists ? await l2.lookup(entryKey, names, read.stats) : undefined
          const stored = again && this.fromL2.serve(read, again, true)
          if (stored !== undefined) return stored.value
          read.stats.misses++
          return await this.store.queryAndStore(read, lease === undefined ? undefined : (again ?? lookup), entryKey, lease)
        } finally {
          await lease?.release()
        }
      }
      // another process is computing it: wait for its value, bounded, then query ourselves
      if (options.now() >= deadline) break
      await sleep(pollDelay(attempt))
      const next = await l2.lookup(entryKey, names, read.stats)
      if (next === undefined) break
      lookup = next
      const waited = this.fromL2.serve(read, lookup, true)
      if (waited !== undefined) return waited.value
    }
    read.stats.misses++
    return this.store.queryAndStore(read, lookup, entryKey)
  }
}
