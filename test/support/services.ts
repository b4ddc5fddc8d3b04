// Finds the PostgreSQL and Redis the tests run against: DATABASE_URL / REDIS_URL where set, else
// the local defaults if they answer, else containers where Docker exists, else a clear failure.
import { Redis } from 'ioredis'
import pg from 'pg'

export interface Services {
  databaseUrl: string
  redisUrl: string
  stop(): Promise<void>
}

const LOCAL_DATABASE = 'postgresql://postgres@127.0.0.1:5432/test'
const LOCAL_REDIS = 'redis://127.0.0.1:6379'

export async function findServices(): Promise<Services> {
  const stops: Array<() => Promise<void>> = []
  const databaseUrl = await pick('DATABASE_URL', LOCAL_DATABASE, pgAnswers, async () => {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
    const container = await new PostgreSqlContainer('postgres:16-alpine').start()
    stops.push(async () => void (await container.stop()))
    return container.getConnectionUri()
  })
  const redisUrl = await pick('REDIS_URL', LOCAL_REDIS, redisAnswers, async () => {
    const { RedisContainer } = await import('@testcontainers/redis')
    const container = await new RedisContainer('redis:7-alpine').start()
    stops.push(async () => void (await container.stop()))
    return container.getConnectionUrl()
  })
  return { databaseUrl, redisUrl, stop: async () => void (await Promise.all(stops.map((s) => s()))) }
}

async function pick(
  variable: string,
  local: string,
  answers: (url: string) => Promise<boolean>,
  container: () => Promise<string>,
): Promise<string> {
  const configured = process.env[variable]
  if (configured) {
    if (await answers(configured)) return configured
    throw new Error(`${variable}=${configured} does not answer: start it, or unset ${variable} to use containers`)
  }
  if (await answers(local)) return local
  if (await dockerAvailable()) return container()
  throw new Error(
    `No ${variable} is set, nothing answers at ${local} and there is no Docker for testcontainers. ` +
      'Start PostgreSQL and Redis (docker compose up -d, or local servers) or set DATABASE_URL and REDIS_URL.',
  )
}

async function pgAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    redis.disconnect()
  }
}

async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}
