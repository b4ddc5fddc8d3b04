import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, Socket, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Redis, type RedisOptions } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { CacheLogger, CacheOptions } from '../../src/index.js'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { alive, freePort, until } from '../support/redis-server.js'

/*
 * Redis failures never surface to callers: reads fall back to the database, writes still complete,
 * and no read returns data older than the last write it follows, during the outage or after it.
 * This file runs a Redis of its own (the tests stop, restart, pause and cut it off), on a free port,
 * without persistence, shut down after the file (and killed by pid if the worker exits first).
 */

const ctx = useDatabase()
const exec = promisify(execFile)

// ---------------------------------------------------------------------------------------------
// A dedicated redis-server

const dir = mkdtempSync(join(tmpdir(), 'ptc-fail-open-'))
const pidFile = join(dir, 'redis.pid')
let port = 0
let pid: number | undefined

function killLeftover(): void {
  if (pid === undefined) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}
process.once('exit', killLeftover)


async function answers(): Promise<boolean> {
  try {
    const { stdout } = await exec('redis-cli', ['-p', String(port), 'ping'], { timeout: 2000 })
    return stdout.trim() === 'PONG'
  } catch {
    return false
  }
}


async function startServer(): Promise<void> {
  await exec('redis-server', [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'yes',
    '--pidfile', pidFile,
    '--dir', dir,
    '--logfile', join(dir, 'redis.log'),
  ])
  await until(answers, `redis-server on port ${port} to answer PING`)
  pid = Number(readFileSync(pidFile, 'utf8').trim())
}

