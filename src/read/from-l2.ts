import type { L2Lookup } from '../tiers/l2.js'
import { noteHit } from './note-info.js'
import { decoded } from './decoded.js'
import { countAnswer, sameValues, type ReadParts } from './parts.js'
import type { Refresher } from './refresh.js'
import type { ReadRequest } from './request.js'
import type { EntryStore } from './store.js'

/** Answers from an L2 lookup, counting the answer and backfilling L1. */
export class L2Answers {
  constructor(
    private readonly parts: ReadParts,
    private readonly store: EntryStore,
    private readonly refresher: Refresher,
  ) {}

  /**
   * A valid L2 entry: fresh, or stale within its swr window (then refreshed in the background).
   * A value another process computed while this read `waited` for it counts as coalesced.
   */
  serve(read: ReadRequest, lookup: L2Lookup, waited: boolean): { value: unknown } | undefined {
    const entry = lookup.entry
    if (entry === undefined) return undefined
    // entries written before they carried storedAt: as if stored a ttl before they expire
    const storedAt = entry.storedAt ?? entry.freshUntil - read.policy.ttlMs
    if (!sameValues(entry.seen, lookup.generations)) {
      // a write moved a counter it recorded: TTL advice counts it, once per read (a later look while waiting does not)
      if (!waited) this.parts.metrics.entryInvalidated(read.queryShape, storedAt)
      return undefined
    }
    const now = this.parts.options.now()
    const staleUntil = entry.freshUntil + read.policy.swrMs
    if (staleUntil <= now) return undefined
    const result = decoded(entry.bytes)
    if (result === undefined) return undefined
    const fresh = entry.freshUntil > now
    if (waited) read.stats.coalesced++
    else countAnswer(this.parts, read, 'l2', fresh, read.queryShape)
    if (!fresh) this.refresher.refresh(read)
    if (read.run.info !== undefined) noteHit(read.run.info, this.parts, 'l2', fresh, storedAt, read.model, read.key)
    this.store.fillL1(read, result.value, entry.bytes.length, entry, lookup.generations)
    return result
  }
}
