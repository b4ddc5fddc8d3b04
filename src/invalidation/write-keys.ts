import {
  anyCounter,
  eqCounter,
  fieldCounter,
  linkCounter,
  modelCounter,
  relationCounter,
  unknownLinksCounter,
  valueText,
  type CounterName,
} from '../keys/names.js'
import type { ModelFacts, RelationFacts, SchemaFacts, TrackedField } from '../schema/schema.js'
import { affectedModels } from './affected-models.js'
import { compoundText, equalities } from './equalities.js'

/** Writes of one row that return it (its post-image). */
const ROW_WRITES = new Set(['create', 'update', 'upsert', 'delete'])
/** Writes that return every row they wrote. */
const ROWS_WRITES = new Set(['createManyAndReturn', 'updateManyAndReturn'])
/** Writes that assign fields of rows that existed before them. */
const UPDATES = new Set(['update', 'upsert', 'updateMany', 'updateManyAndReturn'])
const LINK_OPS = new Set(['connect', 'disconnect', 'set'])

/** What a write bumps: known before it runs, and after it, from the rows it returned. */
export interface WritePlan {
  readonly before: ReadonlySet<CounterName>
  /** The arguments to send: the caller's, with the fields the post-image needs added to a `select`/`omit` that hid them. */
  readonly args: unknown
  /** The counters of the written rows, and the result as the caller asked for it (added fields removed). */
  after(result: unknown): { names: CounterName[]; result: unknown }
}

/**
 * Row-level invalidation of one write (DESIGN.md, "Fine-grained invalidation"). Why the rows it
 * returned are enough, without reading old values: a read records the equality it pins
 * (read-keys.ts); a written row that matches it afterwards holds that value in its post-image,
 * so the write bumps that key; a row that matched before and not after has changed a field of the
 * read's filter, and the update bumps that field's `f:` key, which the read recorded; a deleted
 * row's post-image is the row as it was. A create has no old value and bumps no `f:` key: a
 * comment created under one post leaves every other post's comment list cached.
 * Rows the write cannot name (bulk writes, nested writes into other models, cascades) bump their
 * model's `m:`, which every read of it records.
 */
export function planWrite(schema: SchemaFacts, model: string, operation: string, args: unknown): WritePlan {
  const facts = schema.model(model)
  const a = isObject(args) ? args : {}
  const rowsKnown = ROW_WRITES.has(operation) || ROWS_WRITES.has(operation)
  if (facts === undefined || facts.tracked.size === 0 || !rowsKnown) return coarse(schema, model, operation, args)
  const before = new Set<CounterName>([anyCounter(model)])
  const links: LinkWrite[] = []
  const payload = { data: a.data, create: a.create, update: a.update }
  const fkAssigned = new Set<string>()
  const rest = splitNested(facts, payload, fkAssigned, links)
  for (const m of affectedModels(schema, model, operation, rest)) if (m !== model) before.add(modelCounter(m))
  if (UPDATES.has(operation)) {
    for (const field of assignedFields(facts, a, fkAssigned)) before.add(fieldCounter(model, field))
  }
  // the values the arguments already name: the unique key written, the values assigned
  for (const e of equalities(facts, a.where, new Set())) for (const v of e.values) before.add(eqCounter(model, e.field, v))
  for (const part of [a.data, a.create, a.update]) if (isObject(part)) assignedValues(facts, part, before)
  // a deleted row's implicit many-to-many links go with it: readers of the other side cannot be named
  if (operation === 'delete') for (const relation of facts.relationFacts.values()) if (relation.side.kind === 'm2m') links.push(linkWrite(facts, relation, 'set', undefined))
  for (const link of links) for (const name of link.names) before.add(name)
  const { sent, added } = withTracked(facts, a, links.length > 0)
  return {
    before,
    args: sent === a ? args : sent,
    after: (result) => {
      const names = [...before]
      const rows = Array.isArray(result) ? result : [result]
      for (const row of rows) {
        if (!isObject(row)) {
          names.push(modelCounter(model)) // no row to name (a failed write): every read of the model
          continue
        }
        postImage(facts, row, names)
        for (const link of links) names.push(...link.ours(row))
      }
      return { names, result: added.length === 0 ? result : strip(result, added) }
    },
  }
}

/** Model-wide, as the `'model'` granularity does for every write. */
export function coarse(schema: SchemaFacts, model: string, operation: string, args: unknown): WritePlan {
  const before = new Set([...affectedModels(schema, model, operation, args)].map(modelCounter))
  return { before, args, after: (result) => ({ names: [...before], result }) }
}

/** The keys of one written row: every tracked field's and compound unique's value. */
function postImage(facts: ModelFacts, row: Record<string, unknown>, names: CounterName[]): void {
  for (const field of facts.tracked.values()) {
    if (!(field.name in row)) {
      names.push(modelCounter(facts.name)) // hidden (a global omit): its readers cannot be named
      continue
    }
    const text = valueText(field.canonical, row[field.name])
    names.push(text === undefined ? modelCounter(facts.name) : eqCounter(facts.name, field.name, text))
  }
  for (const unique of facts.uniques) {
    if (unique.fields.length < 2) continue
    const text = compoundText(facts, unique.fields, row)
    if (text !== undefined) names.push(eqCounter(facts.name, unique.name, text))
  }
}

/** Tracked values a create or update assigns, known before it runs. */
function assignedValues(facts: ModelFacts, data: Record<string, unknown>, names: Set<CounterName>): void {
  for (const [key, value] of Object.entries(data)) {
    const field = facts.tracked.get(key)
    if (field === undefined) continue
    const plain = isObject(value) && 'set' in value ? value.set : value
    const text = valueText(field.canonical, plain)
    if (text !== undefined) names.add(eqCounter(facts.name, key, text))
  }
}

