import { describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { copierFor } from '../../src/codec/copier.js'

/** Every object reachable from `value`, to prove a copy shares none of them. */
function objects(value: unknown, into = new Set<object>()): Set<object> {
  if (typeof value === 'object' && value !== null && !into.has(value)) {
    into.add(value)
    for (const member of Object.values(value)) objects(member, into)
  }
  return into
}

function expectExactCopy(value: unknown) {
  const copy = copierFor(value)(value)
  expect(copy).toEqual(value)
  const mine = objects(value)
  for (const object of objects(copy)) {
    // Decimals are immutable through their API but copied anyway; nothing may be shared
    expect(mine.has(object)).toBe(false)
  }
  return copy
}

describe('shape-specialised copier', () => {
  it('copies joined rows exactly, with nullable dates, nested rows and lists', () => {
    const rows = Array.from({ length: 20 }, (_, i) => ({
      id: i,
      title: `t${i}`,
      at: i % 3 ? new Date(i * 1000) : null,
      author: i % 4 ? { id: i, name: i % 2 ? null : 'n', joined: new Date(0) } : null,
      tags: i % 5 ? [{ id: 1, name: 'a' }] : [],
      price: new Prisma.Decimal(`${i}.5`),
      bytes: new Uint8Array([i]),
      big: BigInt(i),
    }))
    const copy = expectExactCopy(rows) as typeof rows
    expect(copy[1]!.at).toBeInstanceOf(Date)
    expect(copy[1]!.price).toBeInstanceOf(Prisma.Decimal)
    expect(copy[1]!.bytes.constructor).toBe(Uint8Array)
  })

  it('copies Json fields whose shape changes from row to row', () => {
    const rows = [
      { id: 1, json: { a: 1, b: [1, { c: 2 }] } },
      { id: 2, json: [1, 'two', null] },
      { id: 3, json: 'text' },
      { id: 4, json: null },
      { id: 5, json: { other: true } },
    ]
    expectExactCopy(rows)
  })

  it('keeps awkward keys as own properties, never as a prototype or a replacement pattern', () => {
    const row = JSON.parse('{"__proto__": {"polluted": true}, "$&": 1, "a\\"b": 2, "ключ": 3, "$1": {"x": 4}}')
    const copy = expectExactCopy(row) as Record<string, unknown>
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.keys(copy)).toEqual(Object.keys(row))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('copies scalars, nulls, aggregates and empty lists', () => {
    expect(copierFor(3)(3)).toBe(3)
    expect(copierFor(null)(null)).toBeNull()
    expectExactCopy([])
    expectExactCopy({ _count: { _all: 3 }, _max: { at: new Date(5) }, _sum: { price: new Prisma.Decimal(2) } })
  })
})
