/** What `$transaction([...])` calls on each element of its array. */
interface TransactionCapable {
  requestTransaction?(batch: unknown): PromiseLike<unknown>
}

/**
 * What a cached read returns: a Prisma-promise look-alike. Like Prisma's own, it is lazy (nothing
 * runs until awaited) and it can join an array `$transaction([...])`, where it hands over the real,
 * uncached Prisma query: a cache must never answer inside a transaction, nor make one hang.
 */
export class CachedPrismaPromise<T> implements PromiseLike<T> {
  private started: Promise<T> | undefined

  constructor(
    private readonly serve: () => unknown,
    private readonly uncached: () => PromiseLike<unknown> & TransactionCapable,
  ) {}

  private run(): Promise<T> {
    if (this.started === undefined) {
      try {
        this.started = Promise.resolve(this.serve() as T)
      } catch (error) {
        this.started = Promise.reject(error)
      }
    }
    return this.started
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.run().then(onfulfilled, onrejected)
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.run().catch(onrejected)
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.run().finally(onfinally)
  }

  requestTransaction(batch: unknown): PromiseLike<unknown> {
    const query = this.uncached()
    return query.requestTransaction ? query.requestTransaction(batch) : (query as PromiseLike<unknown>)
  }

  get [Symbol.toStringTag](): string {
    return 'PrismaPromise'
  }
}
