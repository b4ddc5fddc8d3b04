// Which database the suite runs on: PTC_DB=mariadb or PTC_DB=sqlite (the `mariadb` and `sqlite`
// vitest projects), PostgreSQL otherwise. Test files stay unchanged: they get a PrismaClient typed
// as the PostgreSQL one, built from the provider's own generated client (Prisma 7 clients are
// provider-specific; generated/prisma-mysql and generated/prisma-sqlite come from
// scripts/generate.ts with the same models).
import { copyFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PrismaPg } from '@prisma/adapter-pg'
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js'

export type Provider = 'postgresql' | 'mysql' | 'sqlite'

export const provider: Provider = parseProvider(process.env.PTC_DB)

/** PTC_DB's value as a provider (global setup reads it from the project's env, not process.env). */
export function parseProvider(value: string | undefined): Provider {
  if (value === undefined || value === '' || value === 'postgresql') return 'postgresql'
  if (value === 'mariadb' || value === 'mysql') return 'mysql'
  if (value === 'sqlite') return 'sqlite'
  throw new Error(`PTC_DB=${value}: expected mariadb, sqlite or postgresql`)
}

export const LOCAL_MARIADB = 'mariadb://root@127.0.0.1:3306/test'

type ClientOptions = { log: Array<{ emit: 'event'; level: 'query' }> }

type Factory = (url: string, options: ClientOptions) => PrismaClient<'query'>

/** Loaded once, and only for the provider in use (better-sqlite3 is a native module). */
async function loadFactory(): Promise<Factory> {
  if (provider === 'mysql') {
    const [{ PrismaMariaDb }, { PrismaClient: Client }, { mariadbConfig }] = await Promise.all([
      import('@prisma/adapter-mariadb'),
      import('../../generated/prisma-mysql/client.js'),
      import('../../scripts/migrate-providers.js'),
    ])
    // ANSI_QUOTES and PIPES_AS_CONCAT let the suite's raw SQL ("Post", "title" || '!') run as
    // written; Prisma's own SQL quotes with backticks and never uses ||, so the cache is unaffected.
    const initSql = "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES,PIPES_AS_CONCAT')"
    return (url, options) => new Client({ adapter: new PrismaMariaDb({ ...mariadbConfig(url), initSql }), ...options }) as unknown as PrismaClient<'query'>
  }
  if (provider === 'sqlite') {
    const [{ PrismaBetterSqlite3 }, { PrismaClient: Client }] = await Promise.all([
      import('@prisma/adapter-better-sqlite3'),
      import('../../generated/prisma-sqlite/client.js'),
    ])
    return (url, options) => new Client({ adapter: new PrismaBetterSqlite3({ url: `file:${url}` }), ...options }) as unknown as PrismaClient<'query'>
  }
  const { PrismaClient: Client } = await import('../../generated/prisma/client.js')
  return (url, options) => new Client({ adapter: new PrismaPg({ connectionString: url }), ...options })
}

/** A client of this provider on `url` (a PostgreSQL or MariaDB URL, or an SQLite file). */
export const newClient: Factory = await loadFactory()

/** What Prisma offers on this provider: createManyAndReturn/updateManyAndReturn (not on MySQL). */
export const supports = { andReturn: provider !== 'mysql' }

/**
 * A database of its own for one test file, on MariaDB or SQLite: `server` and `template` are what
 * global-setup provides (a MariaDB URL and nothing; a folder and the migrated template file).
 * Returns its URL (or file) and how to drop it.
 */
export async function createOtherDatabase(server: string, template: string, name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (provider === 'sqlite') {
    const file = join(server, `${name}.db`)
    copyFileSync(template, file)
    return { url: file, drop: async () => rmSync(file, { force: true }) }
  }
  const { mariadbConfig, migrateMysql } = await import('../../scripts/migrate-providers.js')
  const admin = async (sql: string) => {
    const mariadb = (await import('mariadb')).default
    const conn = await mariadb.createConnection({ ...mariadbConfig(server), database: undefined })
    await conn.query(sql).finally(() => conn.end())
  }
  await admin(`CREATE DATABASE \`${name}\``)
  const url = new URL(server)
  url.pathname = `/${name}`
  await migrateMysql(url.toString())
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS \`${name}\``) }
}

/** Every table of the schema, children first. */
const TABLES = ['_PostToTag', 'Comment', 'Post', 'Profile', 'Tag', 'User', 'Sample', 'Category']

/** SQL that empties every table and restarts its ids, on this provider. */
export function resetStatements(): string[] {
  if (provider === 'mysql') {
    return ['SET FOREIGN_KEY_CHECKS = 0', ...TABLES.map((t) => `TRUNCATE TABLE \`${t}\``), 'SET FOREIGN_KEY_CHECKS = 1']
  }
  if (provider === 'sqlite') {
    return [...TABLES.map((t) => `DELETE FROM "${t}"`), 'DELETE FROM sqlite_sequence']
  }
  return [`TRUNCATE ${TABLES.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`]
}

/**
 * The suite's raw SQL that no one spelling runs on every provider, by provider: Sql fragments to
 * put inside a tagged $executeRaw/$queryRaw. Portable raw statements (double-quoted identifiers,
 * || on MariaDB through ANSI mode) stay inline in the tests.
 */
export const rawSql = {
  /** The n-th positional parameter of $executeRawUnsafe/$queryRawUnsafe. */
  param: (n: number) => (provider === 'postgresql' ? `$${n}` : '?'),
  /** `${insert} INTO … ${onConflict}`: an INSERT that skips rows a unique key already holds. */
  insertIgnore: {
    insert: Prisma.raw(provider === 'mysql' ? 'INSERT IGNORE' : 'INSERT'),
    onConflict: Prisma.raw(provider === 'mysql' ? '' : 'ON CONFLICT DO NOTHING'),
  },
  /** ` RETURNING "id"` after an UPDATE; MariaDB has none (its writing $queryRaw returns no rows). */
  returningId: Prisma.raw(provider === 'mysql' ? '' : ' RETURNING "id"'),
  /**
   * One statement writing two models: upper-cases User names and appends '!' to Tag names.
   * SQLite has no statement that writes two tables: invalidation.test.ts writes them in two there.
   */
  writeUsersAndTags: Prisma.raw(
    {
      postgresql: `WITH u AS (UPDATE "User" SET "name" = upper("name") RETURNING 1) UPDATE "Tag" SET "name" = "name" || '!'`,
      mysql: `UPDATE "User", "Tag" SET "User"."name" = upper("User"."name"), "Tag"."name" = "Tag"."name" || '!'`,
      sqlite: 'none',
    }[provider],
  ),
}
