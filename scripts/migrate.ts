// Applies prisma/migrations/*/migration.sql to DATABASE_URL through `pg`, the way
// `prisma migrate deploy` would (same `_prisma_migrations` bookkeeping), because the Prisma CLI
// cannot download its schema engine on our machines. Idempotent: applied migrations are skipped,
// and an advisory lock makes concurrent runs (parallel test workers) wait for each other.
import { createHash, randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'prisma', 'migrations')
const LOCK_ID = 72707369 // any constant shared by every runner of this script

export const defaultDatabaseUrl = 'postgresql://postgres@127.0.0.1:5432/test'

/**
 * A database of its own next to the one `serverUrl` names (created if missing), so that the demo
 * and the benchmarks never wipe each other's rows, or a developer's.
 */
export async function ensureDatabase(serverUrl: string, database: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`).catch((error: { code?: string }) => {
      if (error.code !== '42P04') throw error // created meanwhile by a concurrent run
    })
  } finally {
    await client.end()
  }
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

export async function migrate(connectionString: string): Promise<string[]> {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID])
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`)
    const done = new Set(
      (await client.query<{ migration_name: string }>(
        'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
      )).rows.map((r) => r.migration_name),
    )
    const applied: string[] = []
    for (const name of readdirSync(migrationsDir).filter((n) => !n.includes('.')).sort()) {
      if (done.has(name)) continue
      const sql = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8')
      const checksum = createHash('sha256').update(sql).digest('hex')
      await client.query('BEGIN')
      try {
        await client.query(sql)
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`,
          [randomUUID(), checksum, name],
        )
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error })
      }
      applied.push(name)
    }
    return applied
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => {})
    await client.end()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const url = process.env.DATABASE_URL ?? defaultDatabaseUrl
  const applied = await migrate(url)
  console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date')
}
