import { createHash } from 'node:crypto'
import { readDataModel, readSchemaText } from './prisma-internals.js'

export type ReferentialAction = 'Cascade' | 'SetNull' | 'SetDefault' | 'Restrict' | 'NoAction'

/** A foreign key: `holder.fields` reference `target.references`. */
export interface ForeignKey {
  holder: string
  target: string
  fields: string[]
  references: string[]
  onDelete: ReferentialAction
  onUpdate: ReferentialAction
}

/** A unique selector as `findUnique`'s `where` names it: a field, or a compound (`tenant_code`). */
export interface UniqueKey {
  name: string
  fields: string[]
}

export interface ModelFacts {
  name: string
  scalars: ReadonlySet<string>
  /** relation field name -> related model name */
  relations: ReadonlyMap<string, string>
  /** Ids and unique constraints, from the schema text (empty without it: no batching then). */
  uniques: UniqueKey[]
}

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
  /** Changes whenever the schema does, so that entries of an older schema are never read. */
  readonly hash: string

  constructor(client: unknown) {
    for (const [name, model] of Object.entries(readDataModel(client).models)) {
      const scalars = new Set<string>()
      const relations = new Map<string, string>()
      for (const field of model.fields) {
        if (field.kind === 'object') relations.set(field.name, field.type)
        else scalars.add(field.name)
      }
      this.models.set(name, { name, scalars, relations, uniques: [] })
    }
    const text = readSchemaText(client)
    if (text !== undefined) parseUniques(text, this.models)
    this.foreignKeys = text === undefined ? null : parseForeignKeys(text, this.models)
    this.hash = createHash('sha1')
      .update(text ?? JSON.stringify([...this.models.values()].map((m) => [m.name, [...m.scalars], [...m.relations]])))
      .digest('hex')
      .slice(0, 10)
  }

  model(name: string): ModelFacts | undefined {
    return this.models.get(name)
  }
}

const MODEL_BLOCK = /^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm
const RELATION_FIELD = /^\s*(\w+)\s+(\w+)(\[\])?(\?)?\s+.*@relation\(([^)]*)\)/

function parseForeignKeys(schema: string, models: ReadonlyMap<string, ModelFacts>): ForeignKey[] {
  const keys: ForeignKey[] = []
  for (const [, holder, body] of schema.matchAll(MODEL_BLOCK)) {
    for (const line of body!.split('\n')) {
      const match = RELATION_FIELD.exec(line.replace(/\/\/.*$/, ''))
      if (!match) continue
      const [, , target, , optional, inner] = match
      const fields = list(inner!, 'fields')
      if (!fields || !models.has(target!)) continue
      keys.push({
        holder: holder!,
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
