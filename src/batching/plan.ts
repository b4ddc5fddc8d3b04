import { canonical } from '../keys/canonical.js'
import { valueText } from '../keys/names.js'
import type { ModelFacts, SchemaFacts, TrackedField, UniqueKey } from '../schema/schema.js'

/**
 * Batching that kills N+1: reads of one tick that differ only in the row they ask for become one
 * query. Two shapes qualify:
 * - `findUnique` by a unique selector (`{ id: 1 }`, `{ tenant_code: { tenant, code } }`) with the
 *   same projection: one `findMany` with `in` (or `OR` for compounds), rows routed back by key;
 * - `findMany` whose `where` differs only in one scalar equality (`{ authorId: 7 }`, the resolver
 *   pattern), without `take`/`skip`/`cursor`/`distinct`: one `findMany` with `in`, split per value
 *   (a global `orderBy` keeps each group's order).
 * Both need the row's key in the result; when the projection leaves it out, it is selected and
 * removed again before the caller sees the row. Rows are routed under the database's equality, not
 * the text of the key: only key fields whose equality the schema proves reproducible are batched
 * (ModelFacts.comparable: integers as numbers, 5 and 5n alike; a `@db.Uuid` in any case; strings
 * only where the database compares them exactly, never on MySQL or `@db.Citext`), and a read
 * keyed otherwise runs alone (test/read/batch-equality.test.ts).
 */
export interface BatchPlan {
  /** Reads with the same group key are answered by one query. */
  group: string
  /** The query for a batch of `values`. */
  query(values: unknown[]): Record<string, unknown>
  /** The value a read asks for… */
  value: unknown
  /** …and the text of it, and of a returned row's key, equal where the database's equality is. */
  rowValue(row: Record<string, unknown>): string
  valueKey: string
  /** Removes fields that were added to the projection for routing. */
  strip(row: Record<string, unknown>): Record<string, unknown>
  /** findUnique: one row or null per read; findMany: every matching row. */
  many: boolean
}

const UNIQUE_ARGS = new Set(['where', 'select', 'include', 'omit'])
const MANY_ARGS = new Set(['where', 'select', 'include', 'omit', 'orderBy'])

export function planUnique(schema: SchemaFacts, model: string, args: unknown): BatchPlan | undefined {
  const facts = schema.model(model)
  if (facts === undefined || !onlyKeys(args, UNIQUE_ARGS)) return undefined
  const { where, ...projection } = args as { where?: Record<string, unknown> }
  const selectorName = where && singleKey(where)
  const unique = selectorName && facts.uniques.find((u) => u.name === selectorName)
  if (!unique) return undefined
  const value = unique.fields.length === 1 ? where![selectorName] : compoundValue(where![selectorName], unique)
  const fields = keyFields(facts, unique.fields)
  if (value === undefined || fields === undefined) return undefined
  const valueKey = keyText(fields, unique.fields.length === 1 ? [value] : unique.fields.map((f) => (value as Record<string, unknown>)[f]))
  if (valueKey === undefined) return undefined
  const { args: routed, added } = withFields(projection, unique.fields, facts)
  return {
    group: `${model}.findUnique:${unique.name}:${canonical(projection)}`,
    query: (values) => ({
      ...routed,
      where: unique.fields.length === 1 ? { [unique.fields[0]!]: { in: values } } : { OR: values },
    }),
    value,
    valueKey,
    rowValue: (row) => rowKey(fields, row),
    strip: stripper(added),
    many: false,
  }
}

/**
 * Whether `args` select one row by a unique key whose equality the schema cannot prove (a MySQL
 * string, `@db.Citext`, a Decimal…): such reads are not batched here, and Prisma's own findUnique
 * batching, which routes rows back by exact value, must not batch them either (batching/turns.ts).
 */
export function unprovableUnique(schema: SchemaFacts, model: string, args: unknown): boolean {
  const facts = schema.model(model)
  if (facts === undefined || !onlyKeys(args, UNIQUE_ARGS)) return false
  const { where } = args as { where?: Record<string, unknown> }
  const selectorName = where && singleKey(where)
  const unique = selectorName ? facts.uniques.find((u) => u.name === selectorName) : undefined
  return unique !== undefined && keyFields(facts, unique.fields) === undefined
}

