import { clone } from './clone.js'
import { encode } from './codec.js'
import { readDependencies } from './dependencies.js'
import { CacheConfigError } from './errors.js'
import { Generations, type Generation } from './generations.js'
import { affectedModels } from './invalidation.js'
import { isCurrent, L1 } from './l1.js'
import { Metrics, type MetricsSnapshot } from './metrics.js'
import type { CacheStrategy, ResolvedOptions } from './options.js'
import { Policy, type EntryPolicy } from './policy.js'
import { readKey } from './keys.js'
import type { SchemaFacts } from './schema.js'
import { currentTransaction } from './transaction.js'
import { AsyncLocalStorage } from 'node:async_hooks'

/** The models a raw statement changes, as named by `prisma.$cache.affecting()`. */
const rawModels = new AsyncLocalStorage<readonly string[]>()

/** Runs the real Prisma query for a read, with `cacheStrategy` already stripped. */
export type RunQuery = (operation: string, args: unknown) => PromiseLike<unknown>

/** The `OrThrow` variants share their entries with the plain ones: a `null` is a `null`. */
const KEY_OPERATION: Record<string, string> = {
  findUniqueOrThrow: 'findUnique',
  findFirstOrThrow: 'findFirst',
}

export interface InvalidateRequest {
  tags?: readonly string[]
  models?: readonly string[]
}

/** `prisma.$cache`: what users call directly. */
export interface CacheApi {
  invalidate(request: InvalidateRequest): Promise<void>
  invalidateAll(): Promise<void>
  /**
   * Runs `fn` (typically `$executeRaw`) telling the cache which models its raw SQL changes, so
   * that only those are invalidated instead of everything.
   */
  affecting<T>(models: readonly string[], fn: () => Promise<T>): Promise<T>
  metrics(): MetricsSnapshot
  resetMetrics(): void
}

/**
 * Cache-aside reads and generation-bumping writes, independent of Prisma's extension API
 * (extension.ts adapts it). Correctness rests on one rule: a read snapshots the generations of
 * everything it depends on *before* it queries, and its result is kept only if none of them moved
 * while it ran; a write bumps every model it can affect before it runs and again after.
 */
export class TieredCache {
  readonly generations = new Generations()
  readonly metrics = new Metrics()
  private readonly policy: Policy
  private readonly l1: L1 | undefined

  constructor(
    private readonly options: ResolvedOptions,
    private readonly schema: SchemaFacts,
  ) {
    this.policy = new Policy(options)
    this.l1 = options.l1 ? new L1(options.l1.maxBytes, options.l1.maxEntryBytes) : undefined
  }

  /** Serves a read: a value on an L1 hit (no promise, no await), otherwise a promise. */
  read(model: string, operation: string, rawArgs: unknown, run: RunQuery, inTransaction = false): unknown {
    const counters = this.metrics.for(model)
    const { args, strategy } = splitArgs(rawArgs)
    // inside a transaction a read may see uncommitted rows: it neither reads nor fills the cache
    const policy = inTransaction || currentTransaction() !== undefined ? null : this.policyFor(model, operation, strategy)
    if (policy === null) {
      counters.bypasses++
      return run(operation, args)
    }
    const keyOperation = KEY_OPERATION[operation] ?? operation
    const key = readKey(model, keyOperation, args)
    const entry = this.l1?.get(key)
    if (entry !== undefined && entry.freshUntil > this.options.now() && isCurrent(entry)) {
      counters.hitsL1++
      if (entry.value === null && keyOperation !== operation) return run(operation, args)
      return clone(entry.value)
    }
    counters.misses++
    return this.miss(model, operation, keyOperation, key, args, policy, run)
  }

  private async miss(
    model: string,
    operation: string,
    keyOperation: string,
    key: string,
    args: unknown,
    policy: EntryPolicy,
    run: RunQuery,
  ): Promise<unknown> {
    const deps = this.dependencies(model, args, policy)
    const seen = deps.map((gen) => gen.value)
    const value = await run(keyOperation, args)
    // A write that bumped any dependency while the query ran may have committed after the
    // database read our rows: the result may already be stale, so it is returned but not kept.
    if (this.l1 !== undefined && deps.every((gen, i) => gen.value === seen[i])) {
      const size = encode(value).length
      this.l1.set(key, { value: clone(value), size, freshUntil: this.options.now() + policy.ttlMs, deps, seen })
    }
    if (value === null && keyOperation !== operation) return run(operation, args)
    return value
  }

