import type { RuntimeField } from './prisma-internals.js'
import type { ForeignKey, ModelFacts, TrackedField } from './facts.js'

/** A field line of the schema text: `name Type[]? @attributes`. */
export interface FieldLine {
  type: string
  list: boolean
  attributes: string
}

const MODEL_BLOCK = /^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm
const FIELD_LINE = /^\s*(\w+)\s+(\w+)(\[\])?\??(.*)$/

/** model -> field -> its line, for what the runtime data model lacks (lists, native types, @updatedAt). */
export function fieldLines(schema: string): Map<string, Map<string, FieldLine>> {
  const models = new Map<string, Map<string, FieldLine>>()
  for (const [, name, body] of schema.matchAll(MODEL_BLOCK)) {
    const fields = new Map<string, FieldLine>()
    for (const raw of body!.split('\n')) {
      const match = FIELD_LINE.exec(raw.replace(/\/\/.*$/, ''))
      if (match && !match[1]!.startsWith('@')) fields.set(match[1]!, { type: match[2]!, list: match[3] !== undefined, attributes: match[4] ?? '' })
    }
    models.set(name!, fields)
  }
  return models
}

/**
 * The fields equality keys are kept for: ids and uniques (what `findUnique` names), foreign keys
 * (what resolvers and relation reads filter by), booleans and enums (`published: true`, a
 * status), of types whose database equality this library can reproduce exactly. Left out, so that
 * their equalities count as "no equality" (the read then depends on every write to its model):
 * - strings where the database compares loosely: MySQL/MariaDB (case- and trailing-space-
 *   insensitive default collations), `@db.Citext` and blank-padded `@db.Char`;
 * - floats, decimals, dates, bytes and Json (equality by value is not one text).
 * A `@db.Uuid` string is kept, compared as its hex digits in lower case, as PostgreSQL does.
 */
export function trackedFields(
  facts: ModelFacts,
  fields: readonly RuntimeField[],
  lines: ReadonlyMap<string, FieldLine>,
  foreignKeys: readonly ForeignKey[],
  provider: string,
): { tracked: Map<string, TrackedField>; comparable: Map<string, TrackedField>; updatedAt: string[] } {
  const wanted = new Set<string>()
  for (const unique of facts.uniques) for (const f of unique.fields) wanted.add(f)
  for (const fk of foreignKeys) if (fk.holder === facts.name) for (const f of fk.fields) wanted.add(f)
  const tracked = new Map<string, TrackedField>()
  const comparable = new Map<string, TrackedField>()
  const updatedAt: string[] = []
  for (const field of fields) {
    const line = lines.get(field.name)
    if (line === undefined || line.list) continue
    if (/@updatedAt\b/.test(line.attributes)) updatedAt.push(field.name)
    const canonical = canonicalOf(field, line, provider)
    if (canonical === undefined) continue
    const compared = { name: field.name, canonical }
    comparable.set(field.name, compared)
    if (wanted.has(field.name) || canonical === 'boolean' || field.kind === 'enum') tracked.set(field.name, compared)
  }
  return { tracked, comparable, updatedAt }
}

function canonicalOf(field: RuntimeField, line: FieldLine, provider: string): TrackedField['canonical'] | undefined {
  if (field.kind === 'enum') return 'string'
  if (field.kind !== 'scalar') return undefined
  switch (field.type) {
    case 'Int':
    case 'BigInt':
      return 'integer'
    case 'Boolean':
      return 'boolean'
    case 'String':
      if (/@db\.Uuid\b/.test(line.attributes)) return 'uuid'
      // `@db.Char(n)` compares blank-padded ('ab' = 'ab  '), `@db.Citext` ignoring case
      if (provider === 'mysql' || /@db\.(Citext|Char)\b/.test(line.attributes)) return undefined
      return 'string'
    default:
      return undefined
  }
}
