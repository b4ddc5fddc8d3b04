import { planMany, planUnique, unprovableUnique, type BatchPlan } from '../batching/plan.js'
import { BatchScheduler } from '../batching/scheduler.js'
import { Turns } from '../batching/turns.js'
import { clone } from '../codec/clone.js'
import type { SchemaFacts } from '../schema/schema.js'
import type { L2Lookup } from '../tiers/l2.js'
import type { L2Answers } from './from-l2.js'
import type { MissPath } from './miss.js'
import type { ReadParts } from './parts.js'
import { answer, type ReadRequest, type ReadRequests } from './request.js'
import type { EntryStore } from './store.js'

/** A read waiting in a batch. */
interface Batched {
  read: ReadRequest
  plan: BatchPlan
  resolve(value: unknown): void
  reject(error: unknown): void
}

type Row = Record<string, unknown>

/**
 * Reads of one tick that can share one query (batching/plan.ts): L1 was already missed; one L2
 * round trip for all, then one database query for what L2 lacks, rows routed back and kept one by
 * one. A failed batch query, or rows that do not route back exactly, fall back to one query per
 * read, so one bad member fails alone.
 */
export class BatchPath {
  private readonly batches = new BatchScheduler<Batched>((_, items) => void this.dispatch(items))
  private readonly turns = new Turns()

  constructor(
    private readonly parts: ReadParts,
    private readonly schema: SchemaFacts,
    private readonly requests: ReadRequests,
    private readonly store: EntryStore,
    private readonly fromL2: L2Answers,
    private readonly misses: MissPath,
  ) {}

  /**
   * The plan of a read that can share one query with others of this tick, if it can. The batch
   * is a `findMany`: not where a lower query extension hooks `findUnique` or `findMany` by name
   * for the model, which would then be skipped, or run where the reads alone would not run it
   * (schema/lower-hooks.ts).
   */
  plan(read: ReadRequest): BatchPlan | undefined {
    const hooks = this.schema.lowerHooks
    if (hooks.names(read.model, 'findMany')) return undefined
    if (read.keyOperation === 'findUnique') return hooks.names(read.model, 'findUnique') ? undefined : planUnique(this.schema, read.model, read.args)
    if (read.keyOperation === 'findMany') return planMany(this.schema, read.model, read.args)
    return undefined
  }

  /**
   * A read that is not batched, as it will query: one keyed by a unique key whose equality is not
   * proven sends its query in an event-loop turn of its own, out of Prisma's own batching
   * (batching/turns.ts). Only such misses pay for it: one object and a turn.
   */
  unbatched(read: ReadRequest): ReadRequest {
    if (!read.keyOperation.startsWith('findUnique') || !unprovableUnique(this.schema, read.model, read.args)) return read
    const { run } = read
    return { ...read, run: { info: run.info, query: (operation, args) => this.turns.next().then(() => run.query(operation, args)) } }
  }

  enqueue(read: ReadRequest, plan: BatchPlan): Promise<unknown> {
    // reads of different partitions or tags never share a query
    const group = `${plan.group}|${this.requests.keyContext(read.policy)}`
    return new Promise((resolve, reject) => this.batches.add(group, { read, plan, resolve, reject }))
  }

  private async dispatch(items: Batched[]): Promise<void> {
    const byKey = groupByKey(items)
    const distinct = [...byKey.values()].map((list) => list[0]!)
    // one key, however many callers: the ordinary miss path, with its lease across processes
    if (distinct.length === 1) return this.missEach(items)
    const first = distinct[0]!.read
    this.parts.metrics.recordBatch(first.model, distinct.length)
    const l2 = this.parts.l2
    const entryKeys = distinct.map((item) => l2?.keys.entry(first.model, item.read.key))
    const lookups = await l2?.lookupMany(
      distinct.map((item, i) => ({ entryKey: entryKeys[i]!, dependencies: item.read.deps.map((gen) => gen.name) })),
      first.stats,
    )
    const misses: number[] = []
    distinct.forEach((item, i) => {
      const served = lookups && this.fromL2.serve(item.read, lookups[i]!, false)
      if (served === undefined) misses.push(i)
      else this.resolveAll(byKey.get(item.read.key)!, served.value)
    })
    if (misses.length === 0) return
    for (const i of misses) distinct[i]!.read.stats.misses++
    const rows = await this.queryTogether(misses.map((i) => distinct[i]!))
    if (rows === undefined) {
      // one after another: run together, Prisma's own findUnique batching would fail them together
      for (const i of misses) await this.missEach(byKey.get(distinct[i]!.read.key)!)
      return
    }
    this.route(rows, misses.map((i) => ({ item: distinct[i]!, lookup: lookups?.[i], entryKey: entryKeys[i], callers: byKey.get(distinct[i]!.read.key)! })))
  }

  /** One database query for every missed member; `undefined` if it failed. */
  private async queryTogether(missed: Batched[]): Promise<Row[] | undefined> {
    const { metrics } = this.parts
    const head = missed[0]!
    try {
      const started = metrics.clock()
      const rows = (await head.read.run.query('findMany', head.plan.query(missed.map((item) => item.plan.value)))) as Row[]
      const ms = metrics.clock() - started
      metrics.recordQuery(head.read.stats, undefined, ms)
      // time saved by later hits on these entries (metrics().savedMs) counts each one's share
      for (const item of missed) metrics.recordFill(item.read.queryShape, ms / missed.length)
      return rows
    } catch {
      return undefined
    }
  }

  /** Rows back to the reads that asked for them, each stored; a read whose rows cannot be proven its own runs alone. */
  private route(rows: Row[], missed: Array<{ item: Batched; lookup: L2Lookup | undefined; entryKey: string | undefined; callers: Batched[] }>): void {
    const plan = missed[0]!.item.plan
    const routed = new Map<string, Row[]>()
    for (const row of rows) {
      const key = plan.rowValue(row)
      const list = routed.get(key)
      if (list === undefined) routed.set(key, [row])
      else list.push(row)
    }
    const asked = new Set(missed.map(({ item }) => item.plan.valueKey))
    // a row no read asked for: the database compares differently (a case-insensitive column)
    const exact = [...routed.keys()].every((key) => asked.has(key))
    for (const { item, lookup, entryKey, callers } of missed) {
      const found = routed.get(item.plan.valueKey)
      if (!exact || (!item.plan.many && (found?.length ?? 0) > 1)) {
        void this.missEach(callers)
        continue
      }
      const value = item.plan.many ? (found ?? []).map(item.plan.strip) : found ? item.plan.strip(found[0]!) : null
      void this.store.store(item.read, value, lookup, entryKey).finally(() => this.resolveAll(callers, value))
    }
  }

  /** Gives one value to every read of a key: the first gets it, the others copies. */
  private resolveAll(items: Batched[], value: unknown): void {
    items.forEach((item, n) => {
      try {
        item.resolve(answer(item.read, n === 0 ? value : clone(value)))
      } catch (error) {
        item.reject(error)
      }
    })
  }

  /** Outside the batch: each read's own miss path (duplicates share its flight), its own error. */
  private async missEach(items: Batched[]): Promise<void> {
    await Promise.all(items.map((item) => this.misses.miss(item.read).then(item.resolve, item.reject)))
  }
}

function groupByKey(items: Batched[]): Map<string, Batched[]> {
  const byKey = new Map<string, Batched[]>()
  for (const item of items) {
    const same = byKey.get(item.read.key)
    if (same === undefined) byKey.set(item.read.key, [item])
    else same.push(item)
  }
  return byKey
}
