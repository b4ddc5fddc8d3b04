import { Redis, type RedisOptions } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cachedClient, useDatabase } from '../support/db.js'
import { freePort, OwnRedis } from '../support/redis-server.js'

/* `$cache.ready()` settles whatever Redis answers: resolved when subscribed, rejected with a clear error otherwise. */

const ctx = useDatabase()
const DOCUMENTED = '-@all +get +mget +set +unlink +del +exists +incr +pexpire +scan +eval +evalsha +script|load +publish +subscribe +info +ping +select'.split(' ')
const server = new OwnRedis()
const clients: Redis[] = []
beforeAll(async () => {
  await server.start()
  // the permissions README "Redis permissions" lists, minus the channels
  await server.cli('acl', 'setuser', 'nochannel', 'on', 'nopass', '~*', 'resetchannels', '+@all')
  // exactly what README "Redis permissions" documents, for the namespace `acl2`
  await server.cli('acl', 'setuser', 'documented', 'on', 'nopass', 'resetkeys', '~acl2:*', 'resetchannels', '&acl2:*', ...DOCUMENTED)
})
afterAll(async () => {
  for (const redis of clients) redis.disconnect()
  await server.remove()
})

function redis(options: RedisOptions): Redis {
  const client = new Redis({ host: '127.0.0.1', maxRetriesPerRequest: 1, ...options })
  client.on('error', () => {})
  clients.push(client)
  return client
}

describe('ready()', () => {
  it('resolves once subscribed', async () => {
    const prisma = cachedClient(ctx.db.prisma, { redis: redis({ port: server.port }), namespace: 'ok' })
    await expect(prisma.$cache.ready()).resolves.toBeUndefined()
    prisma.$cache.close()
  })

  it('rejects at once when an ACL refuses the channel', async () => {
    const prisma = cachedClient(ctx.db.prisma, { redis: redis({ port: server.port, username: 'nochannel' }), namespace: 'acl' })
    await expect(prisma.$cache.ready()).rejects.toMatchObject({ code: 'PTC_BUS', message: expect.stringMatching(/refused the subscription to acl:bus: NOPERM/) })
    // reads still work, from the database
    const user = await ctx.db.prisma.user.create({ data: { email: 'acl@example.com' } })
    expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(user)
    prisma.$cache.close()
  })

  it('works with the permissions README documents and nothing more: L2 hits, invalidation, no Redis error', async () => {
    const prisma = cachedClient(ctx.db.prisma, { redis: redis({ port: server.port, username: 'documented' }), namespace: 'acl2', l1: false })
    await prisma.$cache.ready()
    const user = await ctx.db.prisma.user.create({ data: { email: 'documented@example.com', name: 'a' } })
    await prisma.user.findUnique({ where: { id: user.id } })
    expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(user)
    await prisma.user.update({ where: { id: user.id }, data: { name: 'b' } })
    await prisma.$cache.invalidate({ tags: ['feed'] })
    expect((await prisma.user.findUnique({ where: { id: user.id } }))?.name).toBe('b')
    const m = prisma.$cache.metrics()
    expect(m.hitsL2).toBe(1)
    expect(m.redisErrors).toBe(0)
    prisma.$cache.close()
  })

  it('rejects within its bound when Redis never answers', async () => {
    const prisma = cachedClient(ctx.db.prisma, { redis: redis({ port: await freePort(), lazyConnect: true }), namespace: 'gone', redisTimeoutMs: 100 })
    await expect(prisma.$cache.ready()).rejects.toMatchObject({ code: 'PTC_BUS', message: expect.stringMatching(/not subscribed to gone:bus within 5000 ms/) })
    prisma.$cache.close()
  })
})
