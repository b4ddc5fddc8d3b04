import { describe, expect, it } from 'vitest'
import { Generations } from '../../src/invalidation/generations.js'
import { isCurrent, L1, type L1Entry } from '../../src/tiers/l1.js'

const entry = (size: number, value: unknown = size): L1Entry => ({ value, copy: (v) => v, size, freshUntil: Infinity, staleUntil: Infinity, deps: [], seen: [] })

describe('L1', () => {
  it('stays within its byte budget, evicting the oldest unused entries first', () => {
    const l1 = new L1(100, 100)
    l1.set('a', entry(40))
    l1.set('b', entry(40))
    l1.get('a') // used: gets a second chance
    l1.set('c', entry(40))
    expect(l1.usedBytes).toBeLessThanOrEqual(100)
    expect(l1.get('a')).toBeDefined()
    expect(l1.get('b')).toBeUndefined()
    expect(l1.get('c')).toBeDefined()
  })

  it('evicts even when every entry was used, and counts replaced entries once', () => {
    const l1 = new L1(100, 100)
    for (const key of ['a', 'b', 'c']) {
      l1.set(key, entry(30))
      l1.get(key)
    }
    l1.set('a', entry(30)) // replace: still 90 bytes
    expect(l1.usedBytes).toBe(90)
    l1.set('d', entry(50))
    expect(l1.usedBytes).toBeLessThanOrEqual(100)
    expect(l1.get('d')).toBeDefined()
  })

  it('does not keep an entry larger than maxEntryBytes', () => {
    const l1 = new L1(1000, 10)
    l1.set('big', entry(11))
    expect(l1.get('big')).toBeUndefined()
    expect(l1.usedBytes).toBe(0)
  })

  it('invalidates an entry when any generation it recorded moves', () => {
    const gens = new Generations()
    const user = gens.model('User')
    const feed = gens.tag('feed')
    const e: L1Entry = { ...entry(1), deps: [user, feed], seen: [user.value, feed.value] }
    expect(isCurrent(e)).toBe(true)
    gens.bump(gens.model('Post'))
    expect(isCurrent(e)).toBe(true)
    gens.bumpMatching('t:fe*')
    expect(isCurrent(e)).toBe(false)
  })
})
