import { createHash } from 'node:crypto'
import { readDataModel, readResultConfig, readSchemaText, type RuntimeDataModel } from './prisma-internals.js'
import type { ForeignKey, ModelFacts, RelationFacts, ReferentialAction } from './facts.js'
import { LowerHooks } from './lower-hooks.js'
import { pairRelations, relationFacts } from './relations.js'
import { fieldLines, trackedFields } from './tracked.js'

export type { ForeignKey, ModelFacts, ReferentialAction, RelationFacts, RelationSide, TrackedField, UniqueKey } from './facts.js'

/**
 * What the cache needs to know of the user's schema: models, their relation fields, and the
 * foreign keys with their referential actions. Relations come from the client's data model; the
 * foreign keys are read from the schema text, because the data model does not carry them. Where
 * the schema text is unavailable, `foreignKeys` is null and invalidation falls back to the
 * conservative rule (every related model is affected).
 */
export class SchemaFacts {
  readonly models = new Map<string, ModelFacts>()
  readonly foreignKeys: ForeignKey[] | null
  /**
   * Changes whenever the schema, or what the client makes of a result (its global `omit`, the
   * extensions below the cache), does: entries of another schema or client are never read.
   */
  readonly hash: string
  /** The reads that query hooks of the extensions below the cache name (a fact of the client, not the schema). */
  readonly lowerHooks: LowerHooks
  /** The datasource provider (`postgresql`, `mysql`, `sqlite`, …), `unknown` without the schema text. */
  readonly provider: string

  constructor(client: unknown) {
    const dataModel = readDataModel(client)
    for (const [name, model] of Object.entries(dataModel.models)) {
      const scalars = new Set<string>()
      const relations = new Map<string, string>()
      for (const field of model.fields) {
        if (field.kind === 'object') relations.set(field.name, field.type)
        else scalars.add(field.name)
      }
      this.models.set(name, { name, scalars, relations, relationFacts: new Map(), uniques: [], tracked: new Map(), comparable: new Map(), updatedAt: [] })
    }
    const text = readSchemaText(client)
    this.provider = text === undefined ? 'unknown' : providerOf(text)
    if (text !== undefined) parseUniques(text, this.models)
    this.foreignKeys = text === undefined ? null : parseForeignKeys(text, this.models, dataModel)
    const lines = text === undefined ? undefined : fieldLines(text)
    for (const [name, model] of Object.entries(dataModel.models)) {
      const facts = this.models.get(name)!
      const declared = lines?.get(name)
      for (const field of model.fields) {
        if (field.kind !== 'object' || field.relationName === undefined) continue
        const list = declared?.get(field.name)?.list ?? false
        ;(facts.relationFacts as Map<string, RelationFacts>).set(
          field.name,
          relationFacts(facts, { name: field.name, type: field.type, relationName: field.relationName, list }, this.foreignKeys),
        )
      }
      if (text === undefined) continue
      const { tracked, comparable, updatedAt } = trackedFields(facts, model.fields, declared!, this.foreignKeys!, this.provider)
      facts.tracked = tracked
      facts.comparable = comparable
      facts.updatedAt = updatedAt
    }
    pairRelations(this.models)
    this.lowerHooks = new LowerHooks(client, this.models.keys())
    this.hash = createHash('sha1')
      .update(text ?? JSON.stringify([...this.models.values()].map((m) => [m.name, [...m.scalars], [...m.relations]])))
      .update(readResultConfig(client))
      .digest('hex')
      .slice(0, 10)
  }

  model(name: string): ModelFacts | undefined {
    return this.models.get(name)
  }
}

const MODEL_BLOCK = /^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm
const RELATION_FIELD = /^\s*(\w+)\s+(\w+)(\[\])?(\?)?\s+.*@relation\(([^)]*)\)/

function parseForeignKeys(schema: string, models: ReadonlyMap<string, ModelFacts>, dataModel: RuntimeDataModel): ForeignKey[] {
  const keys: ForeignKey[] = []
  for (const [, holder, body] of schema.matchAll(MODEL_BLOCK)) {
    for (const line of body!.split('\n')) {
      const match = RELATION_FIELD.exec(line.replace(/\/\/.*$/, ''))
      if (!match) continue
      const [, field, target, , optional, inner] = match
      const fields = list(inner!, 'fields')
      if (!fields || !models.has(target!)) continue
      const relationName = dataModel.models[holder!]?.fields.find((f) => f.name === field)?.relationName ?? ''
      keys.push({
        holder: holder!,
        field: field!,
        relationName,
        target: target!,
        fields,
        references: list(inner!, 'references') ?? [],
        // Prisma's defaults: SetNull for optional relations, Restrict for required ones; Cascade on update
        onDelete: action(inner!, 'onDelete') ?? (optional ? 'SetNull' : 'Restrict'),
        onUpdate: action(inner!, 'onUpdate') ?? 'Cascade',
      })
    }
  }
  return keys
}

const FIELD_ATTRIBUTE = /^\s*(\w+)\s+\w+[?]?\s.*@(id|unique)\b/
const BLOCK_ATTRIBUTE = /^\s*@@(id|unique)\(\s*(?:fields:\s*)?\[([^\]]*)\](.*)\)/

/** `@id`, `@unique`, `@@id([..])`, `@@unique([..], name: "..")`, in the order the schema gives them. */
function parseUniques(schema: string, models: Map<string, ModelFacts>): void {
  for (const [, name, body] of schema.matchAll(MODEL_BLOCK)) {
    const facts = models.get(name!)
    if (facts === undefined) continue
    for (const raw of body!.split('\n')) {
      const line = raw.replace(/\/\/.*$/, '')
      const field = FIELD_ATTRIBUTE.exec(line)
      if (field && facts.scalars.has(field[1]!)) facts.uniques.push({ name: field[1]!, fields: [field[1]!] })
      const block = BLOCK_ATTRIBUTE.exec(line)
      if (block) {
        const fields = block[2]!.split(',').map((f) => f.trim().replace(/\(.*$/, '')).filter(Boolean)
        const named = /name:\s*"(\w+)"/.exec(block[3] ?? '')?.[1]
        facts.uniques.push({ name: named ?? fields.join('_'), fields })
      }
    }
  }
}

function list(inner: string, name: string): string[] | undefined {
  const match = new RegExp(`${name}\\s*:\\s*\\[([^\\]]*)\\]`).exec(inner)
  return match ? match[1]!.split(',').map((s) => s.trim()).filter(Boolean) : undefined
}

function action(inner: string, name: string): ReferentialAction | undefined {
  return new RegExp(`${name}\\s*:\\s*(\\w+)`).exec(inner)?.[1] as ReferentialAction | undefined
}

/** The datasource provider (`postgresql`, `mysql`, `sqlite`, …) as the schema text names it. */
function providerOf(schema: string): string {
  return /datasource\s+\w+\s*\{[^}]*provider\s*=\s*"(\w+)"/.exec(schema)?.[1] ?? 'unknown'
}
