import { canonical } from '../keys/canonical.js'
import type { ModelFacts, SchemaFacts, UniqueKey } from '../schema/schema.js'

/**
 * Batching that kills N+1: reads of one tick that differ only in the row they ask for become one
 * query. Two shapes qualify:
 * - `findUnique` by a unique selector (`{ id: 1 }`, `{ tenant_code: { tenant, code } }`) with the
 *   same projection: one `findMany` with `in` (or `OR` for compounds), rows routed back by key;
 * - `findMany` whose `where` differs only in one scalar equality (`{ authorId: 7 }`, the resolver
 *   pattern), without `take`/`skip`/`cursor`/`distinct`: one `findMany` with `in`, split per value
 *   (a global `orderBy` keeps each group's order).
 * Both need the row's key in the result; when the projection leaves it out, it is selected and
 * removed again before the caller sees the row.
 */
export interface BatchPlan {
  /** Reads with the same group key are answered by one query. */
  group: string
  /** The query for a batch of `values`. */
  query(values: unknown[]): Record<string, unknown>
  /** The value a read asks for, and the value a returned row carries, comparable with `===`. */
  value: unknown
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
  if (value === undefined || !isKeyValue(unique.fields.length === 1 ? [value] : Object.values(value as object))) return undefined
  const { args: routed, added } = withFields(projection, unique.fields, facts)
  const valueOf = (v: unknown) => canonical(unique.fields.length === 1 ? [v] : unique.fields.map((f) => (v as Record<string, unknown>)[f]))
  return {
    group: `${model}.findUnique:${unique.name}:${canonical(projection)}`,
    query: (values) => ({
      ...routed,
      where: unique.fields.length === 1 ? { [unique.fields[0]!]: { in: values } } : { OR: values },
    }),
    value,
    valueKey: valueOf(value),
    rowValue: (row) => canonical(unique.fields.map((f) => row[f])),
    strip: stripper(added),
    many: false,
  }
}

export function planMany(schema: SchemaFacts, model: string, args: unknown): BatchPlan | undefined {
  const facts = schema.model(model)
  if (facts === undefined || !onlyKeys(args, MANY_ARGS)) return undefined
  const { where, ...rest } = args as { where?: Record<string, unknown> }
  if (where === undefined) return undefined
  const field = groupingField(schema, facts, where)
  if (field === undefined) return undefined
  const { [field]: value, ...otherFilters } = where
  const { args: routed, added } = withFields(rest, [field], facts)
  return {
    group: `${model}.findMany:${field}:${canonical({ ...rest, where: otherFilters })}`,
    query: (values) => ({ ...routed, where: { ...otherFilters, [field]: { in: values } } }),
    value,
    valueKey: canonical([value]),
    rowValue: (row) => canonical([row[field]]),
    strip: stripper(added),
    many: true,
  }
}

/**
 * The field a resolver-style `findMany` varies on: the only scalar equality of its `where`, or
 * among several, the only one that is a foreign key (`authorId`, not `published`).
 */
function groupingField(schema: SchemaFacts, facts: ModelFacts, where: Record<string, unknown>): string | undefined {
  const candidates = Object.keys(where).filter((k) => facts.scalars.has(k) && isKeyValue([where[k]]))
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

/** Values `in` and `===` agree on: no null (`IS NULL` is not `IN`), no filter objects. */
function isKeyValue(values: unknown[]): boolean {
  return values.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint')
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
