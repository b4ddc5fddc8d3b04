import { AsyncLocalStorage } from 'node:async_hooks'
import type { CounterName } from '../keys/names.js'
import type { OpenTransactions } from './open-transactions.js'

/** What a running `$transaction` collects: the counters its writes bumped, bumped again on commit. */
export interface TransactionScope {
  readonly touched: Set<CounterName>
  /** The transaction client of the innermost callback (detached read methods run on it). */
  readonly client?: unknown
}

/**
 * Prisma gives extensions no public "in a transaction" flag, so the extension wraps
 * `$transaction` and marks its callback's async context. Reads in that context bypass the cache
 * (they may see uncommitted rows); writes record their counters for the commit-time bump. One per
 * extension instance: a transaction of one client says nothing about another client's cache.
 */
export class Transactions {
  private readonly storage = new AsyncLocalStorage<TransactionScope>()

  /** On a one-connection database (SQLite): which transactions are open, for the store decision. */
  constructor(readonly open: OpenTransactions | undefined) {}

  current(): TransactionScope | undefined {
    return this.storage.getStore()
  }

  run<T>(scope: TransactionScope, fn: () => T): T {
    return this.storage.run(scope, fn)
  }
}