  private dependencies(model: string, args: unknown, policy: EntryPolicy): Generation[] {
    const gens = readDependencies(this.schema, model, args).map((m) => this.generations.model(m))
    for (const tag of policy.tags) gens.push(this.generations.tag(tag))
    gens.push(this.generations.all)
    return gens
  }

  private policyFor(model: string, operation: string, strategy: CacheStrategy | undefined): EntryPolicy | null {
    try {
      return this.policy.for(model, operation, strategy)
    } catch (error) {
      if (!(error instanceof CacheConfigError)) throw error
      // a malformed per-call strategy must not fail the caller's query: run it uncached, say why
      this.options.logger?.warn({ err: error, model, operation }, 'prisma-tiered-cache: bad cacheStrategy, read not cached')
      return null
    }
  }

  /** Wraps a write: bumps what it affects before it runs and after it completes. */
  write<T>(model: string, operation: string, args: unknown, query: () => PromiseLike<T>): Promise<T> {
    return this.writeModels(affectedModels(this.schema, model, operation, args), query)
  }

  private async writeModels<T>(models: Set<string>, query: () => PromiseLike<T>): Promise<T> {
    this.bumpModels(models)
    const scope = currentTransaction()
    if (scope !== undefined) for (const m of models) scope.touched.add(m)
    try {
      return await query()
    } finally {
      this.bumpModels(models)
    }
  }

  /** Raw SQL: invalidates the models named through `affecting()`, or else everything. */
  async writeRaw<T>(query: () => PromiseLike<T>): Promise<T> {
    const named = rawModels.getStore()
    if (named !== undefined) return this.writeModels(new Set(named), query)
    this.generations.bump(this.generations.all)
    const scope = currentTransaction()
    if (scope !== undefined) scope.touched.add('*')
    try {
      return await query()
    } finally {
      this.generations.bump(this.generations.all)
    }
  }

  /** Applied when a transaction commits: its writes become visible now. */
  commit(touched: Iterable<string>): void {
    for (const m of touched) {
      if (m === '*') this.generations.bump(this.generations.all)
      else this.bumpModel(m)
    }
  }

  private bumpModels(models: Iterable<string>): void {
    for (const m of models) this.bumpModel(m)
  }

  private bumpModel(model: string): void {
    this.generations.bump(this.generations.model(model))
    this.metrics.for(model).invalidations++
  }

  readonly api: CacheApi = {
    invalidate: async (request) => {
      for (const tag of request.tags ?? []) this.generations.bump(this.generations.tag(tag))
      for (const model of request.models ?? []) {
        if (this.schema.model(model) === undefined) throw new CacheConfigError('invalidate.models', `has no model '${model}'`)
        this.bumpModel(model)
      }
    },
    invalidateAll: async () => {
      this.generations.bump(this.generations.all)
      this.l1?.clear()
    },
    affecting: (models, fn) => {
      for (const model of models) {
        if (this.schema.model(model) === undefined) throw new CacheConfigError('affecting', `has no model '${model}'`)
      }
      return rawModels.run(models, fn)
    },
    metrics: () => this.metrics.snapshot(),
    resetMetrics: () => this.metrics.reset(),
  }
}

/** Separates our `cacheStrategy` from what Prisma sees, allocating only when it is present. */
function splitArgs(rawArgs: unknown): { args: unknown; strategy: CacheStrategy | undefined } {
  if (typeof rawArgs !== 'object' || rawArgs === null || !('cacheStrategy' in rawArgs)) {
    return { args: rawArgs, strategy: undefined }
  }
  const { cacheStrategy, ...args } = rawArgs as { cacheStrategy?: CacheStrategy }
  return { args, strategy: cacheStrategy }
}
