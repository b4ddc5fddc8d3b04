import { AsyncLocalStorage } from 'node:async_hooks'

/** What a running `$transaction` collects: the models its writes touched, bumped again on commit. */
export interface TransactionScope {
  readonly touched: Set<string>
}

/**
 * Prisma gives extensions no public "in a transaction" flag, so the extension wraps
 * `$transaction` and marks its callback's async context. Reads in that context bypass the cache
 * (they may see uncommitted rows); writes record their models for the commit-time bump.
 */
export const transactions = new AsyncLocalStorage<TransactionScope>()

export function currentTransaction(): TransactionScope | undefined {
  return transactions.getStore()
}
