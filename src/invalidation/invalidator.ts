import { AsyncLocalStorage } from 'node:async_hooks'
import { CacheConfigError } from '../errors.js'
import { ALL, modelCounter, tagCounter, type CounterName } from '../keys/names.js'
import type { Events } from '../metrics/events.js'
import type { Metrics } from '../metrics/metrics.js'
import type { SchemaFacts } from '../schema/schema.js'
import type { Generations } from './generations.js'
import type { Outbox } from './outbox.js'
import type { Transactions } from './transactions.js'
import type { WriteRuleSet } from './write-rules.js'
import { coarse, planWrite } from './write-keys.js'

export interface InvalidateRequest {
  tags?: readonly string[]
  models?: readonly string[]
}

export interface InvalidatorParts {
  schema: SchemaFacts
  /** How narrow a write's invalidation is (`invalidation` option). */
  granularity: 'row' | 'model'
  generations: Generations
  rules: WriteRuleSet
  metrics: Metrics
  events: Events
  transactions: Transactions
  /** Redis's side (counters and the bus); absent without Redis. */
  outbox: Outbox | undefined
  /** Reads rows on the client the extension was applied to (the rows a write rule's template needs). */
  findMany(model: string, args: unknown): PromiseLike<unknown>
  /** Forgets everything L1 holds (`invalidateAll`). */
  clearL1(): void
}

/**
 * Every write's invalidation. The ordering is the whole argument (DESIGN.md, "Correctness"):
 * a read snapshots its counters *before* it queries and stores only if none moved; a write bumps
 * every counter it can affect *before* it runs and again *after* it completes, so
 * - a read that snapshots after the first bump and queries before the commit stored rows that
 *   the second bump makes unmatchable;
 * - a read that snapshots before the first bump sees a counter move before it stores, and stores
 *   nothing (L1: the local check; L2: the Lua compare-and-set, and other slots checked on read);
 * - a read that snapshots after the second bump queried after the commit.
 * Each bump moves this process's counters first (synchronously: L1 is correct from here on), then
 * Redis's through the outbox, then the bus's, before the write's promise resolves. Inside a
 * transaction the names are also kept, and bumped once more when the outermost one commits.
 */
export class Invalidator {
  /** The models a raw statement changes, as named by `prisma.$cache.affecting()`. */
  private readonly rawModels = new AsyncLocalStorage<readonly string[]>()

  constructor(private readonly parts: InvalidatorParts) {}

  /**
   * Wraps a write. Before it runs, bumps every counter it can affect that is known from its
   * arguments; after it completes (or fails: a failed statement may still have been applied by a
   * driver that lost the reply), bumps them again plus those of the rows it returned
   * (write-keys.ts) and the tags its rules compute from the result.
   */
  async write<T>(model: string, operation: string, args: unknown, query: (args: unknown) => PromiseLike<T>): Promise<T> {
    const { schema, rules } = this.parts
    const plan = this.parts.granularity === 'row' ? planWrite(schema, model, operation, args) : coarse(schema, model, operation, args)
    const names = new Set<CounterName>(plan.before)
    const prior = rules.priorRead(model, operation, args)
    const priorRows = prior && ((await this.parts.findMany(model, prior)) as Array<Record<string, unknown>>)
    rules.before(model, args, names, priorRows)
    await this.bump(names)
    let raw: T | undefined
    try {
      raw = await query(plan.args)
    } finally {
      const after = plan.after(raw)
      for (const name of after.names) names.add(name)
      rules.after(model, operation, args, after.result, names, (pattern) => this.dropTagPattern(pattern))
      await this.bump(names, operation)
      raw = after.result as T
    }
    return raw
  }

  /** Raw SQL: invalidates the models named through `affecting()`, or else everything. */
  async writeRaw<T>(query: () => PromiseLike<T>, cause = 'executeRaw'): Promise<T> {
    const named = this.rawModels.getStore()
    const names = new Set(named === undefined ? [ALL] : named.map(modelCounter))
    await this.bump(names)
    try {
      return await query()
    } finally {
      await this.bump(names, cause)
    }
  }

  /** `$queryRaw`: a write only when the caller says so through `affecting()`. */
  async queryRaw<T>(query: () => PromiseLike<T>): Promise<T> {
    return this.rawModels.getStore() === undefined ? query() : this.writeRaw(query, 'queryRaw')
  }

  /** Runs `fn` with the models its raw SQL changes named (`$cache.affecting`). */
  affecting<T>(models: readonly string[], fn: () => Promise<T>): Promise<T> {
    for (const model of models) {
      if (this.parts.schema.model(model) === undefined) throw new CacheConfigError('affecting', `has no model '${model}'`)
    }
    // awaited inside the scope: Prisma's promise is lazy and runs its hook only when awaited
    return this.rawModels.run(models, async () => await fn())
  }

  async invalidate(request: InvalidateRequest): Promise<void> {
    const names = new Set<CounterName>()
    for (const tag of request.tags ?? []) names.add(tagCounter(tag))
    for (const model of request.models ?? []) {
      if (this.parts.schema.model(model) === undefined) throw new CacheConfigError('invalidate.models', `has no model '${model}'`)
      names.add(modelCounter(model))
    }
    await this.bump(names, 'invalidate')
  }

  async invalidateAll(): Promise<void> {
    this.parts.clearL1()
    await this.bump([ALL], 'invalidateAll')
  }

  /** Applied when a transaction commits: its writes become visible now. */
  commit(touched: Iterable<CounterName>): Promise<void> {
    return this.bump(touched)
  }

  /**
   * Moves counters on: this process's synchronously, Redis's and the bus's before the promise
   * resolves. A write bumps twice (and again on commit) but is one invalidation: only the bump
   * given a `cause` is counted and announced.
   */
  private async bump(names: Iterable<CounterName>, cause?: string): Promise<void> {
    const { generations, transactions, metrics, events, outbox } = this.parts
    const scope = transactions.current()
    for (const name of names) {
      generations.bumpName(name)
      scope?.touched.add(name)
    }
    if (cause !== undefined) {
      // a write's second bump: on one connection it may have run inside an open transaction
      if (scope === undefined) transactions.open?.wrote(names)
      metrics.invalidated(names, cause)
      events.invalidate(cause, names)
    }
    await outbox?.bump(names)
  }

  private dropTagPattern(pattern: string): void {
    this.parts.generations.bumpMatching(tagCounter(pattern))
    this.parts.outbox?.dropTagPattern(pattern)
  }
}
