import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, inject } from 'vitest'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { withCache, type CacheOptions } from '../../src/index.js'
import { admin, withDatabase } from './global-setup.js'
import { createOtherDatabase, newClient, provider, resetStatements } from './provider.js'

/** A PrismaClient that counts the queries it sends to the database (PTC_DB picks which: provider.ts). */
export interface CountingClient {
  prisma: PrismaClient
  /** Statements sent to the database since creation or the last reset. */
  queries: () => number
  resetQueries: () => void
  sql: string[]
}

export function countingClient(url: string): CountingClient {
  const prisma = newClient(url, { log: [{ emit: 'event', level: 'query' }] })
  const sql: string[] = []
  prisma.$on('query', (event) => void sql.push(event.query))
  return { prisma, sql, queries: () => sql.length, resetQueries: () => void (sql.length = 0) }
}

/**
 * A cached client for tests. Redis gets a generous timeout unless the test sets one: the suite
 * runs beside other load on 2 cores, and a 250 ms timeout there would turn hits into misses.
 */
export function cachedClient(base: PrismaClient, options?: CacheOptions) {
  return base.$extends(withCache({ redisTimeoutMs: 2000, ...options }))
}

/**
 * Gives the calling test file a database of its own (copied from the migrated template) and a
 * counting client on it; both are dropped after the file.
 */
export function useDatabase() {
  const name = `ptc_t_${randomBytes(5).toString('hex')}`
  const ctx = {} as { url: string; db: CountingClient; clients: CountingClient[] }
  ctx.clients = []
  let drop = async () => {
    await admin(inject('databaseUrl'), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
  }
  beforeAll(async () => {
    const server = inject('databaseUrl')
    if (provider === 'postgresql') {
      await admin(server, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${inject('templateDatabase')}"`))
      ctx.url = withDatabase(server, name)
    } else {
      const other = await createOtherDatabase(server, inject('templateDatabase'), name)
      ctx.url = other.url
      drop = other.drop
    }
    ctx.db = countingClient(ctx.url)
    ctx.clients.push(ctx.db)
  })
  afterAll(async () => {
    await Promise.all(ctx.clients.map((c) => c.prisma.$disconnect()))
    await drop()
  })
  return ctx
}

/** Empties every table, restarting ids, between tests of one file (on one connection: MariaDB's FOREIGN_KEY_CHECKS is per session). */
export async function resetTables(prisma: PrismaClient): Promise<void> {
  const statements = resetStatements()
  if (statements.length === 1) await prisma.$executeRawUnsafe(statements[0]!)
  else await prisma.$transaction(async (tx) => {
    for (const sql of statements) await tx.$executeRawUnsafe(sql)
  })
}
