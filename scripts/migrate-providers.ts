// scripts/migrate.ts for the other providers the suite runs on: applies
// prisma/<mysql|sqlite>/migrations/*/migration.sql (hand-written, the dialect of the schema that
// scripts/generate.ts derives) with the same `_prisma_migrations` bookkeeping.
import { createHash, randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import mariadb from 'mariadb'

interface Migration {
  name: string
  sql: string
  checksum: string
}

function migrations(provider: 'mysql' | 'sqlite'): Migration[] {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'prisma', provider, 'migrations')
  return readdirSync(dir)
    .filter((n) => !n.includes('.'))
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8')
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
    })
}

/** MariaDB/MySQL at `url` (mariadb://user@host:port/database). DDL there is not transactional. */
export async function migrateMysql(url: string): Promise<string[]> {
  const conn = await mariadb.createConnection({ ...mariadbConfig(url), multipleStatements: true })
  try {
    await conn.query(`CREATE TABLE IF NOT EXISTS _prisma_migrations (
      id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at DATETIME(3),
      migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at DATETIME(3),
      started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0)`)
    const done = new Set((await conn.query('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL')).map((r: { migration_name: string }) => r.migration_name))
    const applied: string[] = []
    for (const m of migrations('mysql').filter((m) => !done.has(m.name))) {
      await conn.query(m.sql).catch((error: Error) => {
        throw new Error(`migration ${m.name} failed: ${error.message}`, { cause: error })
      })
      await conn.query(
        'INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (?, ?, CURRENT_TIMESTAMP(3), ?, 1)',
        [randomUUID(), m.checksum, m.name],
      )
      applied.push(m.name)
    }
    return applied
  } finally {
    await conn.end()
  }
}

/** The SQLite database file at `file`, created if missing; each migration in one transaction. */
export function migrateSqlite(file: string): string[] {
  const db = new Database(file)
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME, "migration_name" TEXT NOT NULL,
      "logs" TEXT, "rolled_back_at" DATETIME, "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
      "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`)
    const done = new Set(db.prepare('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL').pluck().all() as string[])
    const record = db.prepare(
      'INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (?, ?, current_timestamp, ?, 1)',
    )
    const pending = migrations('sqlite').filter((m) => !done.has(m.name))
    for (const m of pending) {
      db.transaction(() => {
        db.exec(m.sql)
        record.run(randomUUID(), m.checksum, m.name)
      })()
    }
    return pending.map((m) => m.name)
  } finally {
    db.close()
  }
}

/** mariadb://user:password@host:port/database as the mariadb driver's connection options. */
export function mariadbConfig(url: string): mariadb.ConnectionConfig {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1) || undefined,
    // The driver's 1 s default fails on a loaded 2-core machine (seen in the test projects).
    connectTimeout: 10_000,
  }
}
