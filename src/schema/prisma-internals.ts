import { randomUUID } from 'node:crypto'
import { UnsupportedPrismaError } from '../errors.js'

/**
 * The only file that reads Prisma internals. Prisma gives extensions no public access to the
 * data model or the schema text; test/schema/schema.test.ts ("Prisma internals the cache relies on") fails loudly if an upgrade moves them.
 */

export interface RuntimeField {
  name: string
  kind: 'scalar' | 'object' | 'enum' | 'unsupported'
  type: string
  relationName?: string
}

export interface RuntimeDataModel {
  models: Record<string, { fields: RuntimeField[]; dbName: string | null }>
}

/** One `$extends(...)` layer as Prisma keeps it: the argument given, and the layer below. */
interface ExtensionLayer {
  extension: { name?: string; result?: object; query?: object; model?: object }
  previous?: ExtensionLayer
}

interface ClientInternals {
  _runtimeDataModel?: RuntimeDataModel
  _engineConfig?: { inlineSchema?: string }
  /** `new PrismaClient({ omit })`, kept as given. */
  _globalOmit?: object
  /** The extensions applied to this client, the last applied at `head`. */
  _extensions?: { head?: ExtensionLayer }
}

export function readDataModel(client: unknown): RuntimeDataModel {
  const model = (client as ClientInternals)._runtimeDataModel
  if (!model || typeof model.models !== 'object') {
    throw new UnsupportedPrismaError('_runtimeDataModel')
  }
  return model
}

/** The schema source the client was generated from, when the client carries it. */
export function readSchemaText(client: unknown): string | undefined {
  return (client as ClientInternals)._engineConfig?.inlineSchema
}

/** Prisma marks a transaction client with this registered symbol (its scope: kind, txId). */
const TRANSACTION_SCOPE = Symbol.for('prisma.client.transaction.scope_context')

/** True for the client Prisma hands to an interactive `$transaction` callback. */
export function isTransactionClient(client: unknown): boolean {
  return (client as Record<symbol, unknown>)[TRANSACTION_SCOPE] !== undefined
}

/**
 * What of a client's configuration changes the results it returns, as text: its global `omit`,
 * and the `result`, `query` and `model` components of the extensions it carries (functions by
 * their source). Of the other `PrismaClient` options, `adapter` picks the database (a namespace
 * tells databases apart), and `log`, `errorFormat`, `transactionOptions`, `comments` and
 * `queryPlanCacheMaxSize` change no result. Clients that differ here must not share entries:
 * test/read/client-omit.test.ts.
 */
export function readResultConfig(client: unknown): string {
  const internals = client as ClientInternals
  const layers: unknown[] = []
  for (let layer = internals._extensions?.head; layer !== undefined; layer = layer.previous) {
    const { name, result, query, model } = layer.extension
    // client methods and the like change no result
    if (result !== undefined || query !== undefined || model !== undefined) layers.push({ name, result, query, model })
  }
  try {
    return JSON.stringify({ omit: internals._globalOmit, extensions: layers.reverse() }, sourceOf)
  } catch {
    // a cycle in an extension's arguments: this client then shares entries with no other process
    return `unshared:${randomUUID()}`
  }
}

function sourceOf(_key: string, value: unknown): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return String(value)
  return typeof value === 'bigint' ? `${value}n` : value
}

/** How Prisma's extension list answers "which query hooks run for this model and operation". */
interface QueryHookList {
  getAllQueryCallbacks(jsModelName: string, operation: string): readonly unknown[]
}

/**
 * How many query hooks of the extensions applied to `client` run for `operation` of `model`
 * (its delegate name, `user`), the `$allOperations` ones included; `undefined` if this Prisma
 * keeps them elsewhere (then the caller must assume every read is hooked).
 */
export function queryHookCount(client: unknown): ((jsModelName: string, operation: string) => number) | undefined {
  const list = (client as { _extensions?: Partial<QueryHookList> })._extensions
  if (typeof list?.getAllQueryCallbacks !== 'function') return undefined
  return (model, operation) => list.getAllQueryCallbacks!(model, operation).length
}
