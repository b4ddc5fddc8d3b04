// Tools for seeded interleaving tests: a reproducible random source, random pauses that reorder
// concurrent work, and the oracle that judges reads racing writes (test/invalidation/interleaving.test.ts).
import { AsyncLocalStorage } from 'node:async_hooks'

/** mulberry32: tiny, fast, and good enough to drive a test; the same seed gives the same run. */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }

  /** `n` distinct items, in random order. */
  sample<T>(items: readonly T[], n: number): T[] {
    const pool = [...items]
    const out: T[] = []
    while (out.length < n && pool.length > 0) out.push(pool.splice(this.int(pool.length), 1)[0]!)
    return out
  }

  /** An independent stream, so that one actor's draws never shift another's. */
  fork(salt: number): Rng {
    return new Rng(Math.imul(this.state ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35))
  }
}

/**
 * The random source of the actor whose async context is running. The delay extension draws its
 * pauses from it, so each actor's pauses depend on its own seed, not on which actor got there first.
 */
export const actorRng = new AsyncLocalStorage<Rng>()

/**
 * A random pause: none at all, a microtask, a macrotask (setImmediate), or a timer of 1–4 ms.
 * Different lengths let any operation overtake any other, in every order.
 */
export function pause(rng: Rng): Promise<void> | undefined {
  const r = rng.next()
  if (r < 0.2) return undefined
  if (r < 0.4) return Promise.resolve()
  if (r < 0.6) return new Promise((resolve) => setImmediate(resolve))
  const ms = 1 + rng.int(4)
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A longer pause, half the time: 2–8 ms, long enough for a whole write to fit inside it. */
export function linger(rng: Rng): Promise<void> | undefined {
  if (rng.chance(0.5)) return pause(rng)
  const ms = 2 + rng.int(7)
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A settled operation, comparable across the cached and the uncached client. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: string }

export async function settle(run: () => PromiseLike<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await run() }
  } catch (error) {
    return { ok: false, error: describeError(error) }
  }
}

/** Prisma's known errors compare by code; anything else by class name and message. */
export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') return code
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`
  return String(error)
}

/**
 * The oracle for "a read that starts after a write was acknowledged never returns data older than
 * that write".
 *
 * Every write (failed ones and whole transactions included) declares the tables it can change, a
 * superset written by hand in the test, independently of the library's own analysis; every read
 * declares the tables its answer depends on, a superset as well. A write counts as started on its
 * tables when it is issued and as acknowledged when its promise settles.
 *
 * A read is *quiet* when, on every table it depends on, no write was in flight as it started
 * (started === acknowledged there) and none started until its answer had been compared with the
 * database's (started unchanged). Across a quiet read, nothing it depends on can change in the
 * database, and every change those tables ever had was acknowledged before the read started: so
 * whatever the cache answers, from a hit or from a query, must deep-equal what the database answers
 * right after. That is sound: a read that overlaps a write in flight on its tables may return
 * either side of it, and is not judged; writes elsewhere cannot change its answer. Soundness
 * rests on the declared tables being supersets (a write declared too narrowly, or a read, would
 * raise false alarms: every run on a correct cache must pass, so they would show). It is strong
 * because quiet reads are frequent even under heavy concurrency (writes elsewhere do not spoil
 * them), so a stale entry, stored by a read that overlapped a write, is found by the next quiet
 * read of its key; the test adds sweeps that replay its reads whenever every write is acknowledged.
 */
export class WriteClock<Table extends string> {
  /** Writes acknowledged so far, all tables together. */
  acked = 0
  private readonly startedOn = new Map<Table, number>()
  private readonly ackedOn = new Map<Table, number>()

  async write(tables: readonly Table[], run: () => PromiseLike<unknown>): Promise<Outcome> {
    for (const t of tables) this.startedOn.set(t, (this.startedOn.get(t) ?? 0) + 1)
    try {
      return await settle(run)
    } finally {
      for (const t of tables) this.ackedOn.set(t, (this.ackedOn.get(t) ?? 0) + 1)
      this.acked++
    }
  }

  /**
   * Runs `cached`; if the read was quiet on `tables`, runs `direct` and returns both outcomes for
   * comparison, else `undefined` (a write on its tables overlapped it: nothing can be concluded).
   */
  async read(
    tables: readonly Table[],
    cached: () => PromiseLike<unknown>,
    direct: () => PromiseLike<unknown>,
  ): Promise<{ startAck: number; cached: Outcome; direct: Outcome } | undefined> {
    const startAck = this.acked
    const quietAtStart = tables.every((t) => (this.startedOn.get(t) ?? 0) === (this.ackedOn.get(t) ?? 0))
    const startedBefore = tables.map((t) => this.startedOn.get(t) ?? 0)
    const unchanged = () => tables.every((t, i) => (this.startedOn.get(t) ?? 0) === startedBefore[i])
    const fromCache = await settle(cached)
    if (!quietAtStart || !unchanged()) return undefined
    const fromDatabase = await settle(direct)
    // a write that started while the database answered may already be in that answer
    if (!unchanged()) return undefined
    return { startAck, cached: fromCache, direct: fromDatabase }
  }
}
