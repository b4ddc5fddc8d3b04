import type { ForeignKey, ModelFacts, RelationFacts } from './facts.js'

/** Pairs relation fields with the foreign keys of the schema text (both sides share a relation name). */
export function relationFacts(
  model: ModelFacts,
  field: { name: string; type: string; relationName: string; list: boolean },
  foreignKeys: readonly ForeignKey[] | null,
): RelationFacts {
  const base = { field: field.name, model: field.type, name: field.relationName, list: field.list }
  if (foreignKeys === null) return { ...base, side: { kind: 'unknown' } }
  const here = foreignKeys.find((fk) => fk.holder === model.name && fk.field === field.name)
  if (here !== undefined) return { ...base, side: { kind: 'here', fields: here.fields, references: here.references } }
  const there = foreignKeys.find((fk) => fk.holder === field.type && fk.target === model.name && fk.relationName === field.relationName && fk.field !== field.name)
  if (there !== undefined) return { ...base, side: { kind: 'there', fields: there.fields, references: there.references } }
  return { ...base, side: field.list ? { kind: 'm2m' } : { kind: 'unknown' } }
}

/** Links each relation to its inverse field and its related model's id, once every model's facts are known. */
export function pairRelations(models: ReadonlyMap<string, ModelFacts>): void {
  for (const facts of models.values()) {
    for (const relation of facts.relationFacts.values()) {
      const other = models.get(relation.model)
      if (other === undefined) continue
      for (const candidate of other.relationFacts.values()) {
        if (candidate.name === relation.name && !(other === facts && candidate.field === relation.field)) relation.inverse = candidate.field
      }
      const id = other.uniques[0]
      if (id !== undefined && id.fields.length === 1) relation.targetId = other.tracked.get(id.fields[0]!)
    }
  }
}
