import type { CounterName } from '../keys/names.js'

/**
 * Whether a transaction of this process was open while a read ran, on a database whose driver
 * runs every query of the process on one connection: SQLite, where adapter-better-sqlite3 holds
 * one database handle and runs a query made outside an interactive transaction on it while the
 * transaction is open, inside it. Such a read sees the transaction's uncommitted writes (uncached
 * Prisma too); cached, that answer would outlive a rollback, which bumps nothing, until its TTL
 * (test/invalidation/interleaving.test.ts on the sqlite project: a cached post.findMany kept a
 * post that a rolled-back transaction created). So such an answer is returned but not stored.
 * Transactions end in a bump where they change the database (commit) and leave it as it was
 * otherwise, so answers read once none is open are stored as usual.
 *
 * A write from outside that runs while a transaction is open runs inside it too, and commits with
 * it: its counters are bumped again when the transaction ends, for other processes (their own
 * connections) that read the old rows after its bumps (test/invalidation/one-connection.test.ts).
 */
export class OpenTransactions {
  private open = 0
  /** Counts every begin and end: a read that sees it unchanged and none open overlapped none. */
  private changes = 0
  /** Counters of writes from outside while one was open: they commit (or not) with it. */
  private joined = new Set<CounterName>()

  begin(): void {
    this.open++
    this.changes++
  }

  /** A write outside any transaction's callback bumped these. */
  wrote(names: Iterable<CounterName>): void {
    if (this.open === 0) return
    for (const name of names) this.joined.add(name)
  }

  /** A transaction ended: returns the counters to bump again, those of writes that joined it. */
  end(): Set<CounterName> {
    this.open--
    this.changes++
    const joined = this.joined
    if (joined.size > 0) this.joined = new Set()
    return joined
  }

  /** Taken when a read snapshots its counters. */
  mark(): number {
    return this.changes
  }

  /** Whether a transaction was open at some moment since `mark` was taken. */
  overlapped(mark: number): boolean {
    return this.open > 0 || this.changes !== mark
  }
}
