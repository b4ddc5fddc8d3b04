import {
  anyCounter,
  eqCounter,
  fieldCounter,
  linkCounter,
  modelCounter,
  relationCounter,
  unknownLinksCounter,
  type CounterName,
} from '../keys/names.js'
import type { ModelFacts, RelationFacts, SchemaFacts } from '../schema/schema.js'
import { equalities, narrowest } from './equalities.js'

/** Arguments whose keys name fields of the read's model (filters, ordering, paging, grouping). */
const FIELD_ARGS = ['where', 'orderBy', 'cursor', 'distinct', 'by', 'having'] as const

/** Parent rows pinned by the arguments: the values of the fields a child's foreign key references. */
type Pinned = { field: string; values: string[] } | undefined

/**
 * The counters a read records, in row-level invalidation (DESIGN.md, "Fine-grained
 * invalidation"), its target model's first (they share the entry's Redis slot, `m:<target>` at
 * the head for the store script):
 * - every model it touches: `m:`;
 * - its target: `e:` of the narrowest equality of the top-level `where` (a `findUnique` is the
 *   equality on its unique key), or `a:` when there is none; `f:` of every field it filters,
 *   orders, pages, groups or `distinct`s on;
 * - a to-many (or to-one with the key on the other side) relation it includes, selects or
 *   counts under parents the arguments pin: the child's `e:` of its foreign key for those
 *   parents, and `f:` of that key; an implicit many-to-many: the parents' `l:` links (and `lu:`);
 * - any other relation (a to-one with the key on this side, a parent not pinned, relation
 *   filters): `a:` of the related model (every write to it), `r:` for a many-to-many.
 * Why a write's post-image is then enough is argued in invalidation/write-keys.ts.
 */
export function readKeys(schema: SchemaFacts, model: string, args: unknown): CounterName[] {
  const keys = new Set<CounterName>()
  const facts = schema.model(model)
  if (facts === undefined) return [modelCounter(model)]
  keys.add(modelCounter(model))
  const a = isObject(args) ? args : {}
  const pinned = targetKeys(schema, facts, a, keys)
  projection(schema, facts, a, pinned, keys)
  return [...keys]
}

/** The target's own keys; returns what of its rows the arguments pin (for the relations under it). */
function targetKeys(schema: SchemaFacts, facts: ModelFacts, args: Record<string, unknown>, keys: Set<CounterName>): Map<string, string[]> {
  const found = equalities(facts, args.where, foreignKeyFields(schema, facts))
  const cursor = equalities(facts, args.cursor, foreignKeyFields(schema, facts))
  const best = narrowest(found)
  if (best === undefined) keys.add(anyCounter(facts.name))
  else for (const value of best.values) keys.add(eqCounter(facts.name, best.field, value))
  // the cursor's row decides where the page starts: it matters even outside the filter
  for (const e of cursor) for (const value of e.values) keys.add(eqCounter(facts.name, e.field, value))
  for (const arg of FIELD_ARGS) fieldKeys(schema, facts, args[arg], keys)
  return new Map(found.map((e) => [e.field, e.values]))
}

/** `f:` of every scalar field named in a filter, ordering or list of fields; relations met there depend on their model's `a:`. */
function fieldKeys(schema: SchemaFacts, facts: ModelFacts, value: unknown, keys: Set<CounterName>): void {
  if (typeof value === 'string') {
    if (facts.scalars.has(value)) keys.add(fieldCounter(facts.name, value))
    return
  }
  if (Array.isArray(value)) {
    for (const member of value) fieldKeys(schema, facts, member, keys)
    return
  }
  if (!isObject(value)) return
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined) continue
    if (facts.scalars.has(key)) keys.add(fieldCounter(facts.name, key))
    else if (facts.relations.has(key)) anyRelated(schema, facts.relationFacts.get(key), facts.relations.get(key)!, member, keys)
    else if (facts.uniques.some((u) => u.name === key)) for (const f of facts.uniques.find((u) => u.name === key)!.fields) keys.add(fieldCounter(facts.name, f))
    else fieldKeys(schema, facts, member, keys) // AND / OR / NOT / _count / _avg … keep walking this model
  }
}

/** `include`, `select` and `_count` of relations, under parents pinned by `pinned` (field → values). */
function projection(schema: SchemaFacts, facts: ModelFacts, args: Record<string, unknown>, pinned: Map<string, string[]>, keys: Set<CounterName>): void {
  for (const part of ['include', 'select'] as const) {
    const tree = args[part]
    if (!isObject(tree)) continue
    for (const [field, value] of Object.entries(tree)) {
      if (value === undefined || value === false) continue
      if (field === '_count') counted(schema, facts, value, pinned, keys)
      else {
        const relation = facts.relationFacts.get(field)
        if (relation !== undefined) related(schema, facts, relation, value, pinned, keys)
      }
    }
  }
}

