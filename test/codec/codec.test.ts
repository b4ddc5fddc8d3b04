import { describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { clone } from '../../src/codec/clone.js'
import { createCodec, decode, decodeResult, encode, encodeResult } from '../../src/codec/codec.js'

const row = {
  at: new Date('2026-01-02T03:04:05.678Z'),
  big: 9007199254740993n,
  small: 5n,
  price: new Prisma.Decimal('12345678901234.123456'),
  bytes: new Uint8Array([0, 1, 255]),
  json: { a: [1, null, { b: 'x', c: 2 ** 40 }], d: 1.5 },
  status: 'ACTIVE',
  nothing: null,
}

describe('codec', () => {
  it('round-trips every Prisma type with its class', () => {
    const back = decode<typeof row>(encode(row))
    expect(back).toEqual(row)
    expect(back.at).toBeInstanceOf(Date)
    expect(typeof back.big).toBe('bigint')
    expect(typeof back.small).toBe('bigint')
    expect(typeof back.json.a[2]).toBe('object')
    expect(back.price).toBeInstanceOf(Prisma.Decimal)
    expect(back.price.toFixed(6)).toBe('12345678901234.123456')
    expect(back.bytes.constructor).toBe(Uint8Array)
  })

  it('writes self-contained messages: a decoder with no shared state reads any of them', () => {
    const messages = [encode([row, row]), encode({ other: 'shape', n: 1 }), encode([{ ...row, extra: true }])]
    const stranger = createCodec() // another process, or this one after a restart
    expect(stranger.unpack(messages[2]!)).toEqual([{ ...row, extra: true }])
    expect(stranger.unpack(messages[0]!)).toEqual([row, row])
    expect(stranger.unpack(messages[1]!)).toEqual({ other: 'shape', n: 1 })
  })
})

describe('results (encodeResult)', () => {
  const post = (id: number, at: Date | null) => ({ id, createdAt: new Date(id * 1000), editedAt: at, author: { id: 1, joined: new Date(5) } })

  it('round-trips rows, lists, nested and nullable Dates exactly, with their classes', () => {
    const values = [
      row,
      [post(1, null), post(2, new Date(-1)), { ...post(3, null), author: null }],
      { _max: { createdAt: new Date(7) }, _count: { _all: 3 } },
      [{ id: 1, posts: [post(4, new Date(8)), post(5, null)] }, { id: 2, posts: [] }],
      new Date(9),
      null,
      42,
    ]
    for (const value of values) {
      const back = decodeResult(encodeResult(value))
      expect(back).toEqual(value)
      if (value instanceof Date) expect(back).toBeInstanceOf(Date)
    }
    const back = decodeResult(encodeResult([post(1, new Date(2))])) as Array<ReturnType<typeof post>>
    expect(back[0]!.editedAt).toBeInstanceOf(Date)
    expect(back[0]!.author!.joined).toBeInstanceOf(Date)
    expect(back[0]!.createdAt.getTime()).toBe(1000)
  })

  it('keeps Dates where rows differ in shape (Json-like values), through the timestamp', () => {
    const mixed = [{ a: new Date(1) }, { b: new Date(2), c: 'x' }]
    const back = decodeResult(encodeResult(mixed)) as Array<Record<string, Date>>
    expect(back).toEqual(mixed)
    expect(back[1]!.b).toBeInstanceOf(Date)
  })

  it('never changes the value it encodes', () => {
    const value = [post(1, new Date(3))]
    const before = structuredClone(value)
    encodeResult(value)
    expect(value).toEqual(before)
    expect(value[0]!.createdAt).toBeInstanceOf(Date)
  })

  it('throws on anything it did not write: an older format, a bad Date map, a non-number where a Date goes', () => {
    expect(() => decodeResult(encode([post(1, null)]))).toThrow()
    expect(() => decodeResult(encode({ id: 1 }))).toThrow()
    expect(() => decodeResult(encode(['{"at":2}', { at: 1 }]))).toThrow()
    expect(() => decodeResult(encode(['{"__proto__":1}', { at: 1 }]))).toThrow()
    expect(() => decodeResult(encode(['not json', { at: 1 }]))).toThrow()
    expect(() => decodeResult(encode(['{"at":1}', { at: 'yesterday' }]))).toThrow()
    expect(decodeResult(encode(['{"at":1}', { at: 1 }]))).toEqual({ at: new Date(1) })
  })
})

describe('clone', () => {
  it('copies deeply, keeping classes, sharing nothing mutable', () => {
    const copy = clone(row)
    expect(copy).toEqual(row)
    expect(copy.at).not.toBe(row.at)
    expect(copy.bytes).not.toBe(row.bytes)
    expect(copy.bytes.constructor).toBe(Uint8Array)
    expect(copy.json.a).not.toBe(row.json.a)
    expect(copy.price).toBeInstanceOf(Prisma.Decimal)
    copy.bytes[0] = 9
    copy.at.setFullYear(2000)
    expect(row.bytes[0]).toBe(0)
    expect(row.at.getUTCFullYear()).toBe(2026)
  })
})
