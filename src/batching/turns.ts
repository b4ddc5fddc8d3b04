/**
 * Event-loop turns handed out one at a time. Prisma batches the `findUnique`s that reach it in one
 * tick (its DataLoader dispatches on `process.nextTick`) into one query, and routes the rows back
 * by exact value: under a case-insensitive collation, `'ann@…'` and `'ANN@…'` in one tick get the
 * row and `null`, on the plain client too. A read the cache does not batch for that reason
 * (batching/plan.ts, `unprovableUnique`) sends its query in a turn of its own, so Prisma never
 * batches it with another: each answers as it would alone (test/read/collation.test.ts, MariaDB).
 */
export class Turns {
  private last: Promise<void> = Promise.resolve()

  /** Resolves in a later turn than every turn handed out before. */
  next(): Promise<void> {
    const turn = this.last.then(() => new Promise<void>((resolve) => setImmediate(resolve)))
    this.last = turn
    return turn
  }
}
