import { hash } from 'node:crypto'

/**
 * The one place that builds and parses counter names and Redis keys (as BullMQ's queue-keys.ts).
 *
 * A counter name is what entries record, writes bump and the bus carries. Per model M:
 * - `m:M`: M's model counter, bumped by writes whose rows are unknown (bulk, raw, cascades);
 *   every read of M records it;
 * - `a:M`: bumped by every write to M; recorded by reads that pin no equality of M;
 * - `e:M:<field>:<value>`: one per value of a tracked field (or compound unique), bumped by the
 *   writes whose rows hold that value; recorded by reads that pin it;
 * - `f:M:<field>`: bumped by updates that assign the field; recorded by reads that filter, order,
 *   page, group or `distinct` on it;
 * - `l:M:<relation field>:<id>`: the implicit many-to-many links of one row; `lu:M:<relation field>`:
 *   links of unknown rows of M's side (a `set`); `r:<relation name>`: any link of the relation;
 * and `t:<tag>` for tags, `*` for everything. Values are typed text (`5`, `true`) or a hash
 * (strings: no value appears in a key). Names are a wire format (bus messages, Redis keys):
 * changing one breaks a rolling deploy of versions that share a Redis.
 */
export type CounterName = string

export const ALL: CounterName = '*'

export const modelCounter = (model: string): CounterName => `m:${model}`
export const tagCounter = (tag: string): CounterName => `t:${tag}`
export const anyCounter = (model: string): CounterName => `a:${model}`
export const fieldCounter = (model: string, field: string): CounterName => `f:${model}:${field}`
/** `value` as `valueText` made it. */
export const eqCounter = (model: string, field: string, value: string): CounterName => `e:${model}:${field}:${value}`
export const linkCounter = (model: string, field: string, id: string): CounterName => `l:${model}:${field}:${id}`
export const unknownLinksCounter = (model: string, field: string): CounterName => `lu:${model}:${field}`
export const relationCounter = (relation: string): CounterName => `r:${relation}`

/** How a key value is compared: the database's equality for the field's type. */
export type ValueKind = 'integer' | 'boolean' | 'string' | 'uuid'

/**
 * The text of a value in a counter name, `undefined` when it cannot be keyed exactly (a float for
 * an integer field, an object). Integers as decimal digits (5 and 5n alike), strings hashed.
 */
export function valueText(kind: ValueKind, value: unknown): string | undefined {
  if (value === null) return 'null'
  switch (kind) {
    case 'integer':
      if (typeof value === 'bigint') return value.toString()
      return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined
    case 'boolean':
      return typeof value === 'boolean' ? String(value) : undefined
    case 'string':
      return typeof value === 'string' ? `s${hash('sha1', value, 'base64url').slice(0, 16)}` : undefined
    case 'uuid':
      return typeof value === 'string' ? `u${value.toLowerCase().replace(/[^0-9a-f]/g, '')}` : undefined
  }
}

/** Kinds of counter whose number grows with the rows read: they expire in Redis and are held weakly here. */
export function isPerValue(name: CounterName): boolean {
  return name.startsWith('e:') || name.startsWith('l:')
}

export type ParsedCounter =
  | { kind: 'model' | 'any'; model: string }
  | { kind: 'eq' | 'field' | 'link' | 'unknownLinks'; model: string }
  | { kind: 'relation'; relation: string }
  | { kind: 'tag'; tag: string }
  | { kind: 'all' }

const MODEL_KINDS: Record<string, ParsedCounter['kind']> = { m: 'model', a: 'any', e: 'eq', f: 'field', l: 'link', lu: 'unknownLinks' }

/** `undefined` for a name no version of this library writes (a foreign bus message). */
export function parseCounter(name: string): ParsedCounter | undefined {
  if (name === ALL) return { kind: 'all' }
  const colon = name.indexOf(':')
  if (colon < 0) return undefined
  const prefix = name.slice(0, colon)
  const rest = name.slice(colon + 1)
  if (prefix === 't') return { kind: 'tag', tag: rest }
  if (prefix === 'r') return { kind: 'relation', relation: rest }
  const kind = MODEL_KINDS[prefix]
  if (kind === undefined) return undefined
  const end = rest.indexOf(':')
  return { kind, model: end < 0 ? rest : rest.slice(0, end) } as ParsedCounter
}

/** The model a counter belongs to (its Redis hash tag), if it is one of a model's. */
export function modelOf(name: CounterName): string | undefined {
  const parsed = parseCounter(name)
  return parsed !== undefined && 'model' in parsed ? parsed.model : undefined
}

/**
 * Redis key layout, every key under the namespace and a hash tag:
 * - `<ns>:{<Model>}:q:<schema hash>:<sha1 of the read key>`: an entry, in its model's slot;
 * - `<entry key>:lease`: its stampede lease, same slot;
 * - `<ns>:{<Model>}:gen`: a model's counter, same slot as its entries (the store script needs both);
 * - `<ns>:{<Model>}:<kind>:…:gen`: the model's other counters (`a`, `e`, `f`, `l`, `lu`), same slot;
 * - `<ns>:{t:<tag>}:gen`, `<ns>:{r:<relation>}:gen`, `<ns>:{*}:gen`: tag, relation and global
 *   counters, in slots of their own;
 * - `<ns>:{*}:server`: the identity (run_id, replication id) of the server the global counter was
 *   last renewed for (same slot); on Cluster `<ns>:{*}:servers`, the set of the masters' identities;
 * - `<ns>:bus`: the invalidation channel.
 */
export class RedisKeys {
  readonly busChannel: string
  readonly serverIdentity: string
  readonly knownServers: string

  constructor(
    private readonly namespace: string,
    private readonly schemaHash: string,
  ) {
    this.busChannel = `${namespace}:bus`
    this.serverIdentity = `${namespace}:{*}:server`
    this.knownServers = `${namespace}:{*}:servers`
  }

  entry(model: string, readKey: string): string {
    return `${this.namespace}:{${model}}:q:${this.schemaHash}:${hash('sha1', readKey, 'base64url')}`
  }

  lease(entryKey: string): string {
    return `${entryKey}:lease`
  }

  counter(name: CounterName): string {
    const ns = this.namespace
    if (name.startsWith('m:')) return `${ns}:{${name.slice(2)}}:gen`
    const model = modelOf(name)
    if (model === undefined) return `${ns}:{${name}}:gen`
    const kind = name.slice(0, name.indexOf(':'))
    return `${ns}:{${model}}:${kind}${name.slice(kind.length + 1 + model.length)}:gen`
  }

  /** SCAN pattern of the tag counters a tag glob names (the namespace escaped, the glob kept). */
  tagCounterPattern(tagGlob: string): string {
    return `${this.namespace.replace(/[*?[\]\\]/g, '\\$&')}:{t:${tagGlob}}:gen`
  }
}

/**
 * A counter as this process holds it: every cached read records the counters of what it depends
 * on, and any change to one of them makes the read invalid. Entries hold references to these
 * objects, so checking an L1 entry costs no map lookup.
 */
export interface Generation {
  readonly name: CounterName
  value: number
}
