import { safeError } from '../errors.js'
import { Lease } from '../stampede/lease.js'
import type { L2Lookup } from '../tiers/l2.js'
import { decoded } from './decoded.js'
import { sameValues, type ReadParts } from './parts.js'
import type { ReadRequest, ReadRequests } from './request.js'
import type { EntryStore } from './store.js'

/**
 * Stale-while-revalidate: one background refresh per key in this process, and one across
 * processes (it needs the lease; without it, another process is refreshing). A failed refresh
 * leaves the stale value in place until its swr window ends, and is counted.
 */
export class Refresher {
  private readonly refreshing = new Set<string>()

  constructor(
    private readonly parts: ReadParts,
    private readonly requests: ReadRequests,
    private readonly store: EntryStore,
  ) {}

  refresh(read: ReadRequest): void {
    if (this.refreshing.has(read.key)) return
    this.refreshing.add(read.key)
    void this.refreshNow(read)
      .catch((error: unknown) => {
        read.stats.refreshErrors++
        this.parts.events.error('refresh', error, read.model, read.keyOperation)
        this.parts.options.logger?.warn({ err: safeError(error), model: read.model, operation: read.keyOperation }, 'prisma-tiered-cache: refresh failed, stale value kept')
      })
      .finally(() => this.refreshing.delete(read.key))
  }

  private async refreshNow(stale: ReadRequest): Promise<void> {
    const read = this.requests.build(stale, true) // counters as of now, not as of the stale read
    const { l2, options } = this.parts
    if (l2 === undefined) {
      await this.store.queryAndStore(read, undefined)
      return
    }
    const entryKey = l2.keys.entry(read.model, read.key)
    const names = read.deps.map((gen) => gen.name)
    // another process may have refreshed it already: then take its value, do not query again
    if (this.freshInL2(read, await l2.lookup(entryKey, names, read.stats))) return
    const lease = await Lease.take(l2, entryKey, options.stampede.leaseMs)
    if (lease === null) return
    try {
      const lookup = lease && (await l2.lookup(entryKey, names, read.stats))
      if (this.freshInL2(read, lookup)) return
      await this.store.queryAndStore(read, lookup, entryKey, lease)
    } finally {
      await lease?.release()
    }
  }

  /** True (and L1 filled from it) when L2 holds a valid, fresh entry for the read. */
  private freshInL2(read: ReadRequest, lookup: L2Lookup | undefined): boolean {
    const entry = lookup?.entry
    if (entry === undefined || entry.freshUntil <= this.parts.options.now() || !sameValues(entry.seen, lookup!.generations)) return false
    const value = decoded(entry.bytes)
    if (value === undefined) return false // unreadable: refreshed like a miss
    this.store.fillL1(read, value.value, entry.bytes.length, entry, lookup!.generations)
    return true
  }
}
