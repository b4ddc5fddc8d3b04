/**
 * Sub-buckets per power of two. Each bucket spans at most 1/32 of its lower bound, and a bucket
 * reports its midpoint, so a recorded value comes back within 1/64 (~1.6%) of itself.
 */
const SUB = 32
/** 2^32: `Math.clz32` sees 32 bits, larger values take their high word. */
const HIGH_WORD = 2 ** 32

/** Percentiles of a distribution, in the unit the caller chose when summarizing. */
export interface Distribution {
  count: number
  mean: number
  p50: number
  p95: number
  p99: number
  max: number
}

/**
 * A log-linear histogram of non-negative integers (HdrHistogram's layout): values below 32 are
 * counted exactly; above, each power of two is split into 32 equal buckets. Memory is fixed by
 * the range, never by the number of values: a power of two gets its 32 counters (128 bytes) only
 * once a value falls in it, so a latency histogram that only ever sees 0.1–50 ms holds ~10 of them.
 * The caller picks the unit (nanoseconds for latency, items for batch sizes) and rounds to it.
 */
export class Histogram {
  count = 0
  /** Sum of recorded values, for the mean and Prometheus's `_sum`. */
  sum = 0
  /** Exact extremes while known; a difference of two histograms derives them from its buckets. */
  min = Infinity
  max = -Infinity
  /** `octaves[0]` holds 0–31 exactly; `octaves[k]` the values in [2^(k+4), 2^(k+5)). */
  private readonly octaves: Array<Uint32Array | undefined> = []

  record(value: number): void {
    const v = value > 0 ? Math.min(Math.round(value), Number.MAX_SAFE_INTEGER) : 0
    const octave = octaveOf(v)
    const counts = this.octaves[octave] ?? this.grow(octave)
    counts[slotOf(v, octave)]!++
    this.count++
    this.sum += v
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
  }

  /** The value at quantile `q` (0–1), within ~1.6%; `undefined` when empty. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let octave = 0; octave < this.octaves.length; octave++) {
      const counts = this.octaves[octave]
      if (counts === undefined) continue
      for (let slot = 0; slot < SUB; slot++) {
        seen += counts[slot]!
        if (seen >= rank) return Math.min(this.max, Math.max(this.min, midpoint(octave, slot)))
      }
    }
    return this.max
  }

  /** count, mean, p50/p95/p99 and max, each divided by `scale` (1e6: nanoseconds to ms). */
  summary(scale = 1): Distribution | undefined {
    if (this.count === 0) return undefined
    const at = (q: number) => this.quantile(q)! / scale
    return { count: this.count, mean: this.sum / this.count / scale, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: this.max / scale }
  }

  /** Adds another histogram's values to this one (per-model totals from per-operation ones). */
  add(other: Histogram): this {
    other.octaves.forEach((counts, octave) => {
      if (counts === undefined) return
      const into = this.octaves[octave] ?? this.grow(octave)
      for (let slot = 0; slot < SUB; slot++) into[slot]! += counts[slot]!
    })
    this.count += other.count
    this.sum += other.sum
    this.min = Math.min(this.min, other.min)
    this.max = Math.max(this.max, other.max)
    return this
  }

  copy(): Histogram {
    return new Histogram().add(this)
  }

  /** The values recorded since `base` (an earlier copy of this histogram) was taken. */
  since(base: Histogram | undefined): Histogram {
    if (base === undefined || base.count === 0) return this.copy()
    const window = new Histogram()
    this.octaves.forEach((counts, octave) => {
      if (counts === undefined) return
      const before = base.octaves[octave]
      const into = window.grow(octave)
      for (let slot = 0; slot < SUB; slot++) into[slot] = counts[slot]! - (before?.[slot] ?? 0)
    })
    window.count = this.count - base.count
    window.sum = this.sum - base.sum
    window.boundsFromBuckets()
    return window
  }

  private boundsFromBuckets(): void {
    this.min = Infinity
    this.max = -Infinity
    this.octaves.forEach((counts, octave) => {
      for (let slot = 0; counts !== undefined && slot < SUB; slot++) {
        if (counts[slot] === 0) continue
        this.min = Math.min(this.min, lowest(octave, slot))
        this.max = lowest(octave, slot) + width(octave) - 1
      }
    })
  }

  private grow(octave: number): Uint32Array {
    const counts = new Uint32Array(SUB)
    this.octaves[octave] = counts
    return counts
  }
}

/** 0 for values below 32; else floor(log2(v)) - 4. */
function octaveOf(v: number): number {
  if (v < SUB) return 0
  const log2 = v < HIGH_WORD ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / HIGH_WORD))
  return log2 - 4
}

function slotOf(v: number, octave: number): number {
  return octave === 0 ? v : Math.floor(v / width(octave)) - SUB
}

function width(octave: number): number {
  return octave === 0 ? 1 : 2 ** (octave - 1)
}

function lowest(octave: number, slot: number): number {
  return octave === 0 ? slot : (SUB + slot) * width(octave)
}

/** The middle of the integers a bucket holds: its only value while buckets are one wide. */
function midpoint(octave: number, slot: number): number {
  return lowest(octave, slot) + (width(octave) - 1) / 2
}
