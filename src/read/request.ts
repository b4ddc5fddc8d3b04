import { inCallerOrder } from '../codec/field-order.js'
import type { EntryPolicy } from '../config/policy.js'
import type { ResolvedOptions } from '../config/resolve.js'
import { readCounters } from '../invalidation/read-dependencies.js'
import type { Generations } from '../invalidation/generations.js'
import type { OpenTransactions } from '../invalidation/open-transactions.js'
import { readKey } from '../keys/canonical.js'
import { eqCounter, valueText, type Generation } from '../keys/names.js'
import type { Metrics } from '../metrics/metrics.js'
import type { OperationStats, ShapeStats } from '../metrics/state.js'
import type { SchemaFacts } from '../schema/schema.js'
import type { CacheInfo } from './cache-info.js'

/** Runs the real Prisma query for a read, with `cacheStrategy` already stripped. */
export interface QueryRunner {
  query(operation: string, args: unknown): PromiseLike<unknown>
  /** Present only on calls that asked `.withCacheInfo()`: the read path fills it, and touches nothing for the others. */
  readonly info?: CacheInfo | undefined
}

/** The `OrThrow` variants share their entries with the plain ones: a `null` is a `null`. */
export const KEY_OPERATION: Readonly<Record<string, string>> = {
  findUniqueOrThrow: 'findUnique',
  findFirstOrThrow: 'findFirst',
}

/** What a read that left the L1 path is: built once, then passed to every step of the miss, refresh and batch paths. */
export interface ReadRequest {
  readonly model: string
  /** What the caller called (`findUniqueOrThrow`)… */
  readonly operation: string
  /** …and what is cached and queried for it (`findUnique`). */
  readonly keyOperation: string
  /** The L1 key (L2 hashes it): canonical arguments, tags, partition. */
  readonly key: string
  readonly args: unknown
  readonly policy: EntryPolicy
  readonly run: QueryRunner
  /** The counters it depends on, target model first… */
  readonly deps: readonly Generation[]
  /** …and their local values before anything was read. */
  readonly seen: readonly number[]
  /** When they were snapshot (`options.now()`): a replica's answer is judged by it (invalidation/recent-bumps.ts). */
  readonly startedAt: number
  /** On a one-connection database, which transactions had begun or ended by then (invalidation/open-transactions.ts). */
  readonly transactionsMark: number
  readonly stats: OperationStats
  /** Metrics' argument shape it counts toward (time saved, slow queries). */
  readonly queryShape: ShapeStats | undefined
  /** A stale entry's refresh: nobody waits for it. */
  readonly background: boolean
}

export type ReadStart = Pick<ReadRequest, 'model' | 'operation' | 'keyOperation' | 'key' | 'args' | 'policy' | 'run' | 'stats'>

/** Builds keys and read requests: what tells entries apart, and what a read depends on. */
export class ReadRequests {
  constructor(
    private readonly options: ResolvedOptions,
    private readonly schema: SchemaFacts,
    private readonly generations: Generations,
    private readonly metrics: Metrics,
    private readonly openTransactions: OpenTransactions | undefined,
  ) {}

  /**
   * What an `OrThrow` read is cached and queried as: its plain variant, sharing its entries, unless
   * a lower query extension hooks either by name (schema/lower-hooks.ts); then it is its own
   * operation, so that its miss runs its own hooks and its entries are not the plain variant's.
   */
  orThrowKey(model: string, operation: string): string {
    const plain = KEY_OPERATION[operation]!
    const hooks = this.schema.lowerHooks
    return hooks.names(model, operation) || hooks.names(model, plain) ? operation : plain
  }

  key(model: string, keyOperation: string, args: unknown, policy: EntryPolicy): string {
    return `${readKey(model, keyOperation, args)}${this.keyContext(policy)}`
  }

  /** What besides the arguments tells entries apart: the cacheStrategy tags and the caller's partition. */
  keyContext(policy: EntryPolicy): string {
    const partition = this.options.partition?.()
    const tags = policy.tags.length === 0 ? '' : `#${JSON.stringify([...policy.tags].sort())}`
    return partition === undefined || partition === null ? tags : `${tags}@${JSON.stringify(partition)}`
  }

  /** Counters of the rows `value` holds, for its L1 entry (none at `'model'` granularity). */
  resultCounters(read: ReadRequest, value: unknown): Generation[] {
    return this.options.invalidation === 'row' ? resultCounters(this.schema, this.generations, read.model, value) : []
  }

  /** Snapshots the read's counters now: anything bumped from here on keeps its result out of the cache. */
  build(start: ReadStart, background = false): ReadRequest {
    const deps = readCounters(this.schema, this.generations, start.model, start.args, start.policy.tags, this.options.invalidation)
    const queryShape = this.metrics.shape(start.stats, start.args)
    const transactionsMark = this.openTransactions?.mark() ?? 0
    return { ...start, deps, seen: deps.map((gen) => gen.value), startedAt: this.options.now(), transactionsMark, queryShape, background }
  }
}

/**
 * Counters of the rows a result returned (`e:` of each row's id), for L1 entries in row-level
 * invalidation. Not needed for correctness (the counters recorded before the query already cover
 * every change), but a write by id names them in its first bump, before it runs: other processes'
 * L1 then drops a list holding that row when the first bus message arrives, not the second
 * (benchmarks' mixed scenario: L1 lists keyed by author went stale within the bus window).
 */
export function resultCounters(schema: SchemaFacts, generations: Generations, model: string, value: unknown): Generation[] {
  const facts = schema.model(model)
  const id = facts?.uniques[0]
  const field = id !== undefined && id.fields.length === 1 ? facts!.tracked.get(id.fields[0]!) : undefined
  if (field === undefined || typeof value !== 'object' || value === null) return []
  const rows = Array.isArray(value) ? value : [value]
  const found: Generation[] = []
  for (const row of rows) {
    if (typeof row !== 'object' || row === null || !(field.name in row)) continue
    const text = valueText(field.canonical, (row as Record<string, unknown>)[field.name])
    if (text !== undefined) found.push(generations.get(eqCounter(model, field.name, text)))
  }
  return found
}

/** The caller's answer: a cached `null` for an `OrThrow` read lets Prisma throw its own error (or find the row now). */
export function answer(read: ReadRequest, value: unknown): unknown {
  return answerOf(value, read.operation, read.keyOperation, read.args, read.run)
}

/** `answer` for the L1 hit path, which builds no request object. */
export function answerOf(value: unknown, operation: string, keyOperation: string, args: unknown, run: QueryRunner): unknown {
  return value === null ? (keyOperation !== operation ? run.query(operation, args) : value) : inCallerOrder(value, args)
}
