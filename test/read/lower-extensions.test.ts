// A query extension applied below withCache (a soft-delete filter) must run for every read that
// reaches the database, as it does on a plain client with the same extension: a batch of one
// tick's findUniques runs as a findMany, and a findUniqueOrThrow miss as a findUnique, so neither
// may skip a hook named for the operation the caller called. L1+L2 and L2 only.
import { beforeEach, describe, expect, it } from 'vitest'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { cachedClient, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0

const LIVE = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b'
const DELETED = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d'
const ids = [LIVE, DELETED]

const modes = {
  'L1+L2': () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` }),
  'L2 only': () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, l1: false as const }),
}

type Where = { where: Record<string, unknown> }
const notDeleted = <A extends Where>(args: A): A => ({ ...args, where: { ...args.where, deletedAt: null } })

/** The documented soft-delete pattern, on findUnique only. */
const softDeleteFindUnique = (db: PrismaClient) =>
  db.$extends({ query: { device: { findUnique: ({ args, query }) => query(notDeleted(args)) } } })
/** The same filter, written for findUniqueOrThrow only. */
const softDeleteOrThrow = (db: PrismaClient) =>
  db.$extends({ query: { device: { findUniqueOrThrow: ({ args, query }) => query(notDeleted(args)) } } })
/** The same filter, for lists only: a findUnique must not get it by being batched into a findMany. */
const softDeleteFindMany = (db: PrismaClient) =>
  db.$extends({ query: { $allModels: { findMany: ({ args, query }) => query(notDeleted(args as Where) as typeof args) } } })

async function settled<T>(calls: Array<() => Promise<T>>) {
  const results = await Promise.allSettled(calls.map((call) => call()))
  return results.map((r) => (r.status === 'fulfilled' ? { value: r.value } : { error: (r.reason as { code?: string }).code ?? String(r.reason) }))
}

describe.each(Object.entries(modes))('query extensions below the cache (%s)', (_, options) => {
  beforeEach(async () => {
    await ctx.db.prisma.$executeRawUnsafe('TRUNCATE "Device"')
    await ctx.db.prisma.device.createMany({
      data: [
        { id: LIVE, serial: 'live-1', number: 1n, name: 'live' },
        { id: DELETED, serial: 'gone-2', number: 2n, name: 'deleted', deletedAt: new Date(0) },
      ],
    })
    ctx.db.resetQueries()
  })

  it('a findUnique hook runs for findUniques of one tick: the soft-deleted row stays hidden', async () => {
    const plain = softDeleteFindUnique(ctx.db.prisma)
    const prisma = cachedClient(softDeleteFindUnique(ctx.db.prisma) as never as PrismaClient, options())
    const expected = await Promise.all(ids.map((id) => plain.device.findUnique({ where: { id } })))
    expect(expected.map((d) => d?.name ?? null)).toEqual(['live', null])
    expect(await Promise.all(ids.map((id) => prisma.device.findUnique({ where: { id } })))).toEqual(expected)
    // and again, from the cache
    expect(await Promise.all(ids.map((id) => prisma.device.findUnique({ where: { id } })))).toEqual(expected)
  })

  it('a findMany hook does not reach findUniques of one tick (they are not batched into a findMany)', async () => {
    const plain = softDeleteFindMany(ctx.db.prisma)
    const prisma = cachedClient(softDeleteFindMany(ctx.db.prisma) as never as PrismaClient, options())
    const expected = await Promise.all(ids.map((id) => plain.device.findUnique({ where: { id } })))
    expect(expected.map((d) => d?.name ?? null)).toEqual(['live', 'deleted'])
    expect(await Promise.all(ids.map((id) => prisma.device.findUnique({ where: { id } })))).toEqual(expected)
  })

  it('a findUniqueOrThrow hook runs on its misses, and findUnique\'s entries are not served to it', async () => {
    const plain = softDeleteOrThrow(ctx.db.prisma)
    const prisma = cachedClient(softDeleteOrThrow(ctx.db.prisma) as never as PrismaClient, options())
    type OrThrow = { device: { findUniqueOrThrow(args: { where: { id: string } }): PromiseLike<unknown> } }
    const orThrow = (db: OrThrow) => ids.map((id) => async () => db.device.findUniqueOrThrow({ where: { id } }))
    const expected = await settled(orThrow(plain))
    expect(expected).toEqual([{ value: expect.objectContaining({ name: 'live' }) }, { error: 'P2025' }])
    expect(await settled(orThrow(prisma))).toEqual(expected)
    // findUnique has no hook here: it finds the row, and its entry must not answer the OrThrow read
    expect(await prisma.device.findUnique({ where: { id: DELETED } })).toEqual(await plain.device.findUnique({ where: { id: DELETED } }))
    expect(await settled(orThrow(prisma))).toEqual(expected)
  })

  it('a findUnique hook also reaches findUniqueOrThrow as on the plain client: not at all', async () => {
    const plain = softDeleteFindUnique(ctx.db.prisma)
    const prisma = cachedClient(softDeleteFindUnique(ctx.db.prisma) as never as PrismaClient, options())
    const expected = await settled([() => plain.device.findUniqueOrThrow({ where: { id: DELETED } })])
    expect(expected).toEqual([{ value: expect.objectContaining({ name: 'deleted' }) }])
    expect(await settled([() => prisma.device.findUniqueOrThrow({ where: { id: DELETED } })])).toEqual(expected)
  })

  it('models no hook names are still batched: one query for a tick of Device findUniques under a User hook', async () => {
    const lower = ctx.db.prisma.$extends({ query: { user: { findUnique: ({ args, query }) => query(args) } } })
    const prisma = cachedClient(lower as never as PrismaClient, options())
    const rows = await Promise.all(ids.map((id) => prisma.device.findUnique({ where: { id } })))
    expect(ctx.db.queries()).toBe(1)
    expect(rows).toEqual(await Promise.all(ids.map((id) => ctx.db.prisma.device.findUnique({ where: { id } }))))
  })
})
