// RecentBumps' judgement with an injected clock (the real lagging replica is in
// test/read/read-replicas.test.ts): which answers may predate a write a replica has not applied.
import { describe, expect, it } from 'vitest'
import { RecentBumps } from '../../src/invalidation/recent-bumps.js'
import type { Generation } from '../../src/keys/names.js'

const LAG = 1000
function setup() {
  let now = 10_000
  const recent = new RecentBumps(LAG, () => now)
  const gen = (name: string): Generation => ({ name, value: 0 })
  return { recent, gen, at: (t: number) => void (now = t) }
}

describe('RecentBumps', () => {
  it('a read is unsettled while a counter it recorded was bumped less than the lag before it began', () => {
    const { recent, gen, at } = setup()
    recent.note('a')
    expect(recent.unsettled([gen('a')], 10_000)).toBe(true)
    expect(recent.unsettled([gen('a')], 10_000 + LAG)).toBe(true) // bumped exactly the lag before
    expect(recent.unsettled([gen('a')], 10_000 + LAG + 1)).toBe(false)
    expect(recent.unsettled([gen('b')], 10_000)).toBe(false) // another counter
    at(12_500)
    recent.note('a') // bumped again: judged by its latest bump
    expect(recent.unsettled([gen('b'), gen('a')], 13_000)).toBe(true)
  })

  it('forgets bumps older than twice the lag, and then refuses reads that began before what it forgot', () => {
    const { recent, gen, at } = setup()
    recent.note('a')
    at(10_000 + 2 * LAG + 1)
    // a read that began right after the bump, still running: it cannot be judged any more
    expect(recent.unsettled([gen('b')], 10_001)).toBe(true)
    // a read that began now is judged exactly: nothing recent
    expect(recent.unsettled([gen('a')], 10_000 + 2 * LAG + 1)).toBe(false)
  })

  it('while the bus is down (or not yet up) nothing is settled; its return counts as a bump of every counter', () => {
    const { recent, gen, at } = setup()
    recent.hearing(false)
    expect(recent.unsettled([gen('a')], 10_000)).toBe(true)
    at(20_000)
    recent.hearing(true)
    expect(recent.unsettled([gen('a')], 20_000 + LAG)).toBe(true)
    expect(recent.unsettled([gen('a')], 20_000 + LAG + 1)).toBe(false)
  })
})
