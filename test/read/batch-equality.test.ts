// Batching routes rows back to the reads that asked for them; the database matched them with its
// own equality. These reads of one tick ask for one row spelled differently (a uuid in upper
// case, a citext serial in another case, a BigInt as 5 and as 5n): every member must get what the
// same read gets unbatched, L1+L2 and L2 only.
import { beforeEach, describe, expect, it } from 'vitest'
import { planUnique } from '../../src/batching/plan.js'
import { SchemaFacts } from '../../src/schema/schema.js'
import { cachedClient, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0

const ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b'
const OTHER = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d'

const modes = {
  'L1+L2': () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` }),
  'L2 only': () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, l1: false as const }),
}

/** What each read returns on the plain client, one after another (nothing batched). */
async function unbatched<A, R>(args: A[], read: (a: A) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (const a of args) out.push(await read(a))
  return out
}

describe.each(Object.entries(modes))('batched reads under the database\'s equality (%s)', (_, options) => {
  beforeEach(async () => {
    await ctx.db.prisma.$executeRawUnsafe('TRUNCATE "Device"')
    await ctx.db.prisma.device.createMany({
      data: [
        { id: ID, serial: 'AbC-1', number: 5n, name: 'first' },
        { id: OTHER, serial: 'xyz-2', number: 6n, name: 'second' },
      ],
    })
    ctx.db.resetQueries()
  })

  it('a uuid in upper and lower case: both members get the row', async () => {
    const prisma = cachedClient(ctx.db.prisma, options())
    const ids = [ID.toUpperCase(), ID, OTHER]
    const rows = await Promise.all(ids.map((id) => prisma.device.findUnique({ where: { id } })))
    expect(rows).toEqual(await unbatched(ids, (id) => ctx.db.prisma.device.findUnique({ where: { id } })))
    expect(rows.map((r) => r?.name)).toEqual(['first', 'first', 'second'])
  })

  it('a citext serial in three cases: every member gets the row', async () => {
    const prisma = cachedClient(ctx.db.prisma, options())
    // 'xyz-2' as stored: every row that comes back is one some member spelled exactly
    const serials = ['abc-1', 'ABC-1', 'AbC-1', 'xyz-2']
    const rows = await Promise.all(serials.map((serial) => prisma.device.findUnique({ where: { serial }, select: { name: true } })))
    expect(rows).toEqual(await unbatched(serials, (serial) => ctx.db.prisma.device.findUnique({ where: { serial }, select: { name: true } })))
    expect(rows.map((r) => r?.name)).toEqual(['first', 'first', 'first', 'second'])
  })

  it('a BigInt as 5 and as 5n: both members get the row, in one query', async () => {
    const prisma = cachedClient(ctx.db.prisma, options())
    const numbers = [5, 5n, 6n, 7]
    const rows = await Promise.all(numbers.map((number) => prisma.device.findUnique({ where: { number } })))
    expect(ctx.db.queries()).toBe(1) // integers compare as numbers: still batched
    expect(rows).toEqual(await unbatched(numbers, (number) => ctx.db.prisma.device.findUnique({ where: { number } })))
    expect(rows.map((r) => r?.name ?? null)).toEqual(['first', 'first', 'second', null])
  })

  it('resolver-style findMany by a citext field: every group gets its rows', async () => {
    const prisma = cachedClient(ctx.db.prisma, options())
    const serials = ['AbC-1', 'abc-1', 'nope']
    const groups = await Promise.all(serials.map((serial) => prisma.device.findMany({ where: { serial } })))
    expect(groups).toEqual(await unbatched(serials, (serial) => ctx.db.prisma.device.findMany({ where: { serial } })))
    expect(groups.map((g) => g.length)).toEqual([1, 1, 0])
  })

  it('uuids of one spelling are still batched, and a second round is served from the cache', async () => {
    const prisma = cachedClient(ctx.db.prisma, options())
    const ids = [ID, OTHER]
    const rows = await Promise.all(ids.map((id) => prisma.device.findUnique({ where: { id } })))
    expect(ctx.db.queries()).toBe(1)
    expect(await Promise.all(ids.map((id) => prisma.device.findUnique({ where: { id } })))).toEqual(rows)
    expect(ctx.db.queries()).toBe(1)
  })
})

describe('which key fields batching routes by (schema facts)', () => {
  /** A client look-alike carrying what SchemaFacts reads: the data model and the schema text. */
  const client = (provider: string) => ({
    _runtimeDataModel: {
      models: {
        Account: {
          dbName: null,
          fields: [
            { name: 'id', kind: 'scalar', type: 'Int' },
            { name: 'email', kind: 'scalar', type: 'String' },
            { name: 'handle', kind: 'scalar', type: 'String' },
          ],
        },
      },
    },
    _engineConfig: {
      inlineSchema: `datasource db {\n  provider = "${provider}"\n}\nmodel Account {\n  id Int @id\n  email String @unique\n  handle String @unique @db.Char(12)\n}\n`,
    },
  })

  it('on MySQL/MariaDB a string key is never assumed exact (case-insensitive collations): such reads run alone', () => {
    const mysql = new SchemaFacts(client('mysql'))
    expect(planUnique(mysql, 'Account', { where: { email: 'a@x.dev' } })).toBeUndefined()
    expect(planUnique(mysql, 'Account', { where: { id: 1 } })).toBeDefined()
  })

  it('on PostgreSQL a plain string key is routed by its text; a padded @db.Char is not', () => {
    const pg = new SchemaFacts(client('postgresql'))
    expect(planUnique(pg, 'Account', { where: { email: 'a@x.dev' } })).toBeDefined()
    expect(planUnique(pg, 'Account', { where: { handle: 'ab' } })).toBeUndefined()
  })
})