/** Scalar fields an update assigns: its `data` (or upsert's `update`), foreign keys set by connect/disconnect, `@updatedAt`. */
function assignedFields(facts: ModelFacts, args: Record<string, unknown>, fkAssigned: ReadonlySet<string>): Set<string> {
  const fields = new Set<string>([...fkAssigned, ...facts.updatedAt])
  for (const part of [args.data, args.update]) {
    if (!isObject(part)) continue
    for (const key of Object.keys(part)) if (facts.scalars.has(key) && part[key] !== undefined) fields.add(key)
  }
  return fields
}

/** An implicit many-to-many change: counters known now, and ours once the row (its id) is known. */
interface LinkWrite {
  names: CounterName[]
  ours(row: Record<string, unknown>): CounterName[]
}

/**
 * Takes out of a write's payload the nested writes that change only the written row (a to-one
 * `connect`/`disconnect` whose foreign key is on it: its key fields are assigned) and the
 * many-to-many link changes (keyed per link); returns the rest, whose models are bumped whole.
 */
function splitNested(facts: ModelFacts, payload: Record<string, unknown>, fkAssigned: Set<string>, links: LinkWrite[]): Record<string, unknown> {
  const rest: Record<string, unknown> = {}
  for (const [part, data] of Object.entries(payload)) {
    if (!isObject(data)) continue
    const kept: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(data)) {
      const relation = facts.relationFacts.get(key)
      if (relation === undefined || !isObject(value)) {
        kept[key] = value
        continue
      }
      const remaining: Record<string, unknown> = {}
      for (const [op, opArgs] of Object.entries(value)) {
        if (relation.side.kind === 'here' && (op === 'connect' || op === 'disconnect')) {
          for (const f of relation.side.fields) fkAssigned.add(f)
        } else if (relation.side.kind === 'm2m' && LINK_OPS.has(op)) {
          links.push(linkWrite(facts, relation, op, opArgs))
        } else {
          if (relation.side.kind === 'here') for (const f of relation.side.fields) fkAssigned.add(f)
          if (relation.side.kind === 'm2m') links.push(linkWrite(facts, relation, 'set', undefined))
          remaining[op] = opArgs
        }
      }
      if (Object.keys(remaining).length > 0) kept[key] = remaining
    }
    rest[part] = kept
  }
  return rest
}

/**
 * `connect`/`disconnect` by the related model's id name both rows of each link: both rows' `l:`
 * keys. Anything else (`set`, other unique keys, nested creates) leaves the other side's rows
 * unknown: their side's `lu:` key, which every pinned read of that side records.
 */
function linkWrite(facts: ModelFacts, relation: RelationFacts, op: string, opArgs: unknown): LinkWrite {
  const names: CounterName[] = [relationCounter(relation.name)]
  const partners = op === 'set' ? undefined : partnerIds(relation, opArgs)
  const inverse = relation.inverse
  if (inverse === undefined) names.push(modelCounter(relation.model))
  else if (partners === undefined) names.push(unknownLinksCounter(relation.model, inverse))
  else for (const id of partners) names.push(linkCounter(relation.model, inverse, id))
  const ownId = idFieldOf(facts)
  return {
    names,
    ours: (row) => {
      const text = ownId === undefined ? undefined : valueText(ownId.canonical, row[ownId.name])
      return text === undefined ? [unknownLinksCounter(facts.name, relation.field)] : [linkCounter(facts.name, relation.field, text)]
    },
  }
}

/** The ids a `connect`/`disconnect` names, if every selector is by the related model's single-field id. */
function partnerIds(relation: RelationFacts, opArgs: unknown): string[] | undefined {
  const idField = relation.targetId
  if (idField === undefined) return undefined
  const selectors = Array.isArray(opArgs) ? opArgs : [opArgs]
  const ids: string[] = []
  for (const selector of selectors) {
    if (!isObject(selector) || Object.keys(selector).length !== 1 || !(idField.name in selector)) return undefined
    const text = valueText(idField.canonical, selector[idField.name])
    if (text === undefined) return undefined
    ids.push(text)
  }
  return ids
}

/** A model's single-field id (its first unique key), as a tracked field. */
export function idFieldOf(facts: ModelFacts): TrackedField | undefined {
  const id = facts.uniques[0]
  return id !== undefined && id.fields.length === 1 ? facts.tracked.get(id.fields[0]!) : undefined
}

/** The caller's arguments with the tracked fields (and the id, for links) certainly returned, and which were added. */
function withTracked(facts: ModelFacts, args: Record<string, unknown>, needId: boolean): { sent: Record<string, unknown>; added: string[] } {
  const needed = [...facts.tracked.keys()]
  if (needId && facts.uniques[0] !== undefined) needed.push(...facts.uniques[0].fields)
  const select = args.select
  if (isObject(select)) {
    const missing = [...new Set(needed)].filter((f) => select[f] !== true)
    if (missing.length === 0) return { sent: args, added: [] }
    return { sent: { ...args, select: { ...select, ...Object.fromEntries(missing.map((f) => [f, true])) } }, added: missing }
  }
  const omit = args.omit
  if (isObject(omit)) {
    const hidden = needed.filter((f) => omit[f] === true)
    if (hidden.length === 0) return { sent: args, added: [] }
    return { sent: { ...args, omit: Object.fromEntries(Object.entries(omit).filter(([k]) => !hidden.includes(k))) }, added: [...new Set(hidden)] }
  }
  return { sent: args, added: [] }
}

function strip(result: unknown, added: readonly string[]): unknown {
  const one = (row: unknown) => {
    if (!isObject(row)) return row
    const out = { ...row }
    for (const f of added) delete out[f]
    return out
  }
  return Array.isArray(result) ? result.map(one) : one(result)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
