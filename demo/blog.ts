// `npm run demo`: a blog API's read-heavy traffic (home feed, post pages, author pages, comment
// counts, occasional comments and edits) through the cached client, first without the cache for
// comparison, then with it; then what the cache did.
//
// Runs anywhere: with DATABASE_URL on that PostgreSQL (in a `ptc_demo` database of its own), else
// on an in-process PostgreSQL (PGlite); with Redis at REDIS_URL (or the local default) as L2, else
// L1 only.
import { readdirSync, readFileSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { citext } from '@electric-sql/pglite/contrib/citext'
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from '../generated/prisma/client.js'
import { ensureDatabase, migrate } from '../scripts/migrate.js'
import { withCache } from '../src/index.js'

const REQUESTS = 2000
const USERS = 50
const POSTS = 500

async function openDatabase(): Promise<{ prisma: PrismaClient; where: string; close(): Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const url = await ensureDatabase(process.env.DATABASE_URL, 'ptc_demo')
    await migrate(url)
    return { prisma: new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }), where: 'PostgreSQL at DATABASE_URL (database ptc_demo)', close: async () => {} }
  }
  // citext: the test schema's Device model has a case-insensitive column (prisma/migrations)
  const pglite = new PGlite({ extensions: { citext } })
  const dir = new URL('../prisma/migrations/', import.meta.url)
  for (const name of readdirSync(dir).filter((n) => !n.includes('.')).sort()) {
    await pglite.exec(readFileSync(new URL(`${name}/migration.sql`, dir), 'utf8'))
  }
  return { prisma: new PrismaClient({ adapter: new PrismaPGlite(pglite) }), where: 'in-process PostgreSQL (PGlite; set DATABASE_URL to use yours)', close: () => pglite.close() }
}

async function connectRedis(): Promise<Redis | undefined> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 1, retryStrategy: () => null })
  try {
    await redis.connect()
    await redis.ping()
    return redis
  } catch {
    redis.disconnect()
    return undefined
  }
}

async function seed(prisma: PrismaClient): Promise<void> {
  await prisma.$executeRawUnsafe('TRUNCATE "_PostToTag", "Comment", "Post", "Profile", "Tag", "User", "Sample" RESTART IDENTITY CASCADE')
  await prisma.user.createMany({ data: Array.from({ length: USERS }, (_, i) => ({ email: `author${i}@blog.dev`, name: `Author ${i}` })) })
  await prisma.post.createMany({
    data: Array.from({ length: POSTS }, (_, i) => ({ title: `Post ${i}`, content: 'A post about caching. '.repeat(15), published: i % 5 !== 0, authorId: (i % USERS) + 1 })),
  })
  await prisma.comment.createMany({ data: Array.from({ length: POSTS * 3 }, (_, i) => ({ body: `Comment ${i}`, postId: (i % POSTS) + 1, authorId: (i % USERS) + 1 })) })
}

/** A few hot items get most of the traffic, as on a real site. */
const pick = (n: number) => 1 + Math.floor(n * Math.random() ** 3)

/** The client the workload runs on: plain (counted) for the baseline, or cached. */
type Client = { post: any; user: any; comment: any } // eslint-disable-line @typescript-eslint/no-explicit-any

/** One request of the blog API. */
async function request(prisma: Client): Promise<'read' | 'write'> {
  const roll = Math.random()
  if (roll < 0.3) {
    const feed = await prisma.post.findMany({ where: { published: true }, orderBy: { id: 'desc' }, take: 20 })
    // the N+1 a GraphQL resolver makes: each post's author, batched by the cache
    await Promise.all(feed.map((post: { authorId: number }) => prisma.user.findUnique({ where: { id: post.authorId } })))
  } else if (roll < 0.65) {
    await prisma.post.findUnique({ where: { id: pick(POSTS) }, include: { comments: { take: 10, orderBy: { id: 'desc' } } } })
  } else if (roll < 0.85) {
    await prisma.user.findUnique({ where: { id: pick(USERS) }, include: { _count: { select: { posts: true } } } })
  } else if (roll < 0.97) {
    await prisma.comment.count({ where: { postId: pick(POSTS) } })
  } else {
    if (roll < 0.99) await prisma.comment.create({ data: { body: 'nice post', postId: pick(POSTS), authorId: pick(USERS) } })
    else await prisma.post.update({ where: { id: pick(POSTS) }, data: { title: `Edited ${Date.now()}` } })
    return 'write'
  }
  return 'read'
}

async function workload(label: string, prisma: Client): Promise<number> {
  const started = performance.now()
  for (let i = 1; i <= REQUESTS; i++) {
    await request(prisma)
    if (i % 100 === 0 || i === REQUESTS) {
      const done = Math.round((30 * i) / REQUESTS)
      process.stdout.write(`\r  ${label.padEnd(9)} [${'#'.repeat(done)}${'.'.repeat(30 - done)}] ${i}/${REQUESTS}`)
    }
  }
  const ms = performance.now() - started
  process.stdout.write(`  ${(ms / 1000).toFixed(1)} s\n`)
  return ms
}

const db = await openDatabase()
const redis = await connectRedis()
console.log(`database: ${db.where}`)
console.log(redis ? 'cache: L1 (in process) + L2 (Redis)' : 'cache: L1 only (no Redis reachable at REDIS_URL or 127.0.0.1:6379)')
await seed(db.prisma)
let queries = 0
const counted = db.prisma.$extends({ query: { $allOperations: ({ args, query }) => (queries++, query(args)) } })
const prisma = counted.$extends(withCache({ redis, namespace: `demo${process.pid}`, defaults: { ttl: 60 }, models: { Comment: { ttl: 10 } } }))

console.log(`\n${REQUESTS} requests of a blog API (30% feed + authors, 35% post pages, 20% author pages, 12% comment counts, 3% writes):`)
const uncachedMs = await workload('uncached', counted)
const uncachedQueries = queries
queries = 0
const cachedMs = await workload('cached', prisma)
const m = prisma.$cache.metrics()
console.log(`\n  uncached: ${uncachedQueries} database queries, ${(uncachedMs / REQUESTS).toFixed(2)} ms per request`)
console.log(`  cached:   ${queries} database queries, ${(cachedMs / REQUESTS).toFixed(2)} ms per request (${(uncachedMs / cachedMs).toFixed(1)}× faster)`)
console.log(`  hit rate ${(m.hitRate * 100).toFixed(1)}% (${m.hits} hits, ${m.misses} misses), Redis errors ${m.redisErrors}`)
console.log(
  process.env.DATABASE_URL
    ? '  (time per request includes the application work around each query)\n'
    : '  (the database here runs in this process, so a query costs little more than a cache hit; the\n' +
        '   queries saved are what a networked database would feel: set DATABASE_URL to try yours)\n',
)
for (const [model, c] of Object.entries(m.models)) {
  console.log(`  ${model.padEnd(8)} L1 hits ${String(c.hitsL1).padStart(5)}  L2 hits ${String(c.hitsL2).padStart(4)}  misses ${String(c.misses).padStart(4)}  batches ${String(c.batches).padStart(4)}  invalidations ${c.invalidations}`)
}
prisma.$cache.close()
if (redis) await dropNamespace(redis, `demo${process.pid}`) // leave nothing behind in your Redis
redis?.disconnect()
await db.prisma.$disconnect()
await db.close()

/** Every key of the demo's namespace (its counters have no TTL), by SCAN + UNLINK. */
async function dropNamespace(redis: Redis, namespace: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000)
    if (keys.length) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
}
