import { AsyncLocalStorage } from 'node:async_hooks'
import { clone } from './clone.js'
import { decode, encode } from './codec.js'
import { readDependencies } from './dependencies.js'
import { CacheConfigError } from './errors.js'
import { Generations, type Generation } from './generations.js'
import { affectedModels } from './invalidation.js'
import { readKey } from './keys.js'
import { isCurrent, L1 } from './l1.js'
import { L2, type L2Lookup } from './l2.js'
import { Metrics, type MetricsSnapshot } from './metrics.js'
import type { CacheStrategy, ResolvedOptions } from './options.js'
import { Policy, type EntryPolicy } from './policy.js'
import type { SchemaFacts } from './schema.js'
import { currentTransaction } from './transaction.js'
import { WriteRuleSet } from './write-rules.js'

/** Runs the real Prisma query for a read, with `cacheStrategy` already stripped. */
export interface QueryRunner {
  query(operation: string, args: unknown): PromiseLike<unknown>
}

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

/** The models a raw statement changes, as named by `prisma.$cache.affecting()`. */
const rawModels = new AsyncLocalStorage<readonly string[]>()

/**
 * Cache-aside reads through L1 then L2, and generation-bumping writes, independent of Prisma's
 * extension API (extension.ts adapts it). Correctness rests on one rule: a read snapshots the
 * generations of everything it depends on *before* it queries, and its result is kept only if
 * none of them moved while it ran; a write bumps every counter it can affect before it runs and
 * again after. L1 checks this process's counters, L2 the counters in Redis.
 */
export class TieredCache {
  readonly generations = new Generations()
  readonly metrics = new Metrics()
  private readonly policy: Policy
  private readonly rules: WriteRuleSet
  private readonly l1: L1 | undefined
  private readonly l2: L2 | undefined

  constructor(
    private readonly options: ResolvedOptions,
    private readonly schema: SchemaFacts,
  ) {
    for (const model of options.models.keys()) {
      if (schema.model(model) === undefined) throw new CacheConfigError(`models.${model}`, 'names no model of this schema')
    }
    this.policy = new Policy(options)
    this.rules = new WriteRuleSet(options, schema)
    this.l1 = options.l1 ? new L1(options.l1.maxBytes, options.l1.maxEntryBytes) : undefined
    this.l2 = options.redis
      ? new L2({
          redis: options.redis,
          namespace: options.namespace,
          schemaHash: schema.hash,
          timeoutMs: options.redisTimeoutMs,
          breaker: options.breaker,
          now: options.now,
          logger: options.logger,
          onError: () => this.metrics.redisErrors++,
        })
      : undefined
  }

  /** Serves a read: a value on an L1 hit (no promise, no await), otherwise a promise. */
  read(model: string, operation: string, rawArgs: unknown, run: QueryRunner, inTransaction = false): unknown {
    const counters = this.metrics.for(model)
    let args = rawArgs
    let strategy: CacheStrategy | undefined
    if (typeof rawArgs === 'object' && rawArgs !== null && 'cacheStrategy' in rawArgs) {
      strategy = (rawArgs as { cacheStrategy?: CacheStrategy }).cacheStrategy
      args = withoutKey(rawArgs, 'cacheStrategy')
    }
    // inside a transaction a read may see uncommitted rows: it neither reads nor fills the cache
    const policy = inTransaction || currentTransaction() !== undefined ? null : this.policyFor(model, operation, strategy)
    if (policy === null) {
      counters.bypasses++
      return run.query(operation, args)
    }
    const keyOperation = KEY_OPERATION[operation] ?? operation
    const key = this.key(model, keyOperation, args, policy)
    const entry = this.l1?.get(key)
    if (entry !== undefined && entry.freshUntil > this.options.now() && isCurrent(entry)) {
      counters.hitsL1++
      if (entry.value === null && keyOperation !== operation) return run.query(operation, args)
      return clone(entry.value)
    }
    return this.miss(model, operation, keyOperation, key, args, policy, run)
  }

  private key(model: string, operation: string, args: unknown, policy: EntryPolicy): string {
    const base = readKey(model, operation, args)
    const partition = this.options.partition?.()
    const tags = policy.tags.length === 0 ? '' : `#${JSON.stringify([...policy.tags].sort())}`
    return partition === undefined || partition === null ? `${base}${tags}` : `${JSON.stringify(partition)}|${base}${tags}`
  }

