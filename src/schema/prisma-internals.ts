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

interface ClientInternals {
  _runtimeDataModel?: RuntimeDataModel
  _engineConfig?: { inlineSchema?: string }
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
