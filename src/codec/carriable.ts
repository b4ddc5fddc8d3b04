import { Decimal } from '@prisma/client/runtime/client'

/**
 * True when the codec carries `value` exactly: what the database returns (primitives, BigInt,
 * Date, Decimal, Bytes, Json) in plain rows and lists. False for what a `result` extension below
 * the cache may compute besides: a function (Prisma's documented custom method on a result), a
 * symbol, an instance of another class. Such a result is kept in L1 only, never sent to Redis,
 * where it would come back without the field or as a plain object
 * (test/read/stacked-extensions.test.ts, "a result field whose value is a function").
 * Walked once per database answer, never on a hit.
 */
export function carriable(value: unknown): boolean {
  switch (typeof value) {
    case 'function':
    case 'symbol':
      return false
    case 'object': {
      if (value === null) return true
      if (Array.isArray(value)) return value.every(carriable)
      const proto = Object.getPrototypeOf(value)
      if (proto === Object.prototype || proto === null) {
        for (const key in value) if (!carriable((value as Record<string, unknown>)[key])) return false
        return true
      }
      return value instanceof Date || value instanceof Uint8Array || Decimal.isDecimal(value)
    }
    default:
      return true
  }
}

/** What an uncarriable value is charged in L1 in place of its encoded size: a rough walk. */
export function roughSize(value: unknown): number {
  if (typeof value === 'string') return value.length + 1
  if (typeof value !== 'object' || value === null) return 9
  let size = 1
  if (Array.isArray(value)) for (const item of value) size += roughSize(item)
  else for (const key in value) size += key.length + 1 + roughSize((value as Record<string, unknown>)[key])
  return size
}
