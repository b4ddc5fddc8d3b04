// Clients that make different results of one query share a Redis without sharing entries: a
// client's global `omit` and the extensions below its cache are part of what tells entries apart
// (SchemaFacts.hash, from readResultConfig in src/schema/prisma-internals.ts). Before, a client
// with `omit: { user: { email: true } }` received `email` from another client's entries.
import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PrismaClient } from '../../generated/prisma/client.js'
import { withCache } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
let omitting: PrismaClient<never, { user: { email: true } }>

beforeAll(() => {
  omitting = new PrismaClient({ adapter: new PrismaPg({ connectionString: ctx.url }), omit: { user: { email: true } } })
})
afterAll(async () => {
  await omitting.$disconnect()
})
beforeEach(async () => {
  await resetTables(ctx.db.prisma)
})

const text = (value: unknown) => JSON.stringify(value)

describe.each([
  ['L1+L2', {}],
  ['L2 only', { l1: false as const }],
])('two clients on one Redis and namespace, %s', (_name, tier) => {
  const shared = () => ({ ...tier, redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` })

  it('a client with a global omit and one without each get what their plain twin returns, whichever fills first', async () => {
    const plain = ctx.db.prisma
    const ann = await plain.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const options = shared()
    const hiding = cachedClient(omitting as unknown as PrismaClient, options)
    const showing = cachedClient(plain, options)
    const where = { where: { id: ann.id } }

    // the omitting client fills findUnique, the other fills findMany: each then reads the other's
    expect(text(await hiding.user.findUnique(where))).toBe(text(await omitting.user.findUnique(where)))
    expect(text(await showing.user.findMany())).toBe(text(await plain.user.findMany()))
    ctx.db.resetQueries()
    expect(text(await showing.user.findUnique(where))).toBe(text(await plain.user.findUnique(where)))
    expect(text(await hiding.user.findMany())).toBe(text(await omitting.user.findMany()))
    expect(text(await hiding.user.findUnique(where))).not.toContain('ann@example.com')
    // and each still hits its own entries
    ctx.db.resetQueries()
    await showing.user.findUnique(where)
    await showing.user.findMany()
    expect(ctx.db.queries()).toBe(0)
    // a write through one client invalidates the other's entries (counters stay shared)
    await showing.user.update({ ...where, data: { name: 'Ann B' } })
    expect(text(await hiding.user.findUnique(where))).toBe(text(await omitting.user.findUnique(where)))
    hiding.$cache.close()
    showing.$cache.close()
  })

  it('a client with a result extension below its cache and one without get what their plain twins return', async () => {
    const plain = ctx.db.prisma
    const shout = { result: { user: { shout: { needs: { name: true }, compute: (user: { name: string | null }) => (user.name ?? '').toUpperCase() } } } }
    const plainShouting = plain.$extends(shout)
    const ann = await plain.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const options = shared()
    const shouting = plainShouting.$extends(withCache({ redisTimeoutMs: 2000, ...options }))
    const quiet = cachedClient(plain, options)
    const where = { where: { id: ann.id } }

    expect(text(await shouting.user.findUnique(where))).toBe(text(await plainShouting.user.findUnique(where)))
    expect(text(await quiet.user.findUnique(where))).toBe(text(await plain.user.findUnique(where)))
    expect(text(await quiet.user.findMany())).toBe(text(await plain.user.findMany()))
    expect(text(await shouting.user.findMany())).toBe(text(await plainShouting.user.findMany()))
    shouting.$cache.close()
    quiet.$cache.close()
  })
})
