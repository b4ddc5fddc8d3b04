/**
 * What a result value looks like, merged over every row: a primitive, a Date, a row with a fixed
 * set of keys, a list, or `any` (no one shape). `null` merges into anything. The copier compiles
 * a copy per shape (copier.ts); the codec sends the Dates it places as plain numbers (codec.ts).
 */
export type ResultShape =
  | { kind: 'null' | 'primitive' | 'date' | 'any' }
  | { kind: 'row'; fields: Array<[string, ResultShape]> }
  | { kind: 'list'; of: ResultShape }

const NULL: ResultShape = { kind: 'null' }
const PRIMITIVE: ResultShape = { kind: 'primitive' }
const DATE: ResultShape = { kind: 'date' }
const ANY: ResultShape = { kind: 'any' }

/** The shape of `value`: exact for it, since it is taken from every row. */
export function describe(value: unknown): ResultShape {
  if (value === null || value === undefined) return NULL
  if (typeof value !== 'object') return PRIMITIVE
  if (value instanceof Date) return DATE
  if (Array.isArray(value)) {
    let of: ResultShape = NULL
    for (const item of value) {
      of = merge(of, describe(item))
      if (of === ANY) break
    }
    return { kind: 'list', of }
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return ANY // Decimal, Uint8Array, …
  const fields: Array<[string, ResultShape]> = []
  for (const key in value) {
    if (key === '__proto__') return ANY // an object literal would set the prototype instead
    fields.push([key, describe((value as Record<string, unknown>)[key])])
  }
  return { kind: 'row', fields }
}

function merge(a: ResultShape, b: ResultShape): ResultShape {
  if (a.kind === 'null') return b
  if (b.kind === 'null' || a === b) return a
  if (a.kind === 'row' && b.kind === 'row') {
    if (a.fields.length !== b.fields.length) return ANY
    const fields: Array<[string, ResultShape]> = []
    for (let i = 0; i < a.fields.length; i++) {
      const [key, shape] = a.fields[i]!
      const other = b.fields[i]!
      if (other[0] !== key) return ANY
      fields.push([key, merge(shape, other[1])])
    }
    return { kind: 'row', fields }
  }
  if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', of: merge(a.of, b.of) }
  return a.kind === b.kind && (a.kind === 'primitive' || a.kind === 'date') ? a : ANY
}