/** `_count: true` counts every to-many relation; `_count: { select: { posts: … } }` the ones named. */
function counted(schema: SchemaFacts, facts: ModelFacts, value: unknown, pinned: Map<string, string[]>, keys: Set<CounterName>): void {
  const select = isObject(value) && isObject(value.select) ? value.select : undefined
  for (const relation of facts.relationFacts.values()) {
    if (!relation.list) continue
    const chosen = select === undefined ? value === true : select[relation.field]
    if (chosen === undefined || chosen === false) continue
    related(schema, facts, relation, chosen, pinned, keys, true)
  }
}

/** One relation read under the parent model `facts`. */
function related(
  schema: SchemaFacts,
  parent: ModelFacts,
  relation: RelationFacts,
  value: unknown,
  pinned: Map<string, string[]>,
  keys: Set<CounterName>,
  /** A `_count`: the related rows' membership matters, not their content. */
  counting = false,
): void {
  const child = schema.model(relation.model)
  keys.add(modelCounter(relation.model))
  if (child === undefined) return
  const args = isObject(value) ? value : {}
  const parents = pinnedParents(parent, relation, pinned)
  const side = relation.side
  if (side.kind === 'there' && parents !== undefined) {
    const fk = side.fields[0]!
    for (const v of parents.values) keys.add(eqCounter(child.name, fk, v))
    keys.add(fieldCounter(child.name, fk))
    for (const arg of FIELD_ARGS) fieldKeys(schema, child, args[arg], keys)
  } else if (side.kind === 'm2m' && parents !== undefined) {
    for (const v of parents.values) keys.add(linkCounter(parent.name, relation.field, v))
    keys.add(unknownLinksCounter(parent.name, relation.field))
    if (!counting || hasFilter(args)) keys.add(anyCounter(child.name)) // the linked rows' own content
    for (const arg of FIELD_ARGS) fieldKeys(schema, child, args[arg], keys)
  } else {
    keys.add(anyCounter(child.name))
    if (side.kind === 'm2m' || side.kind === 'unknown') keys.add(relationCounter(relation.name))
  }
  // the children's own relations: their rows are not pinned by the arguments
  projection(schema, child, args, new Map(), keys)
}

/** Values of the parent field a single-field foreign key references, if the arguments pin them. */
function pinnedParents(parent: ModelFacts, relation: RelationFacts, pinned: Map<string, string[]>): Pinned {
  const side = relation.side
  if (side.kind === 'there') {
    if (side.references.length !== 1 || side.fields.length !== 1) return undefined
    const values = pinned.get(side.references[0]!)
    return values === undefined ? undefined : { field: side.references[0]!, values }
  }
  if (side.kind === 'm2m') {
    const id = parent.uniques[0]
    if (id === undefined || id.fields.length !== 1) return undefined
    const values = pinned.get(id.fields[0]!)
    return values === undefined ? undefined : { field: id.fields[0]!, values }
  }
  return undefined
}

/** A relation filter or ordering: any change to the related model may change the answer. */
function anyRelated(schema: SchemaFacts, relation: RelationFacts | undefined, model: string, filter: unknown, keys: Set<CounterName>): void {
  keys.add(modelCounter(model))
  keys.add(anyCounter(model))
  if (relation !== undefined && (relation.side.kind === 'm2m' || relation.side.kind === 'unknown')) keys.add(relationCounter(relation.name))
  const facts = schema.model(model)
  if (facts === undefined || !isObject(filter)) return
  // relations filtered further down (`posts: { some: { comments: { some: … } } }`)
  for (const [key, member] of Object.entries(filter)) {
    if (facts.relations.has(key)) anyRelated(schema, facts.relationFacts.get(key), facts.relations.get(key)!, member, keys)
    else if (isObject(member) || Array.isArray(member)) walkNested(schema, facts, member, keys)
  }
}

function walkNested(schema: SchemaFacts, facts: ModelFacts, value: unknown, keys: Set<CounterName>): void {
  if (Array.isArray(value)) {
    for (const member of value) walkNested(schema, facts, member, keys)
    return
  }
  if (!isObject(value)) return
  for (const [key, member] of Object.entries(value)) {
    if (facts.scalars.has(key)) continue
    if (facts.relations.has(key)) anyRelated(schema, facts.relationFacts.get(key), facts.relations.get(key)!, member, keys)
    else walkNested(schema, facts, member, keys)
  }
}

const fkCache = new WeakMap<ModelFacts, Set<string>>()

/** Fields of `facts` that are foreign keys (a memo per model: schema facts never change). */
function foreignKeyFields(schema: SchemaFacts, facts: ModelFacts): Set<string> {
  let fields = fkCache.get(facts)
  if (fields === undefined) {
    fields = new Set((schema.foreignKeys ?? []).filter((fk) => fk.holder === facts.name).flatMap((fk) => fk.fields))
    fkCache.set(facts, fields)
  }
  return fields
}

function hasFilter(args: Record<string, unknown>): boolean {
  return args.where !== undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

