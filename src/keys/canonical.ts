import { Decimal } from '@prisma/client/runtime/client'
import { CacheKeyError } from '../errors.js'

/**
 * Canonical text of query arguments: object keys sorted (Prisma gives key order no meaning),
 * array order kept (it can be meaningful: `orderBy`, `AND`), every value typed so that `1`, `"1"`,
 * `1n`, a Date and a Decimal never print alike. `undefined` members are dropped, as Prisma drops them.
 */
export function canonical(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Number.isFinite(value) ? String(value) : `#${String(value)}`
    case 'bigint':
      return `${value}n`
    case 'boolean':
      return value ? 'true' : 'false'
    case 'undefined':
      return 'undefined'
    case 'object':
      return value === null ? 'null' : canonicalObject(value)
    default:
      // functions and symbols are not valid Prisma arguments; Prisma itself will reject them
      throw new CacheKeyError(`cannot build a cache key from a ${typeof value}`)
  }
}

function canonicalObject(value: object): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value instanceof Date) return `D(${Number.isNaN(value.getTime()) ? 'NaN' : value.toISOString()})`
  if (Decimal.isDecimal(value)) return `M(${(value as Decimal).toString()})`
  if (value instanceof Uint8Array) return `B(${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')})`
  const proto = Object.getPrototypeOf(value)
  // Prisma.DbNull, JsonNull, AnyNull and other class instances: their class is their meaning
  const tag = proto === Object.prototype || proto === null ? '' : (proto.constructor?.name ?? '?')
  const keys = Object.keys(value)
  if (keys.length > 1) keys.sort()
  let out = `${tag}{`
  let first = true
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key]
    if (member === undefined) continue
    out += `${first ? '' : ','}${quoted(key)}:${canonical(member)}`
    first = false
  }
  return `${out}}`
}

/**
 * `JSON.stringify(key)`, remembered: argument keys are a schema's field and operator names, few
 * and repeated on every call (the bound only matters for Json filters with endless keys).
 */
const quotedKeys = new Map<string, string>()

function quoted(key: string): string {
  let text = quotedKeys.get(key)
  if (text === undefined) {
    text = JSON.stringify(key)
    if (quotedKeys.size < 10_000) quotedKeys.set(key, text)
  }
  return text
}

/** Key of one cached read, without namespace: L1 uses it as is, L2 hashes and prefixes it. */
export function readKey(model: string, operation: string, args: unknown): string {
  return `${model}.${operation}:${args === undefined ? '{}' : canonical(args)}`
}
