import { describe, expect, it } from 'vitest'
import { Histogram } from '../../src/metrics/histogram.js'

/** The exact quantile of a sorted list, by the same rank rule: the ceil(q × n)-th value. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!
}

describe('Histogram', () => {
  it('counts values below 64 exactly', () => {
    const h = new Histogram()
    for (let v = 0; v < 64; v++) h.record(v)
    for (let v = 0; v < 64; v++) expect(h.quantile((v + 1) / 64)).toBe(v)
    expect(h.count).toBe(64)
    expect(h.sum).toBe((63 * 64) / 2)
  })

  it('answers every quantile within 1/64 of the exact value, from 1 to 10^12', () => {
    const h = new Histogram()
    const values: number[] = []
    for (let v = 1; v < 1e12; v = Math.ceil(v * 1.07) + 3) values.push(v)
    for (const v of values) h.record(v)
    for (let i = 1; i <= 200; i++) {
      const q = i / 200
      const exact = exactQuantile(values, q)
      expect(Math.abs(h.quantile(q)! - exact) / exact, `q=${q}`).toBeLessThanOrEqual(1 / 64)
    }
  })

  it('summarizes a known latency distribution (1..1000 ms in ns) within 1.6%', () => {
    const h = new Histogram()
    for (let ms = 1; ms <= 1000; ms++) h.record(ms * 1e6)
    const s = h.summary(1e6)!
    expect(s.count).toBe(1000)
    expect(s.mean).toBeCloseTo(500.5, 9) // the sum is exact
    expect(s.max).toBe(1000) // so are the extremes
    for (const [got, exact] of [
      [s.p50, 500],
      [s.p95, 950],
      [s.p99, 990],
    ] as const) {
      expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(1 / 64)
    }
  })

  it('never reports beyond the recorded extremes: one value comes back as itself', () => {
    const h = new Histogram()
    h.record(123_456_789)
    expect(h.summary()).toEqual({ count: 1, mean: 123_456_789, p50: 123_456_789, p95: 123_456_789, p99: 123_456_789, max: 123_456_789 })
  })

  it('rounds to integers and clamps negatives to 0', () => {
    const h = new Histogram()
    h.record(-5)
    h.record(2.4)
    h.record(2.6)
    expect([h.quantile(0.3), h.quantile(0.6), h.quantile(1)]).toEqual([0, 2, 3])
  })

  it('holds fixed memory: a million values in 40 µs–40 ms allocate only the powers of two they touch', () => {
    const h = new Histogram()
    for (let i = 0; i < 1_000_000; i++) h.record(40_000 * 1.000007 ** i) // ns: 40 µs up to ~44 ms
    const octaves = (h as unknown as { octaves: Array<Uint32Array | undefined> }).octaves
    expect(octaves.filter(Boolean).length).toBeLessThanOrEqual(12)
    expect(octaves.length).toBeLessThanOrEqual(22)
    expect(h.count).toBe(1_000_000)
  })

  it('gives the values recorded since an earlier copy, and merges histograms', () => {
    const h = new Histogram()
    for (let v = 1; v <= 100; v++) h.record(v * 1000)
    const base = h.copy()
    for (let v = 101; v <= 200; v++) h.record(v * 1000)
    const window = h.since(base)
    expect(window.count).toBe(100)
    expect(window.sum).toBe((101_000 + 200_000) * 50)
    expect(Math.abs(window.quantile(0.5)! - 150_000) / 150_000).toBeLessThanOrEqual(1 / 64)
    expect(window.min).toBeGreaterThanOrEqual(101_000 * (1 - 1 / 32))
    expect(window.max).toBeLessThanOrEqual(200_000 * (1 + 1 / 32))
    expect(base.count).toBe(100) // copies are independent
    const merged = new Histogram().add(base).add(window)
    expect(merged.count).toBe(200)
    expect(merged.quantile(1)).toBeCloseTo(h.quantile(1)!, 6)
    expect(h.since(undefined).count).toBe(200)
    expect(new Histogram().summary()).toBeUndefined()
  })
})
