import type { SchemaFacts } from '../schema/schema.js'
import { modelCounter } from '../keys/names.js'
import type { Generation, Generations } from './generations.js'
import { readKeys } from './read-keys.js'

/**
 * Every model whose rows can change the answer of a read: the target, and each model reached
 * through a relation field anywhere in its arguments (`include`/`select` trees, `_count`, relation
 * filters such as `some`/`every`/`is`, `orderBy` on a relation). Keys that are not fields (`where`,
 * `AND`, `select`, `_count`…) keep walking the same model; scalar fields end the walk, so a Json
 * filter whose keys happen to match a relation name is not mistaken for one.
 */
export function readDependencies(schema: SchemaFacts, model: string, args: unknown): string[] {
  const found = new Set<string>([model])
  walk(schema, model, args, found)
  return [...found]
}

/** Models reached through relation fields of `args`, read from `model`; adds to `found`. */
export function walk(schema: SchemaFacts, model: string, args: unknown, found: Set<string>): void {
  if (typeof args !== 'object' || args === null) return
  if (Array.isArray(args)) {
    for (const item of args) walk(schema, model, item, found)
    return
  }
  const facts = schema.model(model)
  if (facts === undefined) return
  for (const key in args) {
    if (facts.scalars.has(key)) continue
    const value = (args as Record<string, unknown>)[key]
    if (key === '_count' && value === true) {
      // `_count: true` counts every to-many relation (all relations, without the schema text)
      for (const [field, model] of facts.relations) if (facts.relationFacts.get(field)?.list ?? true) found.add(model)
      continue
    }
    const related = facts.relations.get(key)
    if (related !== undefined) {
      found.add(related)
      walk(schema, related, value, found)
    } else {
      walk(schema, model, value, found)
    }
  }
}

/**
 * The counters a read records before it queries: its target model first (the L2 store script
 * checks that one, in the entry's slot), then what it depends on at the chosen granularity
 * (`'model'`: every model it reads; `'row'`: read-keys.ts), its tags, the global counter.
 */
export function readCounters(
  schema: SchemaFacts,
  generations: Generations,
  model: string,
  args: unknown,
  tags: readonly string[],
  granularity: 'row' | 'model',
): Generation[] {
  const names = granularity === 'row' ? readKeys(schema, model, args) : readDependencies(schema, model, args).map(modelCounter)
  const gens = names.map((name) => generations.get(name))
  for (const tag of tags) gens.push(generations.tag(tag))
  gens.push(generations.all)
  return gens
}
