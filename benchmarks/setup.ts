import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'
import { defaultDatabaseUrl, ensureDatabase, migrate } from '../scripts/migrate.js'

/** The benchmarks' own database (`ptc_bench`) on the server DATABASE_URL names: they wipe it. */
export const databaseUrl = await ensureDatabase(process.env.DATABASE_URL ?? defaultDatabaseUrl, process.env.BENCH_DATABASE ?? 'ptc_bench')
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A migrated database with a few hundred rows: 100 users, 1,000 posts, comments and tags. */
export async function benchDatabase(): Promise<PrismaClient> {
  await migrate(databaseUrl)
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) })
  await prisma.$executeRawUnsafe(
    'TRUNCATE "_PostToTag", "Comment", "Post", "Profile", "Tag", "User", "Sample" RESTART IDENTITY CASCADE',
  )
  await prisma.user.createMany({ data: Array.from({ length: 100 }, (_, i) => ({ email: `u${i}@bench.dev`, name: `User ${i}` })) })
  await prisma.post.createMany({
    data: Array.from({ length: 1000 }, (_, i) => ({
      title: `Post ${i}`,
      content: 'lorem ipsum '.repeat(20),
      published: i % 3 !== 0,
      authorId: (i % 100) + 1,
    })),
  })
  await prisma.comment.createMany({
    data: Array.from({ length: 3000 }, (_, i) => ({ body: `Comment ${i}`, postId: (i % 1000) + 1, authorId: (i % 100) + 1 })),
  })
  return prisma
}

/** A client on the same database that counts the statements it sends (for N+1 and stampede scenarios). */
export interface CountingClient {
  prisma: PrismaClient
  queries(): number
  reset(): void
}

export function countingClient(): CountingClient {
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl }),
    log: [{ emit: 'event', level: 'query' }],
  })
  let count = 0
  prisma.$on('query', () => void count++)
  // the log option only changes $on's typing; the delegates are those of a plain client
  return { prisma: prisma as unknown as PrismaClient, queries: () => count, reset: () => void (count = 0) }
}
