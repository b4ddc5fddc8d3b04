import type { TestProject } from 'vitest/node'
import pg from 'pg'
import { migrate } from '../../scripts/migrate.js'
import { otherDatabase } from './other-databases.js'
import { parseProvider } from './provider.js'
import { findServices } from './services.js'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
    templateDatabase: string
    redisUrl: string
  }
}

/**
 * Once per run: find the services and build a migrated template database. Each test file then
 * gets its own database copied from the template (test/support/db.ts), so files run in parallel
 * without seeing each other's rows.
 */
export default async function setup(project: TestProject) {
  const services = await findServices()
  // A project's `env` reaches its test workers only, so PTC_DB is read from the project here.
  const provider = parseProvider(project.config.env?.PTC_DB ?? process.env.PTC_DB)
  if (provider !== 'postgresql') {
    const other = await otherDatabase(provider)
    project.provide('databaseUrl', other.server)
    project.provide('templateDatabase', other.template)
    project.provide('redisUrl', services.redisUrl)
    return async () => {
      await other.stop()
      await services.stop()
    }
  }
  const template = `ptc_template_${process.pid}`
  await admin(services.databaseUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${template}"`)
    await client.query(`CREATE DATABASE "${template}"`)
  })
  await migrate(withDatabase(services.databaseUrl, template))
  project.provide('databaseUrl', services.databaseUrl)
  project.provide('templateDatabase', template)
  project.provide('redisUrl', services.redisUrl)
  return async () => {
    await admin(services.databaseUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`))
    await services.stop()
  }
}

export async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}
