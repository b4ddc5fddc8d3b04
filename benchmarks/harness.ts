// Timing on top of tinybench. Calls of a few microseconds are timed in batches: one tinybench
// iteration runs `batch` calls back to back (awaiting each) and reports the mean per call as its
// sample (`overriddenDuration`), so the timer's own cost stays out of a ~1 µs measurement; the
// batch is sized from a short calibration so that an iteration lasts about `iterationMs`. Slow
// operations (a whole N+1 resolver, a write with 100,000 cached keys) run one call per iteration.
// Samples are retained, so a result carries the median and the 10th–90th percentile spread.
import { Bench, type FnReturnedObject } from 'tinybench'

export interface Measurement {
  name: string
  /** median microseconds per call */
  us: number
  /** 10th and 90th percentile of the samples, microseconds per call */
  p10: number
  p90: number
  min: number
  max: number
  /** tinybench's relative margin of error of the mean, percent */
  rme: number
  /** tinybench samples (iterations) */
  samples: number
  /** calls per sample */
  batch: number
}

export interface MeasureOptions {
  /** Time budget of the measured phase, ms. */
  time?: number
  /** Time budget of tinybench's warm-up, ms. */
  warmupTime?: number
  /** Target duration of one iteration (one batch of calls), ms. */
  iterationMs?: number
  /** Fixed calls per sample; calibrated when absent. */
  batch?: number
  /** Minimum number of samples. */
  iterations?: number
}

/** Per-call timing of an async call: median and spread over tinybench samples of batched calls. */
export async function measure(name: string, call: () => PromiseLike<unknown>, options: MeasureOptions = {}): Promise<Measurement> {
  const { time = 1000, warmupTime = 200, iterationMs = 5, iterations = 7 } = options
  const batch = options.batch ?? (await calibrate(call, iterationMs))
  const bench = new Bench({ time, warmupTime, iterations, warmupIterations: 2, retainSamples: true, throws: true })
  bench.add(name, async (): Promise<FnReturnedObject> => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) await call()
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    return { overriddenDuration: ms / batch, overriddenIterationCost: ms }
  })
  await bench.run()
  return summarize(name, bench, batch)
}

/**
 * Timing of an operation that needs untimed preparation before every sample (a cache reset for a
 * cold run, a refill before a write): `prepare` runs outside the timed window, `call` inside it.
 */
export async function measureEach(
  name: string,
  prepare: () => Promise<void>,
  call: () => Promise<unknown>,
  { samples = 7 }: { samples?: number } = {},
): Promise<Measurement> {
  const bench = new Bench({ time: 0, warmup: false, iterations: samples, retainSamples: true, throws: true })
  bench.add(name, async (): Promise<FnReturnedObject> => {
    const before = process.hrtime.bigint()
    await prepare()
    const start = process.hrtime.bigint()
    await call()
    const end = process.hrtime.bigint()
    return { overriddenDuration: Number(end - start) / 1e6, overriddenIterationCost: Number(end - before) / 1e6 }
  })
  await bench.run()
  return summarize(name, bench, 1)
}

/** A single timed run, for operations too costly to repeat (a write after filling 100,000 keys). */
export async function measureOnce(name: string, call: () => Promise<unknown>): Promise<Measurement> {
  const start = process.hrtime.bigint()
  await call()
  const us = Number(process.hrtime.bigint() - start) / 1000
  return { name, us, p10: us, p90: us, min: us, max: us, rme: 0, samples: 1, batch: 1 }
}

async function calibrate(call: () => PromiseLike<unknown>, iterationMs: number): Promise<number> {
  for (let i = 0; i < 3; i++) await call()
  let n = 1
  for (;;) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await call()
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (ms >= iterationMs / 4 || n >= 100_000) return Math.max(1, Math.round((n * iterationMs) / Math.max(ms, 1e-3)))
    n *= 4
  }
}

function summarize(name: string, bench: Bench, batch: number): Measurement {
  const task = bench.tasks[0]!
  const result = task.result
  if (result.state !== 'completed' && result.state !== 'aborted-with-statistics') {
    throw new Error(`benchmark ${name} did not complete: ${result.state === 'errored' ? result.error.message : result.state}`)
  }
  const latency = result.latency
  const sorted = [...(latency.samples ?? [])].sort((a, b) => a - b)
  const us = (ms: number) => ms * 1000
  return {
    name,
    us: us(latency.p50),
    p10: us(quantile(sorted, 0.1)),
    p90: us(quantile(sorted, 0.9)),
    min: us(latency.min),
    max: us(latency.max),
    rme: latency.rme,
    samples: latency.samplesCount,
    batch,
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

/** Microseconds, printed with a unit that keeps 3 significant digits readable. */
export function formatUs(us: number): string {
  if (!Number.isFinite(us)) return 'n/a'
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(2)} s`
  if (us >= 10_000) return `${(us / 1000).toFixed(1)} ms`
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`
  if (us >= 100) return `${us.toFixed(0)} µs`
  if (us >= 10) return `${us.toFixed(1)} µs`
  return `${us.toFixed(2)} µs`
}

export function formatSpread(m: Measurement): string {
  return m.samples <= 1 ? 'one run' : `${formatUs(m.p10)}–${formatUs(m.p90)}`
}

/** `12.3× faster` / `2.1× slower` relative to a baseline. */
export function formatRatio(m: Measurement, baseline: Measurement | undefined): string {
  if (baseline === undefined || m === baseline) return '1×'
  const r = baseline.us / m.us
  if (!Number.isFinite(r)) return 'n/a'
  return r >= 1 ? `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}× faster` : `${(1 / r).toFixed(1)}× slower`
}
