import { describe, expect, it } from 'vitest'
import { Prisma } from '../generated/prisma/client.js'
import { clone } from '../src/clone.js'
import { createCodec, decode, encode } from '../src/codec.js'

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
