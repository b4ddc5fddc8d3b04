// What both consumers do with the `withCache` they loaded; prints one JSON line for the test.
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'

export async function run(withCache, entry) {
  const { PrismaClient } = await import(process.env.PTC_CLIENT)
  const redis = new Redis(process.env.REDIS_URL)
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) })
  const prisma = base.$extends(withCache({ redis, namespace: process.env.PTC_NAMESPACE, redisTimeoutMs: 2000 }))
  try {
    await prisma.$cache.ready()
    const { id } = await base.user.create({ data: { email: `${process.env.PTC_NAMESPACE}@example.com`, name: 'before' } })
    const first = await prisma.user.findUnique({ where: { id } })
    const second = await prisma.user.findUnique({ where: { id } })
    await prisma.user.update({ where: { id }, data: { name: 'after' } })
    const third = await prisma.user.findUnique({ where: { id } })
    const m = prisma.$cache.metrics()
    console.log(JSON.stringify({ entry: entry.replace(/^file:\/\//, '').slice(process.cwd().length + 1), names: [first.name, second.name, third.name], hitsL1: m.hitsL1, misses: m.misses, redisErrors: m.models.User?.redisErrors ?? 0 }))
  } finally {
    prisma.$cache.close()
    redis.disconnect()
    await base.$disconnect()
  }
}
