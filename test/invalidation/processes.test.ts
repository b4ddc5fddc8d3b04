// Several OS processes sharing one PostgreSQL and one Redis, each with its own client and cache
// (test/support/worker.ts): what no in-process test can show. Stampede protection across
// processes (single flight in each, a Redis lease between them), a lease holder that dies
// mid-query, and the invalidation bus that keeps each process's L1 honest about other processes'
// writes, or `l1: { consistency: 'strict' }` where the bus is not enough.
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { withCache } from '../../src/index.js'
import { resetTables, useDatabase } from '../support/db.js'
import { scanKeys, useRedis } from '../support/redis.js'
import { portable, WorkerProcess, type WorkerInit } from '../support/worker.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
/** A namespace of its own for each test, under the file's (cleaned up after the file). */
const namespace = () => `${redisCtx.namespace}.${run++}`

/**
 * Worker processes, kept for the whole file (forking one costs ~1.5 s of CPU) and initialised
 * afresh by each test. A test that fails takes them all down with it; the next one forks new ones.
 */
const pool: WorkerProcess[] = []
let forked = 0

async function workers(count: number): Promise<WorkerProcess[]> {
  for (let i = pool.length - 1; i >= 0; i--) if (!pool[i]!.alive) pool.splice(i, 1)
  const missing = Math.max(0, count - pool.length)
  const started = await Promise.allSettled(Array.from({ length: missing }, () => WorkerProcess.start(`w${forked++}`)))
  for (const result of started) if (result.status === 'fulfilled') pool.push(result.value)
  const failed = started.find((result) => result.status === 'rejected')
  if (failed) throw failed.reason
  return pool.slice(0, count)
}

async function stopAll(): Promise<void> {
  const stopping = pool.splice(0)
  await Promise.all(stopping.map((worker) => worker.stop()))
}

