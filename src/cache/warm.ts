import type { CacheLogger } from '../config/options.js'
import { CacheConfigError, safeError } from '../errors.js'

/**
 * One read of a warm-up: a function that starts it, typically `() => prisma.user.findUnique(…)`
 * on the cached client. A function rather than a promise so that at most `concurrency` run at once
 * (a Prisma promise starts when awaited, but a plain promise has started already).
 */
export type WarmRead = () => PromiseLike<unknown>

export interface WarmOptions {
  /** Reads in flight at once. Those started in one tick batch like any findUnique. @default 16 */
  concurrency?: number
}

/** What a warm-up did: reads given, reads that succeeded (their entries now cached), reads that failed, wall time. */
export interface WarmSummary {
  total: number
  warmed: number
  failed: number
  ms: number
}

export const DEFAULT_WARM_CONCURRENCY = 16
/** Progress lines per warm-up, besides the last one. */
const PROGRESS_STEPS = 10

/** Checks the arguments of `$cache.warm()`: a wrong one is a CacheConfigError, before any read starts. */
export function warmReads(reads: unknown, options: WarmOptions | undefined): { reads: WarmRead[]; concurrency: number } {
  if (typeof reads !== 'object' || reads === null || !(Symbol.iterator in reads)) {
    throw new CacheConfigError('warm', `expects a list of functions starting reads, got ${describe(reads)}`)
  }
  const list = [...(reads as Iterable<unknown>)]
  const bad = list.findIndex((read) => typeof read !== 'function')
  if (bad !== -1) throw new CacheConfigError(`warm[${bad}]`, `must be a function starting a read (() => prisma.user.findUnique(…)), got ${describe(list[bad])}`)
  const concurrency = options?.concurrency ?? DEFAULT_WARM_CONCURRENCY
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new CacheConfigError('warm.concurrency', `must be a positive integer, got ${describe(concurrency)}`)
  }
  return { reads: list as WarmRead[], concurrency }
}

/**
 * Runs `reads` through the cache, `concurrency` at a time: each finished read starts the next, so
 * the first `concurrency` start in one tick and batch. A failed read is logged (its error made
 * safe: no value) and counted, never thrown; the promise always resolves with the summary.
 */
export async function warm(reads: readonly WarmRead[], concurrency: number, logger: CacheLogger | undefined, clock: () => number): Promise<WarmSummary> {
  const started = clock()
  const total = reads.length
  const step = Math.max(1, Math.ceil(total / PROGRESS_STEPS))
  let next = 0
  let done = 0
  let failed = 0
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next++
      try {
        await reads[index]!()
      } catch (error) {
        failed++
        logger?.warn({ err: safeError(error), index }, 'prisma-tiered-cache: warm-up read failed')
      }
      done++
      if (done % step === 0 && done < total) logger?.info({ done, total, failed }, 'prisma-tiered-cache: warm-up progress')
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
  const summary = { total, warmed: total - failed, failed, ms: clock() - started }
  logger?.info(summary, 'prisma-tiered-cache: warm-up done')
  return summary
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `a string (${value.length} characters)`
  if (typeof value === 'number') return String(value)
  return value === null ? 'null' : typeof value
}
