import { queryHookCount } from './prisma-internals.js'

/** The reads whose operation a lower hook can name (a batch or an OrThrow miss runs another operation). */
const READS = ['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany']

/** No Prisma operation has this name: the hooks that run for it are the `$allOperations` ones. */
const NO_OPERATION = '\u0000prisma-tiered-cache'

/**
 * Which reads of which models the query extensions applied below the cache hook by their
 * operation's name (`user: { findUnique }`, `$allModels: { findMany }`), read once when the cache
 * is defined. The cache runs a batch of `findUnique`s as one `findMany`, and a `findUniqueOrThrow`
 * miss as a `findUnique`: right only where no hook names either operation, since such a hook
 * (a soft-delete filter) would then not run, or run where it should not
 * (test/read/lower-extensions.test.ts). `$allOperations` hooks run for every operation, the
 * batch's included; they see the operation actually run.
 */
export class LowerHooks {
  /** model -> the read operations a lower hook names (a lookup without building a string: OrThrow hits ask). */
  private readonly named = new Map<string, Set<string>>()
  private readonly unknown: boolean

  constructor(client: unknown, models: Iterable<string>) {
    const count = queryHookCount(client)
    this.unknown = count === undefined
    if (count === undefined) return
    for (const model of models) {
      const jsName = model.charAt(0).toLowerCase() + model.slice(1)
      const everyOperation = count(jsName, NO_OPERATION)
      const named = READS.filter((operation) => count(jsName, operation) > everyOperation)
      if (named.length > 0) this.named.set(model, new Set(named))
    }
  }

  /** True if a lower hook names `operation` of `model` (or the hooks cannot be read). */
  names(model: string, operation: string): boolean {
    return this.unknown || this.named.get(model)?.has(operation) === true
  }
}
