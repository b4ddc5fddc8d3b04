import { Decimal } from '@prisma/client/runtime/client'
import { addExtension, Packr } from 'msgpackr'

/** msgpack extension type carrying a `Prisma.Decimal` as its exact decimal string. */
const DECIMAL_EXT = 0x44

addExtension({
  Class: Decimal,
  type: DECIMAL_EXT,
  pack: (value: Decimal) => Buffer.from(value.toString(), 'latin1'),
  unpack: (bytes: Uint8Array) => new Decimal(Buffer.from(bytes).toString('latin1')),
})

/**
 * Binary encoding of Prisma results that round-trips every Prisma type exactly: Date (msgpack
 * timestamp), BigInt (int64, never a float), Decimal (exact string), Bytes (as Uint8Array, not
 * Buffer), nested Json, null. Records are on, without shared structures: each message defines its
 * record shapes inline, so it decodes with no shared state (another process, or this one after a
 * restart; `sequential` would not: it relies on earlier messages), and rows decode through
 * generated constructors, about half the decode time of plain maps on 100 rows.
 */
export function createCodec(): Packr {
  return new Packr({ int64AsType: 'bigint', moreTypes: true, mapsAsObjects: true })
}

const packr = createCodec()

export function encode(value: unknown): Buffer {
  return packr.pack(value)
}

export function decode<T = unknown>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T
}
