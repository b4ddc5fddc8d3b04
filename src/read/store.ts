import { carriable, roughSize } from '../codec/carriable.js'
import { encodeResult } from '../codec/codec.js'
import { copierFor } from '../codec/copier.js'
import { describe, type ResultShape } from '../codec/result-shape.js'
import type { Lease } from '../stampede/lease.js'
import { unchanged } from '../tiers/l1.js'
import type { L2Entry } from '../tiers/entry.js'
import type { L2Lookup } from '../tiers/l2.js'
import type { ReadParts } from './parts.js'
import { freshMs } from './negative.js'
import { noteMiss } from './note-info.js'
import type { ReadRequest, ReadRequests } from './request.js'

/** When an entry was stored and until when it is fresh, epoch ms; entries of older versions lack `storedAt`. */
type EntryStamp = Pick<L2Entry, 'freshUntil' | 'storedAt'>

/** Database answers into the tiers: L1 always (where the counters allow), L2 when Redis's counters were read. */
export class EntryStore {
  constructor(
    private readonly parts: ReadParts,
    private readonly requests: ReadRequests,
  ) {}

  /** Queries the database and keeps the result where the generations allow. */
  async queryAndStore(read: ReadRequest, lookup: L2Lookup | undefined, entryKey?: string, lease?: Lease): Promise<unknown> {
    const { metrics, events } = this.parts
    const started = metrics.clock()
    const value = await read.run.query(read.keyOperation, read.args)
    const ms = metrics.clock() - started
    metrics.recordQuery(read.stats, read.queryShape, ms)
    if (!read.background) {
      events.miss(read.model, read.operation, read.args, ms)
      if (read.run.info !== undefined) noteMiss(read.run.info, this.parts, read.model, read.key)
    }
    await this.store(read, value, lookup, entryKey, lease)
    return value
  }

  /** Stores a database answer in L1 and, when `lookup` gave Redis's generations, in L2. */
  async store(read: ReadRequest, value: unknown, lookup: L2Lookup | undefined, entryKey: string | undefined, lease?: Lease): Promise<void> {
    const { options, l2 } = this.parts
    // maybe a lagging replica's answer from before a recent write: returned, not kept (invalidation/recent-bumps.ts)
    if (this.parts.recentBumps?.unsettled(read.deps, read.startedAt)) return
    // on SQLite's one connection it may hold an open transaction's uncommitted rows: returned, not kept
    if (this.parts.openTransactions?.overlapped(read.transactionsMark)) return
    const resultShape = describe(value)
    // what Redis cannot carry (a function a result extension computed) stays in L1 alone
    const bytes = carriable(value) ? encodeResult(value, resultShape) : undefined
    const ttlMs = freshMs(read.policy, read.keyOperation, value)
    if (ttlMs === 0) return // `negativeTtl: 0`: a negative answer is not kept
    const storedAt = options.now()
    const freshUntil = storedAt + ttlMs
    this.fillL1(read, value, bytes?.length ?? roughSize(value), { freshUntil, storedAt }, lookup?.generations, resultShape)
    if (bytes !== undefined && lookup !== undefined && entryKey !== undefined) {
      await l2!.store(entryKey, read.deps[0]!.name, { bytes, seen: lookup.generations, freshUntil, storedAt }, ttlMs + read.policy.swrMs, read.stats, lease?.token)
      lease?.handedBack() // the store script released it
    }
  }

  /**
   * Keeps a copy in L1 only if no local counter moved since the read began: a write that bumped
   * one while the query ran may have committed after the database read our rows.
   */
  fillL1(read: ReadRequest, value: unknown, size: number, stamp: EntryStamp, remote: string[] | undefined, resultShape?: ResultShape): void {
    const { l1, strict, options } = this.parts
    const { freshUntil } = stamp
    if (l1 === undefined || !unchanged(read.deps, read.seen)) return
    if (strict && remote === undefined) return // nothing to check a strict hit against
    const capped = Math.min(freshUntil, options.now() + l1.ttlCapMs)
    const copy = copierFor(value, resultShape)
    // strict entries are checked against Redis's values of `read.deps`, position by position
    const rows = strict ? [] : this.requests.resultCounters(read, value).filter((gen) => !read.deps.includes(gen))
    const deps = rows.length === 0 ? read.deps : [...read.deps, ...rows]
    l1.set(read.key, {
      value: copy(value),
      copy,
      size: entryCost(size, read.key, deps.length),
      freshUntil: capped,
      staleUntil: capped === freshUntil ? freshUntil + read.policy.swrMs : capped,
      deps,
      seen: rows.length === 0 ? read.seen : [...read.seen, ...rows.map((gen) => gen.value)],
      remote: strict ? remote : undefined,
      queryShape: read.queryShape,
      storedAt: stamp.storedAt,
    })
  }
}

/**
 * What an L1 entry is charged against `l1.maxBytes`: what it holds, not only its encoded size.
 * The decoded value takes about twice its msgpack size in V8 objects; each counter it records is
 * a Generation held in process (its name, a WeakRef and a registry cell besides); the key, the
 * entry object, its arrays, its copier and its Map slot come on top. Calibrated so that the heap
 * stays within 2x of `maxBytes` (test/tiers/l1-heap.test.ts: 200,000 distinct rows through a
 * 10 MB L1 grow the heap 1.04x the budget beyond what the uncached reads keep; 2.06x when charged
 * encoded size + key + 48 B per counter + 320 B. Cached nulls charged their encoded size alone
 * held 229 MB in a 1 MiB budget, test/invalidation/counters-bounded.test.ts).
 */
function entryCost(encodedBytes: number, key: string, counters: number): number {
  return 2 * encodedBytes + 2 * key.length + COUNTER_BYTES * counters + PER_ENTRY_BYTES
}

/** A counter held in process for an entry (shared ones are charged to each entry that holds them). */
const COUNTER_BYTES = 120

/** The entry object, its arrays, its copier and its Map slot, measured on Node 20 (see above). */
const PER_ENTRY_BYTES = 600
