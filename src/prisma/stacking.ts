import { CacheConfigError } from '../errors.js'

/** The operations the cache answers from its model overrides, and the hook that covers them all. */
const READ_HOOKS = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy', '$allOperations'])

interface ExtensionArgs {
  name?: unknown
  result?: Record<string, Record<string, unknown> | undefined>
  query?: Record<string, unknown>
  client?: Record<string, unknown>
}

/**
 * Refuses an extension applied on top of `withCache()` whose effect on reads would be lost.
 * Prisma applies query hooks and computes result fields when it runs a query, for the client the
 * query runs on; a cached read runs its query (on a miss) on the client below the cache, and on a
 * hit none at all: a later extension's soft-delete filter would never run, its fields would never
 * be computed. Model and client components on top work (they call the cache's methods), so they
 * pass. Called by the `$extends` the cache puts on its client; test/read/stacked-extensions.test.ts.
 */
export function refuseOnTop(extension: unknown): void {
  if (typeof extension !== 'object' || extension === null) return // a function: Prisma calls it, and it calls $extends with an object
  const { name, result, query, client } = extension as ExtensionArgs
  if (name === 'prisma-tiered-cache') return // another cache instance: its reads reach this one as queries
  // @prisma/extension-read-replicas: its hook only routes reads, so below it misses read the
  // primary, never stale (test/read/read-replicas.test.ts, "withCache applied first…")
  if (client?.$replica !== undefined && client.$primary !== undefined) return
  const lost = lostOnReads(result, query)
  if (lost === undefined) return
  const label = typeof name === 'string' && name !== '' ? `extension "${name}"` : 'an extension without a name'
  throw new CacheConfigError(
    label,
    `is applied on top of withCache(): its ${lost} would not apply to cached reads. Apply withCache() last: client.$extends(thatExtension).$extends(withCache(...))`,
  )
}

function lostOnReads(result: ExtensionArgs['result'], query: ExtensionArgs['query']): string | undefined {
  for (const [model, fields] of Object.entries(result ?? {})) {
    const field = Object.keys(fields ?? {})[0]
    if (field !== undefined) return `result field ${model}.${field}`
  }
  for (const [key, hooks] of Object.entries(query ?? {})) {
    if (key === '$allOperations') return 'query hook $allOperations'
    if (typeof hooks !== 'object' || hooks === null) continue // $queryRaw and the like: not cached
    const hook = Object.keys(hooks).find((operation) => READ_HOOKS.has(operation))
    if (hook !== undefined) return `query hook ${key}.${hook}`
  }
  return undefined
}
