import { randomBytes } from 'node:crypto'

/** What a lease holder needs from Redis (implemented by L2); leases are named by their entry's key. */
export interface LeaseStore {
  tryLease(entryKey: string, token: string, ttlMs: number): Promise<{ taken: boolean; entryExists: boolean } | undefined>
  renewLease(entryKey: string, token: string, ttlMs: number): Promise<boolean>
  releaseLease(entryKey: string, token: string): Promise<void>
}

/**
 * A lease across processes: `SET NX PX` with a random token, renewed while the holder's query
 * runs, released by compare-and-delete (by the store script when the holder stores, so a miss
 * pays no round trip for it). If the holder dies, renewal stops and the lease expires, so a
 * waiter can take over.
 */
export class Lease {
  private readonly timer: NodeJS.Timeout
  private released = false

  private constructor(
    private readonly store: LeaseStore,
    private readonly entryKey: string,
    readonly token: string,
    /** The entry existed when the lease was taken: a previous holder may have just stored it. */
    readonly entryExists: boolean,
    ttlMs: number,
  ) {
    this.timer = setInterval(() => void store.renewLease(entryKey, token, ttlMs).catch(() => {}), Math.max(1, ttlMs / 3))
    this.timer.unref()
  }

  /** The lease if we took it, `null` if another process holds it, `undefined` if Redis did not answer. */
  static async take(store: LeaseStore, entryKey: string, ttlMs: number): Promise<Lease | null | undefined> {
    const token = randomBytes(12).toString('base64url')
    const answer = await store.tryLease(entryKey, token, ttlMs)
    if (answer === undefined) return undefined
    return answer.taken ? new Lease(store, entryKey, token, answer.entryExists, ttlMs) : null
  }

  /** The store script released it: stop renewing. */
  handedBack(): void {
    this.released = true
    clearInterval(this.timer)
  }

  async release(): Promise<void> {
    clearInterval(this.timer)
    if (this.released) return
    this.released = true
    await this.store.releaseLease(this.entryKey, this.token)
  }
}

/** Poll delays while waiting for a lease holder's value: short first, then backing off, jittered. */
export function pollDelay(attempt: number): number {
  const base = Math.min(5 * 2 ** attempt, 50)
  return base / 2 + Math.random() * base
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
