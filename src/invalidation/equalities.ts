import { valueText } from '../keys/names.js'
import type { ModelFacts, TrackedField } from '../schema/schema.js'

/** `in` lists longer than this are not keyed value by value: the read depends on every write instead. */
export const MAX_KEYED_VALUES = 100

/** A field (or compound unique) pinned by equality, with the value texts it may take. */
export interface Equality {
  field: string
  values: string[]
  /** Lower ranks are more selective: a unique key, then a foreign key, then any other tracked field. */
  rank: number
}

/**
 * The equalities of a `where`'s top-level conjunction (its own keys and those of `AND`) on
 * tracked fields, each with its value texts. `OR`, `NOT`, relation filters and other operators
 * pin nothing; `mode: 'insensitive'` compares looser than a key.
 */
export function equalities(facts: ModelFacts, where: unknown, foreignKeyFields: ReadonlySet<string>): Equality[] {
  const found: Equality[] = []
  collect(facts, where, foreignKeyFields, found)
  return found
}

function collect(facts: ModelFacts, where: unknown, fkFields: ReadonlySet<string>, found: Equality[]): void {
  if (typeof where !== 'object' || where === null) return
  for (const [key, condition] of Object.entries(where)) {
    if (condition === undefined) continue
    if (key === 'AND') {
      for (const member of Array.isArray(condition) ? condition : [condition]) collect(facts, member, fkFields, found)
      continue
    }
    const tracked = facts.tracked.get(key)
    if (tracked !== undefined) {
      const values = valuesOf(tracked, condition)
      if (values !== undefined) found.push({ field: key, values, rank: rankOf(facts, key, fkFields) })
      continue
    }
    const compound = facts.uniques.find((u) => u.fields.length > 1 && u.name === key)
    if (compound !== undefined) {
      const text = compoundText(facts, compound.fields, condition)
      if (text !== undefined) found.push({ field: compound.name, values: [text], rank: 0 })
    }
  }
}

/** The value texts a condition on a tracked field allows: `v`, `{ equals: v }`, `{ in: [...] }`. */
function valuesOf(field: TrackedField, condition: unknown): string[] | undefined {
  if (typeof condition !== 'object' || condition === null) return one(field, condition)
  if (Array.isArray(condition) || Object.getPrototypeOf(condition) !== Object.prototype) return undefined
  const c = condition as Record<string, unknown>
  if (c.mode === 'insensitive') return undefined
  if (c.equals !== undefined) return typeof c.equals === 'object' && c.equals !== null ? undefined : one(field, c.equals)
  if (Array.isArray(c.in) && c.in.length <= MAX_KEYED_VALUES) {
    const texts = c.in.map((v) => (v === null ? undefined : valueText(field.canonical, v)))
    return texts.every((t) => t !== undefined) ? [...new Set(texts as string[])] : undefined
  }
  return undefined
}

function one(field: TrackedField, value: unknown): string[] | undefined {
  const text = valueText(field.canonical, value)
  return text === undefined ? undefined : [text]
}

/** A compound unique's value text: its fields' texts joined, in the schema's order. */
export function compoundText(facts: ModelFacts, fields: readonly string[], value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const parts: string[] = []
  for (const name of fields) {
    const tracked = facts.tracked.get(name)
    const text = tracked && valueText(tracked.canonical, (value as Record<string, unknown>)[name])
    if (text === undefined || text === 'null') return undefined
    parts.push(text)
  }
  return parts.join(',')
}

function rankOf(facts: ModelFacts, field: string, fkFields: ReadonlySet<string>): number {
  if (facts.uniques.some((u) => u.fields.length === 1 && u.fields[0] === field)) return 0
  return fkFields.has(field) ? 1 : 2
}

/** The most selective equality (a read records only it: every row it can return holds that value). */
export function narrowest(found: readonly Equality[]): Equality | undefined {
  let best: Equality | undefined
  for (const e of found) if (best === undefined || e.rank < best.rank || (e.rank === best.rank && e.values.length < best.values.length)) best = e
  return best
}
