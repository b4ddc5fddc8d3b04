import { execFile, execFileSync } from 'node:child_process'
import { appendFileSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { migrate } from '../../scripts/migrate.js'
import { admin, withDatabase } from './global-setup.js'
import { freePort, until } from './redis-server.js'

const exec = promisify(execFile)

/** The PostgreSQL binaries of the newest server installed (Debian keeps them off PATH). */
function binary(name: string): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
  if (versions.length === 0) throw new Error('no PostgreSQL server under /usr/lib/postgresql')
  return join('/usr/lib/postgresql', versions[0]!, 'bin', name)
}

/** PostgreSQL refuses to run as root: every server command runs as the `postgres` OS user. */
function asPostgres(command: string, args: string[]): Promise<unknown> {
  return exec('runuser', ['-u', 'postgres', '--', binary(command), ...args], { timeout: 60_000 })
}

const started = new Set<string>()
// a worker that dies before afterAll must not leave servers behind
process.once('exit', () => {
  for (const data of started) {
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', binary('pg_ctl'), 'stop', '-D', data, '-m', 'immediate'], { stdio: 'ignore' })
    } catch {
      // already stopped
    }
  }
})

/**
 * A primary and a streaming replica of the test's own, in a temporary folder, on free ports: the
 * machine's PostgreSQL allows no replication connections. The replica applies each commit
 * `applyDelayMs` after the primary (`recovery_min_apply_delay`), so it answers the old value for
 * that long: a lagging replica made to order.
 */
export class PgReplicaPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'ptc-pg-'))
  primaryPort = 0
  replicaPort = 0
  private readonly primaryData = join(this.dir, 'primary')
  private readonly replicaData = join(this.dir, 'replica')

  constructor(private readonly applyDelayMs: number) {
    chownSync(this.dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()))
  }

  /** The server URL of each (database `postgres`); `database()` gives one of the project's. */
  get primaryUrl(): string {
    return `postgresql://postgres@127.0.0.1:${this.primaryPort}/postgres`
  }

  get replicaUrl(): string {
    return `postgresql://postgres@127.0.0.1:${this.replicaPort}/postgres`
  }

  async start(): Promise<void> {
    this.primaryPort = await freePort()
    this.replicaPort = await freePort()
    await asPostgres('initdb', ['-D', this.primaryData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
    // initdb's pg_hba.conf with --auth=trust already allows replication from 127.0.0.1
    appendFileSync(join(this.primaryData, 'postgresql.conf'), settings(this.primaryPort, this.dir, ['wal_level = replica', 'max_wal_senders = 4']))
    await this.startServer(this.primaryData)
    await asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(this.primaryPort), '-U', 'postgres', '-D', this.replicaData, '-X', 'stream', '-R'])
    // -R wrote standby.signal and primary_conninfo; the settings below come after and win
    appendFileSync(
      join(this.replicaData, 'postgresql.conf'),
      settings(this.replicaPort, this.dir, ['hot_standby = on', `recovery_min_apply_delay = '${this.applyDelayMs}ms'`]),
    )
    await this.startServer(this.replicaData)
  }

  /**
   * A database with the project's migrations on the primary, and its URL on each server. Resolves
   * once the replica has it too (it arrives `applyDelayMs` later).
   */
  async database(name: string): Promise<{ primary: string; replica: string }> {
    await admin(this.primaryUrl, (c) => c.query(`CREATE DATABASE "${name}"`))
    const primary = withDatabase(this.primaryUrl, name)
    await migrate(primary)
    const replica = withDatabase(this.replicaUrl, name)
    await until(async () => (await this.replicaCount(replica, 'SELECT count(*) FROM "_prisma_migrations"').catch(() => -1)) > 0, 'the replica to have the migrated database')
    return { primary, replica }
  }

  /** One number from the replica (a count, a value): for polling until it has caught up. */
  async replicaCount(url: string, sql: string): Promise<number> {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query<{ n: string | number | null }>(`SELECT (${sql}) AS n`)
      return Number(rows[0]!.n)
    } finally {
      await client.end()
    }
  }

  /** Stops both (immediately: nothing in them is kept) and removes their folders. */
  async stop(): Promise<void> {
    for (const data of [this.replicaData, this.primaryData]) {
      if (!started.has(data)) continue
      await asPostgres('pg_ctl', ['stop', '-D', data, '-m', 'immediate']).catch(() => {})
      started.delete(data)
    }
    rmSync(this.dir, { recursive: true, force: true })
  }

  private async startServer(data: string): Promise<void> {
    started.add(data)
    await asPostgres('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', `${data}.log`])
  }
}

/** A test server's settings: loopback only, its socket in its own folder, nothing made durable. */
function settings(port: number, socketDir: string, extra: string[]): string {
  const lines = [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${socketDir}'`,
    'fsync = off',
    'shared_buffers = 16MB',
    'max_connections = 40',
    ...extra,
  ]
  return `\n${lines.join('\n')}\n`
}
