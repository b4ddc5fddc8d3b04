// Timing on top of tinybench. Calls of a few microseconds are timed in batches: one tinybench
// iteration runs `batch` calls back to back (awaiting each) and reports the mean per call as its
// sample (`overriddenDuration`), so the timer's own cost stays out of a ~1 µs measurement; the
// batch is sized from a short calibration so that an iteration lasts about `iterationMs`. Slow
// operations (a whole N+1 resolver, a write with 100,000 cached keys) run one call per iteration.
// Samples are retained, so a result carries the median and the 10th–90th percentile spread.
// Contenders of one table are timed in alternating rounds and their samples pooled, so that a
// burst of load from elsewhere on a shared machine does not land on one contender only.
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
  /** relative margin of error of the mean (~95%), percent, over the pooled samples */
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

/** One thing to time: `call` per sample, after an untimed `prepare` when there is one. */
export interface Task {
  name: string
  call: () => PromiseLike<unknown>
  /** Runs before every sample, outside the timed window (a cache reset, a refill); batch is 1 then. */
  prepare?: () => Promise<void>
  options?: MeasureOptions
}

/** Per-call timing of an async call: median and spread over tinybench samples of batched calls. */
export async function measure(name: string, call: () => PromiseLike<unknown>, options: MeasureOptions = {}): Promise<Measurement> {
  const [m] = await measureInterleaved([{ name, call, options }], 1)
  return m!
}

/**
 * Timing of an operation that needs untimed preparation before every sample (a cache reset for a
 * cold run, a refill before a write): `prepare` runs outside the timed window, `call` inside it.
 */
export async function measureEach(
  name: string,
  prepare: () => Promise<void>,
  call: () => PromiseLike<unknown>,
  { samples = 7 }: { samples?: number } = {},
): Promise<Measurement> {
  const [m] = await measureInterleaved([{ name, call, prepare, options: { iterations: samples } }], 1)
  return m!
}

/**
 * Times several tasks in `rounds` alternating rounds (A B C, A B C, ...), each round a tinybench
 * run with a `1/rounds` share of the task's time budget and iterations, samples pooled per task.
 * On a shared machine a burst of load then spreads over every task instead of landing on one.
 */
export async function measureInterleaved(tasks: Task[], rounds = 3): Promise<Measurement[]> {
  const pooled = tasks.map(() => [] as number[])
  const batches = tasks.map((t) => (t.prepare ? 1 : (t.options?.batch ?? 0)))
  for (let i = 0; i < tasks.length; i++) {
    if (batches[i] === 0) batches[i] = await calibrate(tasks[i]!.call, tasks[i]!.options?.iterationMs ?? 5)
  }
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < tasks.length; i++) {
      pooled[i]!.push(...(await samplesOf(tasks[i]!, batches[i]!, rounds)))
    }
  }
  return tasks.map((t, i) => summarize(t.name, pooled[i]!, batches[i]!))
}

async function samplesOf(task: Task, batch: number, rounds: number): Promise<number[]> {
  const { time = 1000, warmupTime = 200, iterations = 7 } = task.options ?? {}
  const { call, prepare } = task
  const bench = prepare
    ? new Bench({ time: 0, warmup: false, iterations: Math.ceil(iterations / rounds), retainSamples: true, throws: true })
    : new Bench({
        time: time / rounds,
        warmupTime: warmupTime / rounds,
        iterations: Math.ceil(iterations / rounds),
        warmupIterations: 2,
        retainSamples: true,
        throws: true,
      })
  if (prepare) {
    bench.add(task.name, async (): Promise<FnReturnedObject> => {
      const before = process.hrtime.bigint()
      await prepare()
      const start = process.hrtime.bigint()
      await call()
      const end = process.hrtime.bigint()
      return { overriddenDuration: Number(end - start) / 1e6, overriddenIterationCost: Number(end - before) / 1e6 }
    })
  } else {
    bench.add(task.name, async (): Promise<FnReturnedObject> => {
      const start = process.hrtime.bigint()
      for (let i = 0; i < batch; i++) await call()
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      return { overriddenDuration: ms / batch, overriddenIterationCost: ms }
    })
  }
  await bench.run()
  const result = bench.tasks[0]!.result
  if (result.state !== 'completed' && result.state !== 'aborted-with-statistics') {
    throw new Error(`benchmark ${task.name} did not complete: ${result.state === 'errored' ? result.error.message : result.state}`)
  }
  return [...(result.latency.samples ?? [])]
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

function summarize(name: string, samplesMs: number[], batch: number): Measurement {
  const sorted = [...samplesMs].sort((a, b) => a - b)
  const us = (ms: number) => ms * 1000
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  const sd = Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, sorted.length - 1))
  return {
    name,
    us: us(quantile(sorted, 0.5)),
    p10: us(quantile(sorted, 0.1)),
    p90: us(quantile(sorted, 0.9)),
    min: us(sorted[0] ?? Number.NaN),
    max: us(sorted.at(-1) ?? Number.NaN),
    // relative margin of error of the mean at ~95%, as tinybench reports it for one run
    rme: sorted.length > 1 ? ((1.96 * sd) / Math.sqrt(sorted.length) / mean) * 100 : 0,
    samples: sorted.length,
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