/** SHUTDOWN NOSAVE, as an operator (or a crash without persistence) would: every key is lost. */
async function stopServer(): Promise<void> {
  const id = pid
  await exec('redis-cli', ['-p', String(port), 'shutdown', 'nosave']).catch(() => {})
  if (id !== undefined) await until(() => !alive(id), `redis-server ${id} to exit`)
  pid = undefined
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy in front of it, to cut a client off (connections dropped, new ones refused) or to
// stall it (nothing forwarded either way, and everything delivered in order once resumed: a pause
// the test ends when it chooses, not after a wall-clock duration).

class Proxy {
  private server!: Server
  private readonly sockets = new Set<Socket>()
  private held: Array<[Socket, Buffer]> = []
  private isCut = false
  private isStalled = false
  port = 0

  async listen(target: () => number): Promise<void> {
    this.server = createServer((client) => {
      if (this.isCut) return void client.destroy()
      const upstream = new Socket().connect(target(), '127.0.0.1')
      const pair = [client, upstream] as const
      for (const s of pair) this.sockets.add(s)
      const close = () => {
        for (const s of pair) {
          s.destroy()
          this.sockets.delete(s)
        }
      }
      const forward = (to: Socket) => (chunk: Buffer) => (this.isStalled ? this.held.push([to, chunk]) : to.write(chunk))
      client.on('data', forward(upstream))
      upstream.on('data', forward(client))
      for (const s of pair) s.on('error', close).on('close', close)
    })
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
  }

  cut(): void {
    this.isCut = true
    this.held = []
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
  }

  heal(): void {
    this.isCut = false
  }

  stall(): void {
    this.isStalled = true
  }

  resume(): void {
    this.isStalled = false
    for (const [to, chunk] of this.held) if (!to.destroyed) to.write(chunk)
    this.held = []
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

// ---------------------------------------------------------------------------------------------


let admin: Redis
let proxy: Proxy
const clients: Redis[] = []
let runs = 0
const namespace = () => `failopen.${runs++}`

async function scanKeys(match: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await admin.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    keys.push(...batch)
    cursor = next
  } while (cursor !== '0')
  return keys
}

/** A client configured the way a production application would: few retries, offline queue on. */
function productionRedis(options: RedisOptions = {}, viaProxy = false): Redis {
  const redis = new Redis({ host: '127.0.0.1', port: viaProxy ? proxy.port : port, maxRetriesPerRequest: 1, ...options })
  redis.on('error', () => {}) // an application logs these; the cache must not need it to
  clients.push(redis)
  return redis
}

interface Logged {
  level: 'info' | 'warn' | 'error'
  msg: string | undefined
}
function collectingLogger(): { logger: CacheLogger; logged: Logged[] } {
  const logged: Logged[] = []
  const logger: CacheLogger = {
    info: (_obj, msg) => void logged.push({ level: 'info', msg }),
    warn: (_obj, msg) => void logged.push({ level: 'warn', msg }),
    error: (_obj, msg) => void logged.push({ level: 'error', msg }),
  }
  return { logger, logged }
}

const failOpen = { redisTimeoutMs: 100, breaker: { failures: 2, cooldownMs: 200 } } satisfies CacheOptions

beforeAll(async () => {
  port = await freePort()
  await startServer()
  admin = new Redis({ host: '127.0.0.1', port })
  admin.on('error', () => {})
  proxy = new Proxy()
  await proxy.listen(() => port)
})

afterAll(async () => {
  admin?.disconnect()
  await proxy?.close()
  if (pid !== undefined) await stopServer().catch(() => {})
  killLeftover()
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(async () => {
  proxy.heal()
  proxy.resume()
  if (!(await answers())) await startServer()
  await admin.flushall()
  await resetTables(ctx.db.prisma)
})

afterEach(() => {
  for (const redis of clients.splice(0)) redis.disconnect()
})

async function seed() {
  const db = ctx.db.prisma
  const ann = await db.user.create({ data: { email: 'ann@example.com', name: 'Ann' } })
  const posts = []
  for (let i = 0; i < 3; i++) posts.push(await db.post.create({ data: { title: `post ${i}`, published: i !== 1, authorId: ann.id } }))
  ctx.db.resetQueries()
  return { ann, posts }
}

const postsArgs = (authorId: number) => ({ where: { authorId }, orderBy: { id: 'asc' as const } })

describe('Redis stopped mid-run', () => {
  it.each([
    ['L1 on', {}],
    ['L1 off', { l1: false as const }],
  ])(
    '%s: no caller sees an error or stale data while Redis is down, and L2 comes back by itself',
    async (_tier, tier) => {
      const { ann, posts } = await seed()
      const db = ctx.db.prisma
      const redis = productionRedis()
      const ns = namespace()
      const prisma = cachedClient(db, { redis, namespace: ns, ...failOpen, ...tier })

      // every read is compared with the uncached answer at that moment: the loop is sequential,
      // so no write runs between the cached read and the check
      const step = async (i: number) => {
        const at = `step ${i}`
        switch (i % 6) {
          case 0:
            return expect(await prisma.post.findMany(postsArgs(ann.id)), at).toEqual(await db.post.findMany(postsArgs(ann.id)))
          case 1: {
            const args = { where: { id: ann.id }, include: { posts: { orderBy: { id: 'asc' as const } } } }
            return expect(await prisma.user.findUnique(args), at).toEqual(await db.user.findUnique(args))
          }
          case 2:
            return void (await prisma.post.update({ where: { id: posts[i % 3]!.id }, data: { title: `title ${i}` } }))
          case 3:
            return expect(await prisma.post.count({ where: { published: true } }), at).toBe(await db.post.count({ where: { published: true } }))
          case 4:
            return void (await prisma.post.create({ data: { title: `new ${i}`, published: i % 4 === 0, authorId: ann.id } }))
          default:
            return void (await prisma.user.update({ where: { id: ann.id }, data: { name: `Ann ${i}` } }))
        }
      }

      let shutdown: Promise<void> | undefined
      for (let i = 0; i < 90; i++) {
        // stopped while the loop runs, not between two phases of the test
        if (i === 30) shutdown = stopServer()
        await step(i)
      }
      await shutdown
      expect(prisma.$cache.metrics().redisErrors).toBeGreaterThan(0)

      // back on the same port, empty: the client reconnects and the cache uses L2 again unaided.
      // `peer` stands for another process on the same Redis. Until the writer's breaker lets it
      // reach Redis again (its cooldown), its bumps wait in memory, so the peer may still be served
      // an entry older than the writer's last write: that cross-process window is the breaker's,
      // bounded by the loop. The writer's own reads are held to the strict rule throughout.
      await startServer()
      const peer = cachedClient(db, { redis, namespace: ns, ...failOpen, l1: false })
      let recovered = false
      for (let attempt = 0; attempt < 300 && !recovered; attempt++) {
        const at = `recovery attempt ${attempt}`
        await prisma.post.update({ where: { id: posts[0]!.id }, data: { title: `after restart ${attempt}` } })
        const expected = await db.post.findMany(postsArgs(ann.id))
        expect(await prisma.post.findMany(postsArgs(ann.id)), at).toEqual(expected)
        const before = ctx.db.queries()
        const fromPeer = await peer.post.findMany(postsArgs(ann.id))
        // an L2 hit with the rows of this attempt's write: the writer stored it, after bumping
        recovered = ctx.db.queries() === before && JSON.stringify(fromPeer) === JSON.stringify(expected)
        if (!recovered) await sleep(50)
      }
      expect(recovered).toBe(true)
      expect(peer.$cache.metrics().models.Post!.hitsL2).toBeGreaterThan(0)

      // recovered: from now on the peer sees every write as soon as it resolves
      for (let i = 0; i < 5; i++) {
        await prisma.post.update({ where: { id: posts[1]!.id }, data: { title: `steady ${i}` } })
        const expected = await db.post.findMany(postsArgs(ann.id))
        expect(await peer.post.findMany(postsArgs(ann.id)), `steady ${i}, peer`).toEqual(expected)
        expect(await prisma.post.findMany(postsArgs(ann.id)), `steady ${i}`).toEqual(expected)
      }
      // and the writer's own reads are cache hits again
      const before = ctx.db.queries()
      expect(await prisma.post.findMany(postsArgs(ann.id))).toEqual(await db.post.findMany(postsArgs(ann.id)))
      expect(ctx.db.queries()).toBe(before + 1) // only the uncached check
    },
    60_000,
  )
})

describe('Redis unreachable, keeping its data', () => {
  it('CLIENT PAUSE: a write made during the pause is never hidden by the old L2 entry afterwards', async () => {
    const { ann, posts } = await seed()
    const db = ctx.db.prisma
    const prisma = cachedClient(db, { redis: productionRedis(), namespace: namespace(), ...failOpen, l1: false })
    const args = postsArgs(ann.id)
    await prisma.post.findMany(args)
    let before = ctx.db.queries()
    await prisma.post.findMany(args)
    expect(ctx.db.queries()).toBe(before) // the entry is in L2

    // every client is paused, this one included: its next command answers once the pause ends
    await admin.call('CLIENT', 'PAUSE', '2000', 'ALL')
    await prisma.post.update({ where: { id: posts[0]!.id }, data: { title: 'written during the pause' } })
    expect(await prisma.post.findMany(args)).toEqual(await db.post.findMany(args))
    expect(prisma.$cache.metrics().redisErrors).toBeGreaterThan(0)
    await admin.ping() // returns when the pause is over

    const expected = await db.post.findMany(args)
    expect(expected[0]!.title).toBe('written during the pause')
    let hit = false
    for (let attempt = 0; attempt < 200 && !hit; attempt++) {
      const hitsL2 = prisma.$cache.metrics().models.Post!.hitsL2
      expect(await prisma.post.findMany(args)).toEqual(expected)
      hit = prisma.$cache.metrics().models.Post!.hitsL2 > hitsL2
      if (!hit) await sleep(25)
    }
    expect(hit).toBe(true) // L2 serves again, and serves the new rows
    before = ctx.db.queries()
    expect(await prisma.post.findMany(args)).toEqual(expected)
    expect(ctx.db.queries()).toBe(before)
  })

  it('connection lost: a bump that never reached Redis is applied before L2 is read again', async () => {
    const { ann, posts } = await seed()
    const db = ctx.db.prisma
    const ns = namespace()
    // fail fast while disconnected: nothing queued, so the bump is lost for good, not delivered late
    const redis = productionRedis({ enableOfflineQueue: false }, true)
    await until(() => redis.status === 'ready', 'the client to connect')
    const prisma = cachedClient(db, { redis, namespace: ns, ...failOpen, l1: false })
    const args = postsArgs(ann.id)
    await prisma.post.findMany(args)
    let before = ctx.db.queries()
    await prisma.post.findMany(args)
    expect(ctx.db.queries()).toBe(before)
    // the counter of the equality the list pins (authorId = Ann), which the update bumps (keys/names.ts)
    const counter = `${ns}:{Post}:e:authorId:${ann.id}:gen`
    const generationBefore = await admin.get(counter)
    expect(generationBefore).not.toBeNull()

    proxy.cut()
    await until(() => redis.status !== 'ready', 'the client to notice')
    await prisma.post.update({ where: { id: posts[0]!.id }, data: { title: 'written while cut off' } })
    expect(await prisma.post.findMany(args)).toEqual(await db.post.findMany(args))
    expect(prisma.$cache.metrics().redisErrors).toBeGreaterThan(0)

    proxy.heal()
    await until(() => redis.status === 'ready', 'the client to reconnect', 800)
    // the scenario this test is about: Redis still holds the old entry at the old generation
    expect(await admin.get(counter)).toBe(generationBefore)
    expect(await scanKeys(`${ns}:{Post}:q:*`)).not.toHaveLength(0)

    const expected = await db.post.findMany(args)
    expect(expected[0]!.title).toBe('written while cut off')
    let hit = false
    for (let attempt = 0; attempt < 200 && !hit; attempt++) {
      const hitsL2 = prisma.$cache.metrics().models.Post!.hitsL2
      expect(await prisma.post.findMany(args)).toEqual(expected)
      hit = prisma.$cache.metrics().models.Post!.hitsL2 > hitsL2
      if (!hit) await sleep(25)
    }
    expect(hit).toBe(true)
    expect(await admin.get(counter)).not.toBe(generationBefore)
    before = ctx.db.queries()
    expect(await prisma.post.findMany(args)).toEqual(expected)
    expect(ctx.db.queries()).toBe(before)
  })

  it('connection lost: once the writer is back, other processes stop serving the old entry even if the writer stays idle', async () => {
    const { ann, posts } = await seed()
    const db = ctx.db.prisma
    const ns = namespace()
    const writerRedis = productionRedis({ enableOfflineQueue: false }, true)
    await until(() => writerRedis.status === 'ready', 'the writer to connect')
    const writer = cachedClient(db, { redis: writerRedis, namespace: ns, ...failOpen, l1: false })
    // another process, whose own connection to Redis never broke
    const reader = cachedClient(db, { redis: productionRedis(), namespace: ns, ...failOpen, l1: false })
    const args = postsArgs(ann.id)
    await writer.post.findMany(args)
    const before = ctx.db.queries()
    await reader.post.findMany(args)
    expect(ctx.db.queries()).toBe(before)

    proxy.cut()
    await until(() => writerRedis.status !== 'ready', 'the writer to notice')
    await writer.post.update({ where: { id: posts[0]!.id }, data: { title: 'written while cut off' } })
    // (until the writer can reach Redis, other processes cannot know: that window is unavoidable)
    proxy.heal()
    await until(() => writerRedis.status === 'ready', 'the writer to reconnect', 800)

    const expected = await db.post.findMany(args)
    let fresh = false
    for (let attempt = 0; attempt < 200 && !fresh; attempt++) {
      fresh = JSON.stringify(await reader.post.findMany(args)) === JSON.stringify(expected)
      if (!fresh) await sleep(25)
    }
    expect(fresh, 'the reader still serves the pre-write entry 5 s after the writer reconnected').toBe(true)
  })

  it('connection lost: a tag pattern dropped by a write rule during the outage is still dropped afterwards', async () => {
    const { posts } = await seed()
    const db = ctx.db.prisma
    const tag = await db.tag.create({ data: { name: 'news' } })
    const redis = productionRedis({ enableOfflineQueue: false }, true)
    await until(() => redis.status === 'ready', 'the client to connect')
    const prisma = cachedClient(db, {
      redis,
      namespace: namespace(),
      ...failOpen,
      l1: false,
      models: { Post: { invalidates: { patterns: ['feed:*'] } } },
    })
    const feed = { orderBy: { id: 'asc' as const }, cacheStrategy: { tags: ['feed:home'] } }
    await prisma.tag.findMany(feed)
    const before = ctx.db.queries()
    await prisma.tag.findMany(feed)
    expect(ctx.db.queries()).toBe(before)

    proxy.cut()
    await until(() => redis.status !== 'ready', 'the client to notice')
    // the application's rule: a post write changes what 'feed:*' reads show (here, a tag renamed
    // with it, which the schema cannot link to the post)
    await db.tag.update({ where: { id: tag.id }, data: { name: 'news (updated)' } })
    await prisma.post.update({ where: { id: posts[0]!.id }, data: { title: 'in the feed' } })
    proxy.heal()
    await until(() => redis.status === 'ready', 'the client to reconnect', 800)

    // each read must show the renamed tag; the loop ends once L2 answers again (a new entry)
    const expected = await db.tag.findMany({ orderBy: { id: 'asc' } })
    expect(expected[0]!.name).toBe('news (updated)')
    let hit = false
    for (let attempt = 0; attempt < 200 && !hit; attempt++) {
      const hitsL2 = prisma.$cache.metrics().models.Tag!.hitsL2
      expect(await prisma.tag.findMany(feed)).toEqual(expected)
      hit = prisma.$cache.metrics().models.Tag!.hitsL2 > hitsL2
      if (!hit) await sleep(25)
    }
    expect(hit).toBe(true)
  })
})

describe('Redis connected but not answering', () => {
  // Fails by timing out (the read never resolves), hence the short test timeout: no duration is
  // asserted, and the proxy is resumed in `finally` so that nothing stays blocked afterwards.
  it('a pattern drop still waiting to be retried never makes a read wait on a Redis that does not answer', async () => {
    const { posts } = await seed()
    const db = ctx.db.prisma
    const tag = await db.tag.create({ data: { name: 'news' } })
    let now = 1_000_000
    const redis = productionRedis({ enableOfflineQueue: false }, true)
    await until(() => redis.status === 'ready', 'the client to connect')
    const prisma = cachedClient(db, {
      redis,
      namespace: namespace(),
      ...failOpen,
      l1: false,
      now: () => now,
      models: { Post: { invalidates: { patterns: ['feed:*'] } } },
    })
    const feed = { orderBy: { id: 'asc' as const }, cacheStrategy: { tags: ['feed:home'] } }
    await prisma.tag.findMany(feed)
    await prisma.tag.findMany(feed)
    expect(prisma.$cache.metrics().models.Tag!.hitsL2).toBe(1)

    // cut off: the write's bumps fail (the breaker opens, the clock is frozen so it stays open) and
    // its pattern drop fails, to be retried
    proxy.cut()
    await until(() => redis.status !== 'ready', 'the client to notice')
    await db.tag.update({ where: { id: tag.id }, data: { name: 'news (updated)' } })
    await prisma.post.update({ where: { id: posts[0]!.id }, data: { title: 'in the feed' } })
    proxy.heal()
    await until(() => redis.status === 'ready', 'the client to reconnect', 800)

    // connected, but nothing answers (a blocked server, a half-open network path)
    const stalledExpected = await db.tag.findMany({ orderBy: { id: 'asc' } })
    proxy.stall()
    try {
      // the breaker lets one probe through, and this read takes it: nothing asynchronous runs
      // between the clock moving and the read asking the breaker (the background retry could
      // otherwise take the probe, and hang in its place)
      now += 250
      expect(await prisma.tag.findMany(feed)).toEqual(stalledExpected)
      expect(await prisma.tag.findMany(feed)).toEqual(stalledExpected)
    } finally {
      proxy.resume()
    }

    // answering again: the pattern is applied before L2 is read, so the old entry is never served
    const expected = await db.tag.findMany({ orderBy: { id: 'asc' } })
    let hit = false
    for (let attempt = 0; attempt < 200 && !hit; attempt++) {
      now += 250
      const hitsL2 = prisma.$cache.metrics().models.Tag!.hitsL2
      expect(await prisma.tag.findMany(feed)).toEqual(expected)
      hit = prisma.$cache.metrics().models.Tag!.hitsL2 > hitsL2
      if (!hit) await sleep(25)
    }
    expect(hit).toBe(true)
  }, 10_000)
})

describe('the circuit breaker', () => {
  it('stops calling a stalled Redis after `failures` failures, probes after the cooldown, and logs the outage once', async () => {
    const { ann, posts } = await seed()
    const db = ctx.db.prisma
    let now = 1_000_000
    const { logger, logged } = collectingLogger()
    const redis = productionRedis({}, true)
    await until(() => redis.status === 'ready', 'the client to connect')
    const prisma = cachedClient(db, { redis, namespace: namespace(), ...failOpen, l1: false, logger, now: () => now })
    const args = postsArgs(ann.id)
    await prisma.post.findMany(args)
    await prisma.post.findMany(args)
    expect(prisma.$cache.metrics().models.Post!.hitsL2).toBe(1)
    const sent = vi.spyOn(redis, 'sendCommand')
    const errors = () => prisma.$cache.metrics().redisErrors

    proxy.stall()
    // the first `failures` calls each pay the timeout, then the breaker opens
    expect(await prisma.post.findMany(args)).toEqual(await db.post.findMany(args))
    expect(errors()).toBe(1)
    expect(await prisma.post.findMany(args)).toEqual(await db.post.findMany(args))
    expect(errors()).toBe(2)

    // open: Redis is not called at all, by reads or by writes (whose bumps are remembered)
    const attempted = sent.mock.calls.length
    for (let i = 0; i < 10; i++) {
      if (i === 5) await prisma.post.update({ where: { id: posts[0]!.id }, data: { title: 'while open' } })
      expect(await prisma.post.findMany(args)).toEqual(await db.post.findMany(args))
    }
    expect(sent.mock.calls.length).toBe(attempted)
    expect(errors()).toBe(2)

    // after the cooldown one call probes; still stalled, so the breaker stays open without a new log
    now += 250
    expect(await prisma.post.findMany(args)).toEqual(await db.post.findMany(args))
    expect(sent.mock.calls.length).toBeGreaterThan(attempted)
    expect(errors()).toBe(3)
    const afterProbe = sent.mock.calls.length
    expect(await prisma.post.findMany(args)).toEqual(await db.post.findMany(args))
    expect(sent.mock.calls.length).toBe(afterProbe)
    expect(errors()).toBe(3)

    // Redis answers again: the next probe closes the breaker, and L2 serves the new rows
    proxy.resume()
    now += 250
    const expected = await db.post.findMany(args)
    expect(await prisma.post.findMany(args)).toEqual(expected)
    const hitsL2 = prisma.$cache.metrics().models.Post!.hitsL2
    const before = ctx.db.queries()
    expect(await prisma.post.findMany(args)).toEqual(expected)
    expect(ctx.db.queries()).toBe(before)
    expect(prisma.$cache.metrics().models.Post!.hitsL2).toBe(hitsL2 + 1)
    expect(errors()).toBe(3)

    const unavailable = logged.filter((l) => l.level === 'warn' && /Redis unavailable/.test(l.msg ?? ''))
    const back = logged.filter((l) => l.level === 'info' && /Redis is back/.test(l.msg ?? ''))
    expect(unavailable).toHaveLength(1)
    expect(back).toHaveLength(1)
    expect(logged.filter((l) => l.level === 'error')).toEqual([])
    sent.mockRestore()
  })
})
