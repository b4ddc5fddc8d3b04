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
 */
export class OpenTransactions {
  private open = 0
  /** Counts every begin and end: a read that sees it unchanged and none open overlapped none. */
  private changes = 0

  begin(): void {
    this.open++
    this.changes++
  }

  end(): void {
    this.open--
    this.changes++
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