  private async miss(
    model: string,
    operation: string,
    keyOperation: string,
    key: string,
    args: unknown,
    policy: EntryPolicy,
    run: QueryRunner,
  ): Promise<unknown> {
    const counters = this.metrics.for(model)
    const deps = this.dependencies(model, args, policy)
    const seen = deps.map((gen) => gen.value)
    const entryKey = this.l2?.entryKey(model, key)
    let lookup: L2Lookup | undefined
    if (this.l2 !== undefined) {
      lookup = await this.l2.lookup(entryKey!, deps.map((gen) => gen.name))
      const entry = lookup?.entry
      if (entry !== undefined && entry.freshUntil > this.options.now() && sameValues(entry.seen, lookup!.generations)) {
        counters.hitsL2++
        const value = decode(entry.bytes)
        this.fillL1(key, value, entry.bytes.length, entry.freshUntil, deps, seen)
        return this.answer(value, operation, keyOperation, args, run)
      }
    }
    counters.misses++
    const value = await run.query(keyOperation, args)
    const bytes = encode(value)
    const freshUntil = this.options.now() + policy.ttlMs
    this.fillL1(key, value, bytes.length, freshUntil, deps, seen)
    if (lookup !== undefined) {
      await this.l2!.store(entryKey!, deps[0]!.name, { bytes, seen: lookup.generations, freshUntil }, policy.ttlMs + policy.swrMs)
    }
    return this.answer(value, operation, keyOperation, args, run)
  }

  /** A cached `null` for an `OrThrow` read: let Prisma throw its own error (or find the row now). */
  private answer(value: unknown, operation: string, keyOperation: string, args: unknown, run: QueryRunner): unknown {
    return value === null && keyOperation !== operation ? run.query(operation, args) : value
  }

  /**
   * Keeps a copy in L1 only if no local counter moved since `seen` was taken: a write that
   * bumped one while the query ran may have committed after the database read our rows.
   */
  private fillL1(key: string, value: unknown, size: number, freshUntil: number, deps: Generation[], seen: number[]): void {
    if (this.l1 === undefined || !deps.every((gen, i) => gen.value === seen[i])) return
    this.l1.set(key, { value: clone(value), size, freshUntil, deps, seen })
  }

  /** The counters a read depends on; its target model first (the L2 store script checks that one). */
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

  /**
   * Wraps a write. Before it runs, bumps every counter it can affect that is known from its
   * arguments; after it completes (or fails: a failed statement may still have been applied by a
   * driver that lost the reply), bumps them again plus the tags its rules compute from the result.
   */
  async write<T>(model: string, operation: string, args: unknown, query: () => PromiseLike<T>): Promise<T> {
    const names = new Set<string>()
    for (const m of affectedModels(this.schema, model, operation, args)) names.add(`m:${m}`)
    this.rules.before(model, args, names)
    await this.bump(names)
    let result: T | undefined
    try {
      result = await query()
      return result
    } finally {
      this.rules.after(model, operation, args, result, names, (pattern) => this.dropPattern(pattern))
      await this.bump(names)
    }
  }

  /** Raw SQL: invalidates the models named through `affecting()`, or else everything. */
  async writeRaw<T>(query: () => PromiseLike<T>): Promise<T> {
    const named = rawModels.getStore()
    const names = new Set(named === undefined ? ['*'] : named.map((m) => `m:${m}`))
    await this.bump(names)
    try {
      return await query()
    } finally {
      await this.bump(names)
    }
  }

  /** Applied when a transaction commits: its writes become visible now. */
  commit(touched: Iterable<string>): Promise<void> {
    return this.bump(touched)
  }

  /**
   * Moves counters on: this process's synchronously (L1 is correct from here on), Redis's before
   * the promise resolves. Inside a transaction the names are also kept for the commit-time bump.
   */
  private async bump(names: Iterable<string>): Promise<void> {
    const scope = currentTransaction()
    for (const name of names) {
      this.generations.bump(this.generations.get(name))
      if (name.startsWith('m:')) this.metrics.for(name.slice(2)).invalidations++
      scope?.touched.add(name)
    }
    await this.l2?.bump(names)
  }

  private dropPattern(pattern: string): void {
    this.generations.bumpMatching(`t:${pattern}`)
    this.l2?.dropTagPattern(pattern)
  }

  readonly api: CacheApi = {
    invalidate: async (request) => {
      const names = new Set<string>()
      for (const tag of request.tags ?? []) names.add(`t:${tag}`)
      for (const model of request.models ?? []) {
        if (this.schema.model(model) === undefined) throw new CacheConfigError('invalidate.models', `has no model '${model}'`)
        names.add(`m:${model}`)
      }
      await this.bump(names)
    },
    invalidateAll: async () => {
      this.l1?.clear()
      await this.bump(['*'])
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

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function withoutKey(object: object, key: string): object {
  const { [key]: _, ...rest } = object as Record<string, unknown>
  return rest
}
