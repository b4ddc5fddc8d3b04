import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { keySlot } from '../../src/tiers/cluster-identity.js'
import { resetTables, useDatabase } from '../support/db.js'
import { OwnCluster } from '../support/own-cluster.js'
import { useWorkerPair } from '../support/worker-pair.js'
import { staleUntilServing, type WorkerInit, type WorkerProcess } from '../support/worker.js'

/*
 * A Redis Cluster master replaced by its replica before the last writes replicated (issue 14):
 * the promoted replica holds the `{User}` counters as they were, together with the entries that
 * recorded exactly those values, while the global counter, on another master, moved on with
 * nothing. Two OS processes (test/support/worker.ts) read and write through their own Cluster
 * clients, every answer compared with the database.
 */

const ctx = useDatabase()
const pair = useWorkerPair()
let cluster: OwnCluster
let run = 0
beforeEach(async () => {
  await resetTables(ctx.db.prisma)
  cluster = new OwnCluster()
  await cluster.start(keySlot('User'))
}, 60_000)
afterEach(async () => {
  await cluster.remove()
})

const byId = (id: number) => ({ where: { id } })
const list = { orderBy: { id: 'asc' as const } }

describe('Redis Cluster failover', () => {
  it('the hash slots of keys are the ones Redis computes', async () => {
    for (const tag of ['User', '*', 't:featured', 'r:PostToTag', 'héllo']) {
      expect(keySlot(tag)).toBe(Number(await cluster.masters[0]!.cli('cluster', 'keyslot', `{${tag}}`)))
    }
  })

  it.each([
    ['L2 only', 'takeover', { l1: false as const }, false],
    ['L1+L2, processes started after the failover', 'takeover', {}, true],
    ['L2 only', 'kill', { l1: false as const }, false],
  ] as const)('%s: a replica promoted (%s) before the last writes replicated', async (_name, how, tier, restart) => {
    // the global counter must live on a master that does not fail over, or the standalone check would do
    expect(await cluster.masterOf(keySlot('*'))).not.toBe(cluster.primary)
    const db = ctx.db.prisma
    const user = await db.user.create({ data: { email: 'ann@example.com', name: 'v0' } })
    await db.user.create({ data: { email: 'bob@example.com', name: 'bob' } })
    const init: WorkerInit = { databaseUrl: ctx.url, redisCluster: cluster.nodes, cache: { namespace: `failover${run++}`, redisTimeoutMs: 2000, ...tier } }
    const { writer, reader } = pair
    await pair.init(init)
    const readAll = async (worker: WorkerProcess) => [await worker.read('user', 'findUnique', byId(user.id)), await worker.read('user', 'findMany', list)]
    for (const worker of [writer, reader, writer, reader]) await readAll(worker)

    await cluster.cutReplica()
    await writer.write('user', 'update', { where: { id: user.id }, data: { name: 'v1' } })
    const expected = [await db.user.findUnique(byId(user.id)), await db.user.findMany(list)]
    for (const worker of [writer, reader, writer, reader]) expect(await readAll(worker)).toEqual(expected)

    await cluster.failover(how)
    if (restart) await pair.init(init)
    expect(await staleUntilServing([writer, reader], readAll, expected)).toBe(0)
  })
})