export function planMany(schema: SchemaFacts, model: string, args: unknown): BatchPlan | undefined {
  const facts = schema.model(model)
  if (facts === undefined || !onlyKeys(args, MANY_ARGS)) return undefined
  const { where, ...rest } = args as { where?: Record<string, unknown> }
  if (where === undefined) return undefined
  const field = groupingField(schema, facts, where)
  if (field === undefined) return undefined
  const { [field]: value, ...otherFilters } = where
  const fields = keyFields(facts, [field])
  const valueKey = fields && keyText(fields, [value])
  if (valueKey === undefined) return undefined
  const { args: routed, added } = withFields(rest, [field], facts)
  return {
    group: `${model}.findMany:${field}:${canonical({ ...rest, where: otherFilters })}`,
    query: (values) => ({ ...routed, where: { ...otherFilters, [field]: { in: values } } }),
    value,
    valueKey,
    rowValue: (row) => rowKey(fields!, row),
    strip: stripper(added),
    many: true,
  }
}

/**
 * The field a resolver-style `findMany` varies on: the only scalar equality of its `where`, or
 * among several, the only one that is a foreign key (`authorId`, not `published`).
 */
function groupingField(schema: SchemaFacts, facts: ModelFacts, where: Record<string, unknown>): string | undefined {
  const candidates = Object.keys(where).filter((k) => {
    const fields = keyFields(facts, [k])
    return fields !== undefined && keyText(fields, [where[k]]) !== undefined
  })
  if (candidates.length === 1 && Object.keys(where).length === 1) return candidates[0]
  const foreign = candidates.filter((k) => schema.foreignKeys?.some((fk) => fk.holder === facts.name && fk.fields.includes(k)))
  return foreign.length === 1 ? foreign[0] : undefined
}

/** Projection that certainly returns `fields`, and which of them the caller did not ask for. */
function withFields(projection: Record<string, unknown>, fields: string[], facts: ModelFacts) {
  const added: string[] = []
  const select = projection.select as Record<string, unknown> | undefined
  const omit = projection.omit as Record<string, unknown> | undefined
  if (select !== undefined) {
    const missing = fields.filter((f) => select[f] !== true)
    if (missing.length === 0) return { args: projection, added }
    added.push(...missing)
    return { args: { ...projection, select: { ...select, ...Object.fromEntries(missing.map((f) => [f, true])) } }, added }
  }
  if (omit !== undefined) {
    const omitted = fields.filter((f) => omit[f] === true && facts.scalars.has(f))
    if (omitted.length === 0) return { args: projection, added }
    added.push(...omitted)
    return { args: { ...projection, omit: Object.fromEntries(Object.entries(omit).filter(([k]) => !omitted.includes(k))) }, added }
  }
  return { args: projection, added }
}

function stripper(added: string[]): (row: Record<string, unknown>) => Record<string, unknown> {
  if (added.length === 0) return (row) => row
  return (row) => {
    const out = { ...row }
    for (const field of added) delete out[field]
    return out
  }
}

function compoundValue(value: unknown, unique: UniqueKey): unknown {
  if (typeof value !== 'object' || value === null) return undefined
  const keys = Object.keys(value)
  if (keys.length !== unique.fields.length || !unique.fields.every((f) => keys.includes(f))) return undefined
  return value
}

/** The key fields with the equality they are compared by, if every one's is proven (schema/tracked.ts). */
function keyFields(facts: ModelFacts, names: readonly string[]): TrackedField[] | undefined {
  const fields = names.map((name) => facts.comparable.get(name))
  return fields.every((f) => f !== undefined) ? (fields as TrackedField[]) : undefined
}

/**
 * One text per key as the database's equality sees it (`valueText`: 5 and 5n alike, a uuid's hex
 * digits in lower case); `undefined` for a value it cannot prove: no null (`IS NULL` is not `IN`),
 * no filter objects, no string for an integer field.
 */
function keyText(fields: readonly TrackedField[], values: readonly unknown[]): string | undefined {
  let text = ''
  for (let i = 0; i < fields.length; i++) {
    const value = values[i]
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') return undefined
    const part = valueText(fields[i]!.canonical, value)
    if (part === undefined) return undefined
    text += `${part}\u0000`
  }
  return text
}

/** A returned row's key text; one no read can have asked for when it cannot be made (route's check then runs every member alone). */
function rowKey(fields: readonly TrackedField[], row: Record<string, unknown>): string {
  return keyText(fields, fields.map((f) => row[f.name])) ?? '\u0001unroutable'
}

function onlyKeys(args: unknown, allowed: ReadonlySet<string>): boolean {
  if (typeof args !== 'object' || args === null) return false
  for (const key in args) if (!allowed.has(key) && (args as Record<string, unknown>)[key] !== undefined) return false
  return true
}

function singleKey(object: Record<string, unknown>): string | undefined {
  const keys = Object.keys(object).filter((k) => object[k] !== undefined)
  return keys.length === 1 ? keys[0] : undefined
}
