import type { Invalidator } from '../invalidation/invalidator.js'
import type { TransactionScope, Transactions } from '../invalidation/transactions.js'

export type Begin = (...args: unknown[]) => Promise<unknown>

/**
 * Interactive transactions run their callback in a scope that makes reads bypass the cache and
 * collects the counters written; those are bumped once more when the outermost transaction
 * commits, because a read from outside could have cached the pre-commit rows after the write-time
 * bumps. On rollback nothing more is bumped: the database did not change. Array transactions are
 * handled by the read's promise itself (prisma-promise.ts, `requestTransaction`).
 */
export async function runTransaction(
  transactions: Transactions,
  invalidator: Invalidator,
  begin: Begin,
  args: unknown[],
  nested: boolean,
): Promise<unknown> {
  const [first, ...rest] = args
  const open = transactions.open
  if (open === undefined) return transact(transactions, invalidator, begin, first, rest, nested)
  // on one connection, reads from outside see this transaction's writes while it runs (open-transactions.ts)
  open.begin()
  try {
    return await transact(transactions, invalidator, begin, first, rest, nested)
  } finally {
    const joined = open.end()
    if (joined.size > 0) await invalidator.commit(joined)
  }
}

/** The transaction itself, and the commit-time bump of an interactive one. */
async function transact(transactions: Transactions, invalidator: Invalidator, begin: Begin, first: unknown, rest: unknown[], nested: boolean): Promise<unknown> {
  if (typeof first !== 'function') return begin(first, ...rest)
  // `tx.$transaction` is a savepoint of the outer transaction: its writes commit with the outer
  // one. A `prisma.$transaction` started inside a callback is a transaction of its own.
  const outer = nested ? transactions.current() : undefined
  const scope: TransactionScope = outer ?? { touched: new Set() }
  const callback = first as (tx: unknown) => Promise<unknown>
  const result = await begin((tx: unknown) => transactions.run({ touched: scope.touched, client: tx }, () => callback(tx)), ...rest)
  if (outer === undefined) await invalidator.commit(scope.touched)
  return result
}
