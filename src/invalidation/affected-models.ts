import { walk } from './read-dependencies.js'
import type { SchemaFacts } from '../schema/schema.js'

const DELETES = new Set(['delete', 'deleteMany'])
const UPDATES = new Set(['update', 'updateMany', 'updateManyAndReturn', 'upsert'])

/**
 * Every model whose rows a write can change: its target; every model reached by a nested write in
 * its arguments (`create`, `connect`, `set`, `disconnect`, `update`, `upsert`, `delete`, `*Many`
 * under a relation field, implicit many-to-many included); and the models its deletes and key
 * updates reach through referential actions (Cascade, SetNull, SetDefault), transitively.
 */
export function affectedModels(schema: SchemaFacts, model: string, operation: string, args: unknown): Set<string> {
  const found = new Set<string>([model])
  walk(schema, model, args, found)
  const changes: Change[] = []
  // a nested `delete`/`deleteMany` can remove rows of any model the arguments reach
  const nestedDelete = hasKey(args, DELETES)
  for (const m of found) {
    if ((m === model && DELETES.has(operation)) || nestedDelete) changes.push({ model: m, deleted: true, keys: null })
    else if (m !== model || UPDATES.has(operation)) changes.push({ model: m, deleted: false, keys: writtenKeys(args) })
  }
  for (const m of referentialClosure(schema, changes)) found.add(m)
  return found
}

/** Rows of `model` deleted, or updated in the fields named by `keys` (null: any field). */
interface Change {
  model: string
  deleted: boolean
  keys: ReadonlySet<string> | null
}

/** Models changed by referential actions (Cascade, SetNull, SetDefault) of `changes`, transitively. */
function referentialClosure(schema: SchemaFacts, changes: Change[]): Set<string> {
  const reached = new Set<string>()
  const seen = new Set<string>()
  while (changes.length) {
    const change = changes.pop()!
    const id = `${change.model}:${change.deleted}:${change.keys ? [...change.keys].join() : '*'}`
    if (seen.has(id)) continue
    seen.add(id)
    if (schema.foreignKeys === null) {
      // no foreign-key facts: every related model may change
      for (const related of schema.model(change.model)?.relations.values() ?? []) {
        if (!reached.has(related)) changes.push({ model: related, deleted: true, keys: null })
        reached.add(related)
      }
      continue
    }
    for (const fk of schema.foreignKeys) {
      if (fk.target !== change.model) continue
      if (!change.deleted && change.keys !== null && !fk.references.some((f) => change.keys!.has(f))) continue
      const act = change.deleted ? fk.onDelete : fk.onUpdate
      if (act === 'Restrict' || act === 'NoAction') continue
      reached.add(fk.holder)
      // a cascaded delete deletes further; a cascaded or nulled key is an update of those fields
      changes.push(
        change.deleted && act === 'Cascade'
          ? { model: fk.holder, deleted: true, keys: null }
          : { model: fk.holder, deleted: false, keys: new Set(fk.fields) },
      )
    }
  }
  return reached
}

/** Field names a write may assign: every key of its arguments outside `where` filters. */
function writtenKeys(args: unknown, into = new Set<string>()): Set<string> {
  if (typeof args !== 'object' || args === null) return into
  for (const key in args) {
    if (key === 'where') continue
    into.add(key)
    writtenKeys((args as Record<string, unknown>)[key], into)
  }
  return into
}

function hasKey(args: unknown, keys: ReadonlySet<string>): boolean {
  if (typeof args !== 'object' || args === null) return false
  for (const key in args) {
    if (keys.has(key)) return true
    if (hasKey((args as Record<string, unknown>)[key], keys)) return true
  }
  return false
}
