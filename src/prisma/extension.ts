import { Prisma } from '@prisma/client/extension'
import type { CacheApi } from '../cache/api.js'
import { replicaLagFor } from '../cache/replica-lag.js'
import { TieredCache } from '../cache/tiered-cache.js'
import type { CacheOptions } from '../config/options.js'
import { resolveOptions } from '../config/resolve.js'
import { isTransactionClient } from '../schema/prisma-internals.js'
import { SchemaFacts } from '../schema/schema.js'
import { tracedReads } from '../read/tracing.js'
import { CachedPrismaPromise, delegateName, Forwarding, type ModelContext } from './prisma-promise.js'
import { enableFluent } from './fluent.js'
import type { OptionalArgsReadMethod, ReadMethod } from './method-types.js'
import { refuseOnTop } from './stacking.js'
import { runTransaction, type Begin } from './transaction.js'

export type { CacheArgs } from './method-types.js'

const WRITES = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
])

const READS = ['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy']

type Client = { $transaction: Begin }

/**
 * The Prisma glue. Reads are `model` overrides rather than a `query` hook: Prisma's query-extension
 * machinery costs ~16 µs per call before a hook can answer, an override of the same method ~1 µs
 * (DESIGN.md, "Measured facts"). Writes and raw SQL go through `query` hooks, where that cost is noise.
 */
export function withCache(options?: CacheOptions) {
  const resolved = resolveOptions(options)
  return Prisma.defineExtension((client) => {
    const base = client as unknown as Record<string, Record<string, (args: unknown) => PromiseLike<unknown>>>
    const schema = new SchemaFacts(client)
    const cache = new TieredCache({ ...resolved, replicaLagMs: replicaLagFor(resolved, client) }, schema, (model) => ({
      query: (operation, args) => base[delegateName(model)]![operation]!(args),
    }))
    const { invalidator, transactions } = cache
    const reads = tracedReads(cache.reads, resolved)
    const forwarding = new Forwarding()

    // How a read knows it is inside a transaction: the three mechanisms that remain, each proven
    // necessary by a test that fails without it (test/invalidation/invalidation.test.ts):
    // 1. the transaction client's own mark, read here once per model context ($parent is Prisma's
    //    proxy, and a symbol read through it costs a tenth of an L1 hit): "a transaction client
    //    used where the async context is lost";
    // 2. the AsyncLocalStorage scope of our $transaction wrapper (invalidation/transactions.ts),
    //    for reads through the outer client inside a callback and for the commit-time bump of the
    //    callback's writes: "interactive commit…", metrics' "counts every read of a known workload";
    // 3. `requestTransaction` on the read's promise, for array transactions: "array $transaction…".
    const inTransaction = new WeakMap<object, boolean>()
    // A method called detached from its delegate (`const { findMany } = prisma.user`) has no
    // `this`: Prisma's own methods work so, and ours then read from the client they extend (or,
    // inside a `$transaction` callback, from its transaction client).
    const detached = new Map<string, ModelContext>()
    const detachedContext = (model: string) => {
      let ctx = detached.get(model)
      if (ctx === undefined) detached.set(model, (ctx = { $name: model, $parent: base as ModelContext['$parent'] }))
      return ctx
    }
    const shadowed = enableFluent(reads, schema)
    if (shadowed.length > 0) {
      resolved.logger?.warn({ relations: shadowed }, 'prisma-tiered-cache: these relations are named like a member of a read\'s promise and have no fluent method; select them instead')
    }
    function read(operation: string, model?: string) {
      return function (this: unknown, args?: unknown): unknown {
        // detached inside a transaction callback: most likely taken from `tx`, so it runs there
        const tx = this === undefined && model !== undefined ? transactions.current()?.client : undefined
        if (tx !== undefined) return (tx as typeof base)[delegateName(model!)]![operation]!(args)
        const ctx =
          this === undefined && model !== undefined
            ? detachedContext(model)
            : (Prisma.getExtensionContext(this) as unknown as ModelContext)
        // our own read's query, back here because extensions were applied on top of this one
        if (forwarding.active) {
          return ctx.$parent[delegateName(ctx.$name)]![operation]!(args)
        }
        let transactional = inTransaction.get(ctx)
        if (transactional === undefined) inTransaction.set(ctx, (transactional = isTransactionClient(ctx.$parent)))
        return new CachedPrismaPromise(reads, forwarding, ctx, operation, args, transactional)
      }
    }

    // The same methods per model, knowing their model: they answer detached calls too. Prisma
    // prefers a model's own methods to `$allModels`' (which stay for the types).
    const perModel: Record<string, Record<string, (args?: unknown) => unknown>> = {}
    for (const model of schema.models.keys()) {
      const methods: Record<string, (args?: unknown) => unknown> = {}
      for (const operation of READS) methods[operation] = read(operation, model)
      perModel[delegateName(model)] = methods
    }

    return client.$extends({
      name: 'prisma-tiered-cache',
      model: {
        ...(perModel as {}),
        $allModels: {
          findUnique: read('findUnique') as unknown as ReadMethod<'findUnique'>,
          findUniqueOrThrow: read('findUniqueOrThrow') as unknown as ReadMethod<'findUniqueOrThrow'>,
          findFirst: read('findFirst') as unknown as OptionalArgsReadMethod<'findFirst'>,
          findFirstOrThrow: read('findFirstOrThrow') as unknown as OptionalArgsReadMethod<'findFirstOrThrow'>,
          findMany: read('findMany') as unknown as OptionalArgsReadMethod<'findMany'>,
          count: read('count') as unknown as OptionalArgsReadMethod<'count'>,
          aggregate: read('aggregate') as unknown as ReadMethod<'aggregate'>,
          groupBy: read('groupBy') as unknown as ReadMethod<'groupBy'>,
        },
      },
      query: {
        $allModels: {
          $allOperations({ model, operation, args, query }) {
            // reads never pass here: the model overrides answer them, and their own queries run on $parent
            return WRITES.has(operation) ? invalidator.write(model, operation, args, (sent) => query(sent as typeof args)) : query(args)
          },
        },
        $executeRaw({ args, query }) {
          return invalidator.writeRaw(() => query(args))
        },
        $executeRawUnsafe({ args, query }) {
          return invalidator.writeRaw(() => query(args))
        },
        // never cached; a writing one (`UPDATE … RETURNING`) invalidates only what `affecting()` names
        $queryRaw({ args, query }) {
          return invalidator.queryRaw(() => query(args))
        },
        $queryRawUnsafe({ args, query }) {
          return invalidator.queryRaw(() => query(args))
        },
      },
      // Typed as `$cache` alone: a `$transaction` in the client component would replace Prisma's
      // own, fully typed signature with ours, and transaction callbacks would lose their types.
      client: {
        $cache: cache.api,
        $transaction: function (this: Client, ...args: unknown[]) {
          // The method of the client we extend (Prisma's own, normally), called on the client we
          // were called on, so its transaction client keeps every extension. Not `$parent`: with
          // extensions applied on top of ours, that client still has this override (see Forwarding in prisma-promise.ts).
          const begin = (...a: unknown[]) => (client as unknown as Client).$transaction.apply(this, a)
          return runTransaction(transactions, invalidator, begin, args, isTransactionClient(this))
        },
        // Prisma's own, after refusing what would not apply to cached reads (stacking.ts)
        $extends: function (this: unknown, extension: unknown) {
          refuseOnTop(extension)
          return (client as unknown as { $extends: (e: unknown) => unknown }).$extends.call(this, extension)
        },
      } as { $cache: CacheApi },
    })
  })
}