beforeAll(async () => {
  await workers(4)
})
afterEach(async ({ task }) => {
  if (task.result?.state !== 'pass') await stopAll()
})
afterAll(async () => {
  await stopAll()
})

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (done(value)) return value
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`)
    await sleep(2)
  }
}


/**
 * Connects each worker's fresh client to PostgreSQL and Redis (and loads the Lua scripts) with a
 * read of another key, then zeroes its counters: a first query's connection set-up must not stall
 * the process that holds a lease in the test proper. Then sets each worker's query delay.
 */
async function warm(ws: WorkerProcess[], queryDelayMs: number[]): Promise<void> {
  await Promise.all(
    ws.map(async (worker, i) => {
      await worker.read('user', 'count')
      await worker.request({ cmd: 'reset' })
      await worker.request({ cmd: 'delay', ms: queryDelayMs[i]! })
    }),
  )
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

function init(ns: string, extra: Partial<WorkerInit> & { cache?: WorkerInit['cache'] } = {}): WorkerInit {
  return { databaseUrl: ctx.url, redisUrl: redisCtx.url, ...extra, cache: { namespace: ns, ...extra.cache } }
}

async function seedSample() {
  await ctx.db.prisma.sample.create({
    data: {
      tenant: 'a',
      code: 'x',
      at: new Date('2026-03-04T05:06:07.089Z'),
      big: 9007199254740993n,
      price: new Prisma.Decimal('12345678901234.000001'),
      bytes: new Uint8Array([0, 1, 2, 255]),
      json: { nested: [1, 'two', null, { three: 3.5 }] },
      status: 'ACTIVE',
    },
  })
}

describe('several processes', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('1,000 concurrent identical reads of a cold key over 4 processes make exactly one database query', { timeout: 20_000 }, async () => {
    await seedSample()
    const ns = namespace()
    const readers = await workers(4)
    // 200 ms per query: every process's reads overlap the one query that runs
    await Promise.all(readers.map((worker) => worker.init(init(ns))))
    await warm(readers, [200, 200, 200, 200])
    const args = { where: { tenant_code: { tenant: 'a', code: 'x' } } }
    const at = Date.now() + 150 // all four fire at the same moment
    const answers = await Promise.all(readers.map((worker) => worker.readMany('sample', 'findUnique', args, 250, at)))

    const counts = await Promise.all(readers.map((worker) => worker.queries()))
    const perProcess = await Promise.all(
      readers.map(async (worker, i) => {
        const snapshot = await worker.metrics()
        return { ...snapshot.models.Sample, queries: counts[i]!.sql, totalRedisErrors: snapshot.redisErrors }
      }),
    )
    expect(sum(counts.map((c) => c.sql)), `queries and counters per process: ${JSON.stringify(perProcess)}`).toBe(1)
    expect(sum(counts.map((c) => c.started))).toBe(1)
    const expected = portable(await ctx.db.prisma.sample.findUnique(args))
    expect((expected as { big: bigint }).big).toBe(9007199254740993n)
    const all = answers.flat()
    expect(all).toHaveLength(1000)
    for (const answer of all) expect(answer).toEqual(expected)
    const metrics = await Promise.all(readers.map(async (worker) => (await worker.metrics()).models.Sample!))
    // one read queried; every other one was answered by it, through its process's single flight
    // or, in the three other processes, by waiting for the lease holder's value in L2
    expect(sum(metrics.map((m) => m.misses))).toBe(1)
    expect(sum(metrics.map((m) => m.misses + m.coalesced))).toBe(1000)
  })

  it('when the lease holder is killed mid-query, one waiter takes over after the lease expires, long before the dead query would have ended', { timeout: 20_000 }, async () => {
    await seedSample()
    const ns = namespace()
    const [a, b, c] = await workers(3)
    const stampede = { leaseMs: 500, waitMs: 3000 }
    await Promise.all([a!, b!, c!].map((worker) => worker.init(init(ns, { cache: { stampede } }))))
    await warm([a!, b!, c!], [5000, 0, 0])
    const args = { where: { tenant_code: { tenant: 'a', code: 'x' } } }
    const queried = a!.next((event) => event.event === 'query-started')
    const doomed = a!.read('sample', 'findUnique', args).then(
      () => 'answered',
      () => 'died',
    )
    await queried
    // A holds the lease while its (5 s) query runs
    const leases = await scanKeys(redisCtx.redis, `${ns}:*:lease`)
    expect(leases).toHaveLength(1)
    const ttl = await redisCtx.redis.pttl(leases[0]!)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(500)

    a!.kill()
    expect((await a!.exited).signal).toBe('SIGKILL')
    expect(await doomed).toBe('died')

    const t0 = performance.now()
    const [fromB, fromC] = await Promise.all([b!.read('sample', 'findUnique', args), c!.read('sample', 'findUnique', args)])
    const elapsed = performance.now() - t0
    console.log(`[processes] lease holder killed: B and C answered after ${elapsed.toFixed(0)} ms (leaseMs 500, waitMs 3000, dead query 5000)`)

    const expected = portable(await ctx.db.prisma.sample.findUnique(args))
    expect(fromB).toEqual(expected)
    expect(fromC).toEqual(expected)
    const [qb, qc] = await Promise.all([b!.queries(), c!.queries()])
    const [mb, mc] = await Promise.all([b!.metrics(), c!.metrics()])
    const perProcess = JSON.stringify([
      { ...mb.models.Sample, queries: qb.sql, totalRedisErrors: mb.redisErrors },
      { ...mc.models.Sample, queries: qc.sql, totalRedisErrors: mc.redisErrors },
    ])
    // exactly one of them took over; the other waited for its value
    expect(qb.sql + qc.sql, `queries and counters of B and C: ${perProcess}`).toBe(1)
    expect(mb.models.Sample!.misses + mc.models.Sample!.misses).toBe(1)
    // neither waited out waitMs and queried on its own, nor waited for A's query
    expect(elapsed).toBeLessThan(stampede.waitMs)
    expect(await scanKeys(redisCtx.redis, `${ns}:*:lease`)).toEqual([])
  })

  it("delivers one process's write to another's L1 over the bus, with a measured delay", { timeout: 20_000 }, async () => {
    const ann = await ctx.db.prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
    const ns = namespace()
    const [a, b] = await workers(2)
    // an L1 entry of B can only learn of A's write through the bus: no short ttl, no degraded cap
    const l1 = { degradedTtlMs: 600_000 }
    await Promise.all([a!.init(init(ns, { cache: { l1 } })), b!.init(init(ns, { cache: { l1 } }))])
    await Promise.all([a!.request({ cmd: 'ready' }), b!.request({ cmd: 'ready' })])
    const args = { where: { id: ann.id } }
    const name = async () => ((await b!.read('user', 'findUnique', args)) as { name: string }).name
    expect(await name()).toBe('Ann')
    expect(await name()).toBe('Ann')
    expect((await b!.metrics()).models.User).toMatchObject({ misses: 1, hitsL1: 1 })

    await a!.write('user', 'update', { where: { id: ann.id }, data: { name: 'Ann 2' } })
    await until(name, (n) => n === 'Ann 2', "B's L1 to hear of A's write", 2_000)
    expect((await b!.metrics()).busDelayMs?.count).toBeGreaterThan(0)

    // 200 rounds: A writes, then B reads until it sees the write
    let staleAfterWrite = 0
    const rounds = 200
    const t0 = performance.now()
    for (let i = 0; i < rounds; i++) {
      await a!.write('user', 'update', { where: { id: ann.id }, data: { name: `round ${i}` } })
      let reads = 0
      await until(
        async () => {
          reads++
          return name()
        },
        (n) => n === `round ${i}`,
        `B to see round ${i}`,
        2_000,
      )
      if (reads > 1) staleAfterWrite++
    }
    const elapsed = performance.now() - t0
    const delay = (await b!.metrics()).busDelayMs!
    console.log(
      `[processes] bus delay over ${delay.count} messages: p50 ${delay.p50} ms, p99 ${delay.p99} ms; ` +
        `${staleAfterWrite}/${rounds} reads right after a write still saw the old value in L1 ` +
        `(${(elapsed / rounds).toFixed(1)} ms per round)`,
    )
    expect(delay.count).toBeGreaterThanOrEqual(rounds)
    expect(delay.p99).toBeLessThan(2_000)
  })

  it(
    "needs l1 consistency 'strict' for read-after-write across processes without the bus: " +
      "with its bus closed, a 'bus' L1 keeps serving the pre-write value, a 'strict' L1 does not",
    { timeout: 20_000 },
    async () => {
      const ann = await ctx.db.prisma.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
      const ns = namespace()
      const [a, viaBus, strict] = await workers(3)
      await Promise.all([
        a!.init(init(ns)),
        viaBus!.init(init(ns, { cache: { l1: { consistency: 'bus', degradedTtlMs: 600_000 } } })),
        strict!.init(init(ns, { cache: { l1: { consistency: 'strict', degradedTtlMs: 600_000 } } })),
      ])
      // both lose their bus (answered once each cache has noticed and flushed its L1)
      await Promise.all([viaBus!.request({ cmd: 'ready' }), strict!.request({ cmd: 'ready' })])
      await Promise.all([viaBus!.request({ cmd: 'closeBus' }), strict!.request({ cmd: 'closeBus' })])
      const args = { where: { id: ann.id } }
      const nameIn = async (worker: WorkerProcess) => ((await worker.read('user', 'findUnique', args)) as { name: string }).name
      for (const b of [viaBus!, strict!]) {
        expect(await nameIn(b)).toBe('Ann')
        expect(await nameIn(b)).toBe('Ann')
        expect((await b.metrics()).models.User).toMatchObject({ hitsL1: 1 }) // L1 is in use
      }

      await a!.write('user', 'update', { where: { id: ann.id }, data: { name: 'Ann 2' } })

      // strict: right after the write resolved, no waiting, no bus
      expect(await nameIn(strict!)).toBe('Ann 2')
      // control: nothing tells a 'bus' L1 of the write
      expect(await nameIn(viaBus!)).toBe('Ann')
      expect((await viaBus!.metrics()).models.User).toMatchObject({ hitsL1: 2 })
    },
  )
})

// The multi-process stampede tests above can see a second query when the machine is loaded. This
// is the race behind it, made deterministic in one process: a reader looks L2 up (nothing yet), the
// lease holder stores its value and releases the lease, and only then does the reader try the lease.
describe('the lease race, made deterministic in one process', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('a reader that wins the lease just after the previous holder stored its value serves that value, without a second query', async () => {
    await seedSample()
    const ns = namespace()
    let held: Promise<void> | undefined
    let entered = 0
    const database = ctx.db.prisma.$extends({
      query: {
        $allModels: {
          async $allOperations({ args, query }) {
            entered++
            if (held !== undefined) await held
            return query(args)
          },
        },
      },
    })
    // the second reader's own Redis connection, whose lease attempts (the lease script,
    // src/tiers/lua/lease-2.lua, registered on it by withCache) can be held back
    const slowLeases = new Redis(redisCtx.url)
    try {
      let leaseHeld: Promise<void> | undefined
      const leaseReplies: Array<Promise<boolean>> = []
      const first = database.$extends(withCache({ redis: redisCtx.redis, namespace: ns, l1: false }))
      // a generous timeout: the held-back lease attempt must not pass for Redis being down
      const second = database.$extends(withCache({ redis: slowLeases, namespace: ns, l1: false, redisTimeoutMs: 10_000 }))
      const target = slowLeases as unknown as Record<string, (...args: unknown[]) => Promise<[number, number]>>
      const lease = target.ptc_lease_v1!.bind(slowLeases)
      target.ptc_lease_v1 = (...args: unknown[]) => {
        const reply = (leaseHeld ?? Promise.resolve()).then(() => lease(...args))
        leaseReplies.push(reply.then(([taken]) => taken === 1))
        return reply
      }
      const args = { where: { tenant_code: { tenant: 'a', code: 'x' } } }
      ctx.db.resetQueries()

      let releaseDatabase!: () => void
      held = new Promise<void>((resolve) => (releaseDatabase = resolve))
      const fromFirst = first.sample.findUnique(args).then((row) => row)
      await until(async () => entered, (n) => n === 1, "the first reader's query", 2_000)
      let releaseLease!: () => void
      leaseHeld = new Promise<void>((resolve) => (releaseLease = resolve))
      const fromSecond = second.sample.findUnique(args).then((row) => row)
      await until(async () => leaseReplies.length, (n) => n === 1, 'the second reader to go for the lease', 2_000)
      held = undefined
      releaseDatabase()
      const value = await fromFirst // stored in L2, lease released
      expect(await scanKeys(redisCtx.redis, `${ns}:*:lease`)).toEqual([])
      releaseLease()
      expect(await leaseReplies[0]).toBe(true)
      expect(portable(await fromSecond)).toEqual(portable(value))
      expect(ctx.db.queries()).toBe(1)
    } finally {
      slowLeases.disconnect()
    }
  })
})
