// The migrations are hand-written SQL (the CLI cannot run `migrate` here), so this file checks
// that they create exactly what prisma/schema.prisma describes, and that what the cache reads of
// Prisma's internals is still where it expects it.
import { PrismaPg } from '@prisma/adapter-pg'
import { describe, expect, it } from 'vitest'
import { PrismaClient } from '../../generated/prisma/client.js'
import { isTransactionClient, queryHookCount, readDataModel, readResultConfig, readSchemaText } from '../../src/schema/prisma-internals.js'
import { SchemaFacts } from '../../src/schema/schema.js'
import { useDatabase } from '../support/db.js'

const ctx = useDatabase()

const SQL_TYPES: Record<string, string> = {
  Int: 'integer',
  String: 'text',
  Boolean: 'boolean',
  DateTime: 'timestamp without time zone',
  BigInt: 'bigint',
  Decimal: 'numeric',
  Bytes: 'bytea',
  Json: 'jsonb',
}

/** Columns the schema gives a native type (`@db.Uuid`, `@db.Citext`). */
const NATIVE_TYPES: Record<string, string> = { 'Device.id': 'uuid', 'Device.serial': 'citext' }

describe('migrations match the schema', () => {
  it('creates every scalar field of every model as a column of the right type, and nothing else', async () => {
    const columns = await ctx.db.prisma.$queryRaw<{ table_name: string; column_name: string; data_type: string; udt_name: string }[]>`
      SELECT table_name, column_name, data_type, udt_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name NOT LIKE '\\_%'`
    const actual = columns.map((c) => `${c.table_name}.${c.column_name}:${c.data_type === 'USER-DEFINED' ? c.udt_name : c.data_type}`)
    const expected: string[] = []
    for (const [model, { fields }] of Object.entries(readDataModel(ctx.db.prisma).models)) {
      for (const f of fields) {
        if (f.kind === 'scalar') expected.push(`${model}.${f.name}:${NATIVE_TYPES[`${model}.${f.name}`] ?? SQL_TYPES[f.type]}`)
        if (f.kind === 'enum') expected.push(`${model}.${f.name}:${f.type}`)
      }
    }
    expect(actual.sort()).toEqual(expected.sort())
  })

  it('creates the foreign keys, with the referential actions, that the cache reads from the schema', async () => {
    const rows = await ctx.db.prisma.$queryRaw<{ holder: string; target: string; del: string; upd: string }[]>`
      SELECT cl.relname AS holder, ft.relname AS target, c.confdeltype::text AS del, c.confupdtype::text AS upd
      FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class ft ON ft.oid = c.confrelid
      WHERE c.contype = 'f' AND cl.relname NOT LIKE '\\_%'`
    const code = { Cascade: 'c', SetNull: 'n', SetDefault: 'd', Restrict: 'r', NoAction: 'a' }
    const facts = new SchemaFacts(ctx.db.prisma)
    const expected = facts.foreignKeys!.map((fk) => `${fk.holder}->${fk.target}:${code[fk.onDelete]}${code[fk.onUpdate]}`)
    expect(rows.map((r) => `${r.holder}->${r.target}:${r.del}${r.upd}`).sort()).toEqual(expected.sort())
    expect(expected).toContain('Comment->Post:cc')
    expect(expected).toContain('Post->User:nc')
  })

  it('creates the implicit many-to-many table and the unique constraints', async () => {
    const indexes = await ctx.db.prisma.$queryRaw<{ indexname: string }[]>`
      SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`
    expect(indexes.map((i) => i.indexname)).toEqual(
      expect.arrayContaining(['_PostToTag_AB_pkey', '_PostToTag_B_index', 'User_email_key', 'Profile_userId_key', 'Tag_name_key', 'Sample_tenant_code_key']),
    )
  })
})

describe('Prisma internals the cache relies on (fails loudly on an upgrade that moves them)', () => {
  it('reads the data model and the schema text from a client', () => {
    expect(Object.keys(readDataModel(ctx.db.prisma).models)).toEqual(['User', 'Profile', 'Post', 'Comment', 'Tag', 'Sample', 'Device', 'Category'])
    expect(readSchemaText(ctx.db.prisma)).toContain('model Sample')
  })

  it('counts the query hooks of the extensions a client carries, per model and operation', () => {
    const hooked = ctx.db.prisma.$extends({ query: { user: { findUnique: ({ args, query }) => query(args) }, $allModels: { $allOperations: ({ args, query }) => query(args) } } })
    expect(queryHookCount(ctx.db.prisma)!('user', 'findUnique')).toBe(0)
    expect(queryHookCount(hooked)!('user', 'findUnique')).toBe(2)
    expect(queryHookCount(hooked)!('user', 'findMany')).toBe(1)
    expect(queryHookCount(hooked)!('post', 'findUnique')).toBe(1)
  })

  it('reads what of a client changes its results: its global omit and its extensions', () => {
    const plain = readResultConfig(ctx.db.prisma)
    const omitting = new PrismaClient({ adapter: new PrismaPg({ connectionString: ctx.url }), omit: { user: { email: true } } })
    expect(readResultConfig(omitting)).toContain('"omit":{"user":{"email":true}}')
    expect(readResultConfig(ctx.db.prisma.$extends({ result: { user: { x: { compute: () => 1 } } } }))).toContain('"compute":"() => 1"')
    expect(readResultConfig(ctx.db.prisma.$extends({ query: { user: { findMany: ({ args, query }) => query(args) } } }))).toContain('findMany')
    expect(readResultConfig(ctx.db.prisma.$extends({ client: { $hello: () => 'hello' } }))).toBe(plain)
    // odd arguments never make withCache() throw: a BigInt is text, a cycle makes the client share no entries
    const cyclic: Record<string, unknown> = { value: 5n }
    cyclic.self = cyclic
    expect(readResultConfig(ctx.db.prisma.$extends({ model: { user: { big: () => 5n, cyclic } } }))).toMatch(/^unshared:/)
    expect(readResultConfig(ctx.db.prisma.$extends({ model: { user: { limit: 5n } } } as never))).toContain('"5n"')
  })

  it('recognises a transaction client', async () => {
    expect(isTransactionClient(ctx.db.prisma)).toBe(false)
    await ctx.db.prisma.$transaction(async (tx) => {
      expect(isTransactionClient(tx)).toBe(true)
    })
  })
})
