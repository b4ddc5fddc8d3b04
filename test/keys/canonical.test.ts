import { Decimal } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { canonical, readKey } from '../../src/keys/canonical.js'

describe('canonical keys', () => {
  it('ignores object key order at every depth', () => {
    expect(canonical({ where: { a: 1, b: { c: 2, d: 3 } }, take: 5 })).toBe(
      canonical({ take: 5, where: { b: { d: 3, c: 2 }, a: 1 } }),
    )
  })

  it('keeps array order, which can carry meaning (orderBy, AND)', () => {
    expect(canonical({ orderBy: [{ a: 'asc' }, { b: 'asc' }] })).not.toBe(canonical({ orderBy: [{ b: 'asc' }, { a: 'asc' }] }))
  })

  it('drops undefined members, as Prisma does', () => {
    expect(canonical({ where: { a: 1, b: undefined } })).toBe(canonical({ where: { a: 1 } }))
  })

  it('never prints two different values alike', () => {
    const values = [
      1, '1', 1n, true, 'true', null, 'null', [1], '[1]', {}, '{}',
      new Date(0), new Date(0).toISOString(), new Decimal('1.5'), 1.5, '1.5',
      new Uint8Array([1, 2]), [1, 2], Prisma.DbNull, Prisma.JsonNull, Prisma.AnyNull, NaN, Infinity, 'Infinity',
    ]
    const printed = values.map(canonical)
    expect(new Set(printed).size).toBe(values.length)
  })

  it('separates models and operations', () => {
    expect(readKey('User', 'findMany', {})).not.toBe(readKey('Post', 'findMany', {}))
    expect(readKey('User', 'findMany', {})).not.toBe(readKey('User', 'findFirst', {}))
    expect(readKey('User', 'findMany', undefined)).toBe(readKey('User', 'findMany', {}))
  })

  it('rejects values Prisma could not accept either', () => {
    expect(() => canonical({ where: { id: () => 1 } })).toThrow(TypeError)
  })
})
