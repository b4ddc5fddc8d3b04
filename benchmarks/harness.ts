// A small timing harness for microsecond-scale async calls: each sample runs the call `iterations`
// times back to back (awaiting each), after a warm-up; we report the median per-call time and the
// spread across samples. Whole-sample timing keeps the timer's own cost out of a ~1 µs measurement.

export interface Measurement {
  name: string
  /** median microseconds per call */
  us: number
  /** fastest and slowest sample, microseconds per call */
  min: number
  max: number
  samples: number
}

export async function measure(
  name: string,
  call: () => PromiseLike<unknown>,
  { iterations = 1000, samples = 9, warmup = iterations }: { iterations?: number; samples?: number; warmup?: number } = {},
): Promise<Measurement> {
  for (let i = 0; i < warmup; i++) await call()
  const perCall: number[] = []
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) await call()
    perCall.push(Number(process.hrtime.bigint() - start) / 1000 / iterations)
  }
  perCall.sort((a, b) => a - b)
  return { name, us: perCall[Math.floor(samples / 2)]!, min: perCall[0]!, max: perCall[samples - 1]!, samples }
}

export function formatRow(m: Measurement, baseline?: Measurement): string {
  const ratio = baseline ? `${(baseline.us / m.us).toFixed(1)}×` : ''
  return `| ${m.name} | ${m.us.toFixed(2)} | ${m.min.toFixed(2)}–${m.max.toFixed(2)} | ${ratio} |`
}

export function table(title: string, rows: Measurement[], baseline: Measurement): string {
  return [
    `### ${title}`,
    '',
    '| path | µs/call (median) | spread | faster than uncached |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => formatRow(r, r === baseline ? undefined : baseline)),
  ].join('\n')
}
