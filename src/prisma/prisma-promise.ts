import type { Prisma } from '@prisma/client/extension'
import { newInfo, type CacheInfo } from '../read/cache-info.js'
import type { QueryRunner } from '../read/request.js'
import { withoutStrategy } from '../config/policy.js'
import { locateCaller } from './callsite.js'

/** What `$transaction([...])` calls on each element of its array. */
interface TransactionCapable {
  requestTransaction?(batch: unknown): PromiseLike<unknown>
}

type Delegate = Record<string, (args: unknown) => PromiseLike<unknown> & TransactionCapable>

/** The model context Prisma binds to a model-extension method (`this`). */
export interface ModelContext {
  $name: string
  $parent: Record<string, Delegate>
}

/** What serves a read: `ReadPath.read`, seen from here. */
export interface ReadServer {
  read(model: string, operation: string, args: unknown, runner: QueryRunner, inTransaction: boolean): unknown
  bypassed(model: string, operation: string, reason: 'transaction'): void
}

/**
 * True while a read calls its real query through `$parent`. Prisma gives a model override the
 * context of the client it was called on, not of the layer that defined it: once other extensions
 * are applied on top of this one, `$parent` is a client that still has this override, and the
 * query comes back to it, synchronously, within that call. It must then pass straight through.
 * One per extension instance: another instance's query is not ours to pass through.
 */
export class Forwarding {
  active = false
}

/**
 * What a cached read returns: a Prisma-promise look-alike. Like Prisma's own, it is lazy (nothing
 * runs until awaited) and it can join an array `$transaction([...])`, where it hands over the real,
 * uncached Prisma query: a cache must never answer inside a transaction, nor make one hang.
 * It is also the read's query runner, so that a read allocates this one object and no closures.
 */
export class CachedPrismaPromise<T> implements PromiseLike<T>, QueryRunner {
  private started: Promise<T> | undefined
  /** Set by `withCacheInfo()` before the read runs; the read path fills it only when set. */
  info: CacheInfo | undefined = undefined
  /** Set when the read called Prisma: its answer can fail, and settles where the caller is found. */
  private queried = false

  constructor(
    readonly server: ReadServer,
    readonly forwarding: Forwarding,
    readonly ctx: ModelContext,
    readonly operation: string,
    readonly args: unknown,
    readonly inTransaction: boolean,
  ) {}

  /** Runs the real Prisma query on the client this extension was applied to. */
  query(operation: string, args: unknown): PromiseLike<unknown> & TransactionCapable {
    this.forwarding.active = true
    this.queried = true
    try {
      return this.ctx.$parent[delegateName(this.ctx.$name)]![operation]!(args)
    } finally {
      this.forwarding.active = false
    }
  }

  /** Starts the read once; a fluent read (fluent.ts) answers a part of it. */
  protected run(): Promise<T> {
    if (this.started === undefined) {
      try {
        const answer = this.server.read(this.ctx.$name, this.operation, this.args, this, this.inTransaction)
        // an L1 hit's answer cannot fail, and is not held up
        this.started = (answer instanceof Promise || this.queried ? this.settle(answer) : Promise.resolve(answer)) as Promise<T>
      } catch (error) {
        this.started = Promise.reject(error)
      }
    }
    return this.started
  }

  /** Awaits in an async function, so that a stack taken on an error still reaches the caller's `await` (callsite.ts). */
  private async settle(answer: unknown): Promise<T> {
    try {
      return (await answer) as T
    } catch (error) {
      throw locateCaller(error, new Error())
    }
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

  /** The answer and how it was answered, for one call (as Accelerate's `withAccelerateInfo()`). */
  withCacheInfo(): Promise<{ data: T; info: CacheInfo }> {
    const info = (this.info ??= newInfo(Date.now()))
    return this.run().then((data) => ({ data, info }))
  }

  requestTransaction(batch: unknown): PromiseLike<unknown> {
    this.server.bypassed(this.ctx.$name, this.operation, 'transaction')
    const query = this.query(this.operation, withoutStrategy(this.args))
    return query.requestTransaction ? query.requestTransaction(batch) : query
  }

  get [Symbol.toStringTag](): string {
    return 'PrismaPromise'
  }
}

/** What every cached read method returns: Prisma's promise type, and `withCacheInfo()`. */
export type CachedRead<T> = Prisma.PrismaPromise<T> & { withCacheInfo(): Promise<{ data: T; info: CacheInfo }> }

/**
 * Prisma names a model's client property after the model with a lower-case first letter.
 * Remembered: a pure function of the name, called on every miss (a memo, not shared behaviour).
 */
const delegateNames = new Map<string, string>()

export function delegateName(model: string): string {
  let name = delegateNames.get(model)
  if (name === undefined) {
    name = model.charAt(0).toLowerCase() + model.slice(1)
    delegateNames.set(model, name)
  }
  return name
}
