// The schema facts the cache reads (foreign keys with their referential actions, ids and unique
// keys, how relations are found) come out the same from the PostgreSQL, MySQL/MariaDB and SQLite
// clients that scripts/generate.ts makes of one schema: Prisma's defaults for onDelete/onUpdate
// are the same on the three providers, and the facts come from the schema text each client inlines.
import { describe, expect, it } from 'vitest'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient as PgClient } from '../../generated/prisma/client.js'
import { PrismaClient as MysqlClient } from '../../generated/prisma-mysql/client.js'
import { PrismaClient as SqliteClient } from '../../generated/prisma-sqlite/client.js'
import { SchemaFacts } from '../../src/schema/schema.js'

// never connected: the facts are read from the client object alone
const clients = {
  postgresql: new PgClient({ adapter: new PrismaPg({ connectionString: 'postgresql://unused@127.0.0.1:1/none' }) }),
  mysql: new MysqlClient({ adapter: new PrismaMariaDb('mariadb://unused@127.0.0.1:1/none') }),
  sqlite: new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: 'file::memory:' }) }),
}

function factsOf(client: unknown) {
  const facts = new SchemaFacts(client)
  const models = ['User', 'Profile', 'Post', 'Comment', 'Tag', 'Sample'].map((name) => {
    const m = facts.model(name)!
    return { name, uniques: m.uniques, relations: [...m.relationFacts.entries()] }
  })
  return { foreignKeys: facts.foreignKeys, models }
}

describe('schema facts per provider', () => {
  const postgres = factsOf(clients.postgresql)

  it('PostgreSQL has the facts the suite relies on', () => {
    expect(postgres.foreignKeys).not.toBeNull()
    expect(postgres.foreignKeys!.map((fk) => `${fk.holder}->${fk.target}:${fk.onDelete}/${fk.onUpdate}`)).toEqual(
      expect.arrayContaining(['Comment->Post:Cascade/Cascade', 'Post->User:SetNull/Cascade', 'Profile->User:Cascade/Cascade']),
    )
    expect(postgres.models.find((m) => m.name === 'Sample')!.uniques.map((u) => u.fields)).toEqual(
      expect.arrayContaining([['id'], ['tenant', 'code']]),
    )
  })

  it.each(['mysql', 'sqlite'] as const)('%s has the same foreign keys, referential actions, unique keys and relations', (provider) => {
    expect(factsOf(clients[provider])).toEqual(postgres)
  })
})
