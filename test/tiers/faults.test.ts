import { cpSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { resetTables, useDatabase } from '../support/db.js'
import { cuttableProxy } from '../support/proxy.js'
import { OwnRedis, until } from '../support/redis-server.js'
import { useWorkerPair } from '../support/worker-pair.js'
import { staleUntilServing, type WorkerInit, type WorkerProcess } from '../support/worker.js'

/*
 * Redis that moves backwards or refuses writes, with two OS processes reading and writing through
 * their own clients (test/support/worker.ts) and every answer compared with the database (issue
 * 14). A restart from an RDB snapshot or an AOF that lost its last writes, and a replica promoted
 * before the last writes replicated, hold counters that went back in time together with the
 * entries that recorded exactly those values; `maxmemory` with `noeviction` refuses the bumps.
 */

const ctx = useDatabase()
const pair = useWorkerPair()
let run = 0
beforeEach(async () => {
  await resetTables(ctx.db.prisma)
})

const byId = (id: number) => ({ where: { id } })
const list = { orderBy: { id: 'asc' as const } }

/**
 * Both processes cache a row and a list, `checkpoint` captures Redis's state, the row is updated
 * (every counter moves on, both processes cache the new answers), then `backwards` puts Redis back
 * to the checkpoint. From then on every answer of both processes must be the database's, until
 * each has served L2 hits again (Redis is trusted again), with no error reaching either.
 */
async function scenario(redisUrl: string, checkpoint: () => Promise<void>, backwards: () => Promise<void>, tier: WorkerInit['cache']) {
  const db = ctx.db.prisma
  const user = await db.user.create({ data: { email: 'ann@example.com', name: 'v0' } })
  await db.user.create({ data: { email: 'bob@example.com', name: 'bob' } })
  const init = { databaseUrl: ctx.url, redisUrl, cache: { namespace: `faults${run++}`, redisTimeoutMs: 2000, ...tier } }
  const { writer, reader } = pair
  await pair.init(init)
  const readAll = async (worker: WorkerProcess) => [await worker.read('user', 'findUnique', byId(user.id)), await worker.read('user', 'findMany', list)]
  for (const worker of [writer, reader, writer, reader]) await readAll(worker)

  await checkpoint()
  await writer.write('user', 'update', { where: { id: user.id }, data: { name: 'v1' } })
  const expected = [await db.user.findUnique(byId(user.id)), await db.user.findMany(list)]
  for (const worker of [writer, reader, writer, reader]) expect(await readAll(worker)).toEqual(expected)

  await backwards()
  expect(await staleUntilServing([writer, reader], readAll, expected)).toBe(0)
}

describe('Redis state moved backwards', () => {
  const server = new OwnRedis(['--appendfsync', 'always'])
  beforeAll(() => server.start())
  afterAll(() => server.remove())
  const url = () => `redis://127.0.0.1:${server.port}`

  it.each([
    ['L1+L2', {}],
    ['L2 only', { l1: false as const }],
  ])('%s: restart from an RDB snapshot taken before the last writes', async (_name, tier) => {
    await server.cli('flushall')
    await scenario(url(), async () => void (await server.cli('save')), async () => {
      await server.kill() // the writes after the snapshot are lost
      await server.start()
    }, tier)
  })

  it('L1+L2: restart from an AOF that lost its last writes', async () => {
    await server.kill()
    rmSync(join(server.dir, 'dump.rdb'), { force: true })
    await server.start(['--appendonly', 'yes'])
    const aof = join(server.dir, 'appendonlydir')
    const copy = join(server.dir, 'aof-checkpoint')
    await scenario(url(), async () => {
      await server.cli('config', 'set', 'auto-aof-rewrite-percentage', '0')
      rmSync(copy, { recursive: true, force: true })
      cpSync(aof, copy, { recursive: true })
    }, async () => {
      await server.kill()
      rmSync(aof, { recursive: true, force: true })
      cpSync(copy, aof, { recursive: true })
      await server.start(['--appendonly', 'yes'])
    }, {})
    await server.kill()
    await server.start()
  })
})

describe('replica promoted before the last writes replicated', () => {
  const master = new OwnRedis()
  const replica = new OwnRedis()
  beforeAll(async () => {
    await master.start()
    await replica.start()
  })
  afterAll(async () => {
    await master.remove()
    await replica.remove()
  })

  it.each([
    ['L1+L2', {}],
    ['L2 only', { l1: false as const }],
  ])('%s: REPLICAOF NO ONE, clients moved to it', async (_name, tier) => {
    await replica.cli('replicaof', '127.0.0.1', String(master.port))
    await master.cli('flushall')
    const proxy = await cuttableProxy(`redis://127.0.0.1:${master.port}`)
    try {
      await scenario(`redis://127.0.0.1:${proxy.port}`, async () => {
        await until(async () => (await replica.cli('info', 'replication')).includes('master_link_status:up'), 'the replica to sync')
        await until(async () => (await master.cli('dbsize')) === (await replica.cli('dbsize')), 'the replica to catch up')
        await sleep(100)
        // the replica stops receiving here: what the master takes from now on is lost to it
        await replica.cli('replicaof', 'no', 'one')
      }, async () => {
        proxy.move(replica.port)
        await master.cli('flushall') // the old master is gone as far as any client can tell
      }, tier)
    } finally {
      await proxy.close()
    }
  })
})

describe('maxmemory', () => {
  const server = new OwnRedis()
  beforeAll(() => server.start())
  afterAll(() => server.remove())

  /**
   * Both processes cache a row and a list; `pressure` makes Redis short of memory; the writer
   * updates the row three times. Once the reader has heard of each write on the bus, every
   * answer of both processes must be the database's, and no error reaches either.
   */
  async function underPressure(policy: string, pressure: () => Promise<void>) {
    const db = ctx.db.prisma
    const user = await db.user.create({ data: { email: 'ann@example.com', name: 'v0' } })
    const init = { databaseUrl: ctx.url, redisUrl: `redis://127.0.0.1:${server.port}`, cache: { namespace: `oom${run++}`, redisTimeoutMs: 2000 } }
    await server.cli('config', 'set', 'maxmemory', '0')
    await server.cli('flushall')
    await server.cli('config', 'set', 'maxmemory-policy', policy)
    const { writer, reader } = pair
    await pair.init(init)
    const readAll = async (worker: WorkerProcess) => [await worker.read('user', 'findUnique', byId(user.id)), await worker.read('user', 'findMany', list)]
    for (const worker of [writer, reader, writer, reader]) await readAll(worker)
    await pressure()
    let stale = 0
    for (let i = 1; i <= 3; i++) {
      const heard = (await reader.metrics()).busDelayMs?.count ?? 0
      await writer.write('user', 'update', { where: { id: user.id }, data: { name: `v${i}` } })
      await until(async () => ((await reader.metrics()).busDelayMs?.count ?? 0) > heard, 'the reader to hear of the write')
      const expected = JSON.stringify([await db.user.findUnique(byId(user.id)), await db.user.findMany(list)])
      for (const worker of [writer, reader, writer, reader]) if (JSON.stringify(await readAll(worker)) !== expected) stale++
    }
    await server.cli('config', 'set', 'maxmemory', '0')
    return stale
  }

  it('noeviction: bumps refused for memory still invalidate every process', async () => {
    const stale = await underPressure('noeviction', async () => void (await server.cli('config', 'set', 'maxmemory', '1')))
    expect(stale).toBe(0)
  })

  it('allkeys-lru: counters evicted under pressure never turn into stale hits', async () => {
    const stale = await underPressure('allkeys-lru', async () => {
      const used = Number(/used_memory:(\d+)/.exec(await server.cli('info', 'memory'))![1])
      await server.cli('config', 'set', 'maxmemory', String(used + 256 * 1024))
      // fill past the limit: Redis evicts least recently used keys, ours among them
      await server.cli('eval', "for i = 1, 4000 do redis.call('SET', 'junk:' .. i, string.rep('x', 200)) end return 0", '0')
    })
    expect(Number(/evicted_keys:(\d+)/.exec(await server.cli('info', 'stats'))![1])).toBeGreaterThan(0)
    expect(stale).toBe(0)
  })
})

describe('a stalled Redis', () => {
  const server = new OwnRedis()
  beforeAll(() => server.start())
  afterAll(() => server.remove())

  it('CLIENT PAUSE longer than degradedTtlMs: L1 is dropped once the heartbeat is late, then every answer is fresh', async () => {
    const db = ctx.db.prisma
    const user = await db.user.create({ data: { email: 'ann@example.com', name: 'v0' } })
    const degradedTtlMs = 400
    const init = {
      databaseUrl: ctx.url,
      redisUrl: `redis://127.0.0.1:${server.port}`,
      cache: { namespace: `pause${run++}`, redisTimeoutMs: 150, l1: { degradedTtlMs } },
    }
    const { writer, reader } = pair
    await pair.init(init)
    for (const worker of [writer, reader, writer, reader]) await worker.read('user', 'findUnique', byId(user.id))
    expect((await reader.metrics()).hitsL1).toBeGreaterThan(0)

    // the reader says so when it stops trusting its bus; a pause of 10× degradedTtlMs leaves room
    const noticed = reader.next((e) => e.event === 'log' && e.level === 'warn' && e.msg.includes('invalidation bus lost'), 3500)
    await server.cli('client', 'pause', String(degradedTtlMs * 10), 'ALL')
    await writer.write('user', 'update', { where: { id: user.id }, data: { name: 'v1' } })
    const expected = await db.user.findUnique(byId(user.id))
    await noticed
    for (let i = 0; i < 5; i++) expect(await reader.read('user', 'findUnique', byId(user.id))).toEqual(expected)
    await server.cli('client', 'unpause')
    for (let i = 0; i < 5; i++) expect(await reader.read('user', 'findUnique', byId(user.id))).toEqual(expected)
  })
})
