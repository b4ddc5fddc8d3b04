// Global setup for the MariaDB and SQLite projects (PTC_DB, provider.ts): what test files get as
// `databaseUrl` and `templateDatabase`. MariaDB has no template databases, so each file's
// database is migrated afresh (createOtherDatabase); SQLite files copy one migrated template.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mariadb from 'mariadb'
import { mariadbConfig, migrateSqlite } from '../../scripts/migrate-providers.js'
import { LOCAL_MARIADB, type Provider } from './provider.js'

export interface OtherDatabase {
  /** A MariaDB server URL, or the folder that holds the SQLite files. */
  server: string
  /** The migrated SQLite template file ('' on MariaDB). */
  template: string
  stop(): Promise<void>
}

export async function otherDatabase(provider: Exclude<Provider, 'postgresql'>): Promise<OtherDatabase> {
  if (provider === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ptc-sqlite-'))
    const template = join(dir, 'template.db')
    migrateSqlite(template)
    return { server: dir, template, stop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const server = process.env.MARIADB_URL || LOCAL_MARIADB
  await mariadbAnswers(server)
  return { server, template: '', stop: async () => {} }
}

async function mariadbAnswers(url: string): Promise<void> {
  try {
    const conn = await mariadb.createConnection(mariadbConfig(url))
    await conn.end()
  } catch (error) {
    throw new Error(`MariaDB does not answer at ${url} (set MARIADB_URL, or start it: .ci/run does): ${(error as Error).message}`)
  }
}
