// `$cache.warm()` on real services: a warm-up of N reads makes the next N reads hits (0 database
// queries), in this process's L1 and, L2 only, in another client's; its findUniques batch; no more
// than `concurrency` reads run at once; a failed read is counted and logged, never thrown; and
// `ready()` waits for the warm-ups started before it.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { CacheConfigError, type CacheLogger, type WarmRead } from '../../src/index.js'
import { cachedClient, countingClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0
const USERS = 5

const modes = {
  'L1+L2': () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}` }),
  'L2 only': () => ({ redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, l1: false as const }),
}

type Line = { level: 'info' | 'warn'; obj: Record<string, unknown>; msg: string | undefined }
function logged() {
  const lines: Line[] = []
  const keep = (level: Line['level']) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg })
  const logger: CacheLogger = { info: keep('info'), warn: keep('warn'), error: () => {} }
  return { logger, lines }
}

/** The reads warmed and then read again: 5 findUniques (one batch), a findMany and a count. */
interface Reads {
  user: { findUnique(args: { where: { id: number } }): PromiseLike<unknown>; count(): PromiseLike<unknown> }
  post: { findMany(args: { where: { published: boolean }; orderBy: { id: 'asc' } }): PromiseLike<unknown> }
}
const readsOf = (p: Reads): WarmRead[] => [
  ...Array.from({ length: USERS }, (_, i) => () => p.user.findUnique({ where: { id: i + 1 } })),
  () => p.post.findMany({ where: { published: false }, orderBy: { id: 'asc' } }),
  () => p.user.count(),
]
const answers = (p: Reads) => Promise.all(readsOf(p).map((read) => read()))

/** A gate below the cache: every query waits for `open()`, and the most in flight at once is kept. */
function gated(base: PrismaClient, stopAt: number) {
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  let reached!: () => void
  const full = new Promise<void>((resolve) => (reached = resolve))
  const counts = { inFlight: 0, max: 0 }
  const client = base.$extends({
    query: {
      $allModels: {
        async $allOperations({ args, query }) {
          counts.inFlight++
          counts.max = Math.max(counts.max, counts.inFlight)
          if (counts.inFlight === stopAt) reached()
          try {
            await gate
            return await query(args)
          } finally {
            counts.inFlight--
          }
        },
      },
    },
  }) as unknown as PrismaClient
  return { client, counts, open, full }
}

/** Every Redis command the cache sent before this has been answered, and its continuation run. */
async function redisDrained() {
  for (let i = 0; i < 5; i++) {
    await redisCtx.redis.ping()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
  for (let i = 1; i <= USERS; i++) {
    await ctx.db.prisma.user.create({ data: { email: `u${i}@example.com`, name: `User ${i}`, posts: { create: { title: `Post ${i}` } } } })
  }
  ctx.db.resetQueries()
})

describe.each(Object.entries(modes))('warm-up (%s)', (mode, options) => {
  it('makes the next reads hits with the database answers, batched; a write after it still reaches them', async () => {
    const { logger, lines } = logged()
    const opts = options()
    const prisma = cachedClient(ctx.db.prisma, { ...opts, logger })
    const summary = await prisma.$cache.warm(readsOf(prisma))
    expect(summary).toEqual({ total: 7, warmed: 7, failed: 0, ms: expect.any(Number) })
    expect(ctx.db.queries()).toBe(3) // one batch of 5 findUniques, the findMany, the count
    expect(prisma.$cache.metrics().models.User!.batches).toBe(1)
    const done = lines.filter((l) => l.msg === 'prisma-tiered-cache: warm-up done')
    expect(done).toEqual([{ level: 'info', obj: summary, msg: 'prisma-tiered-cache: warm-up done' }])
    // progress each read (7 < 10 steps), never a value: only counts
    expect(lines.filter((l) => l.msg === 'prisma-tiered-cache: warm-up progress').map((l) => l.obj)).toEqual(
      [1, 2, 3, 4, 5, 6].map((done) => ({ done, total: 7, failed: 0 })),
    )

    const plain = await answers(ctx.db.prisma)
    ctx.db.resetQueries()
    prisma.$cache.resetMetrics()
    // this client: L1 hits (L1+L2), L2 hits (L2 only)
    expect(await answers(prisma)).toEqual(plain)
    expect(ctx.db.queries()).toBe(0)
    const m = prisma.$cache.metrics()
    expect(mode === 'L1+L2' ? m.hitsL1 : m.hitsL2).toBe(7)
    expect(m.misses).toBe(0)

    // another client on the same Redis: L2 hits
    const other = countingClient(ctx.url)
    ctx.clients.push(other)
    const second = cachedClient(other.prisma, { ...opts, l1: false })
    expect(await answers(second)).toEqual(plain)
    expect(other.queries()).toBe(0)
    expect(second.$cache.metrics().hitsL2).toBe(7)

    // warmed entries carry their dependencies: a write invalidates them
    await prisma.user.update({ where: { id: 1 }, data: { name: 'Renamed' } })
    const after = await answers(prisma)
    expect(after).toEqual(await answers(ctx.db.prisma))
    expect((after[0] as { name: string }).name).toBe('Renamed')
    prisma.$cache.close()
    second.$cache.close()
  })

  it('a failing read is counted and logged, and the others still warm', async () => {
    const { logger, lines } = logged()
    const prisma = cachedClient(ctx.db.prisma, { ...options(), logger })
    const failing: WarmRead[] = [
      () => prisma.user.findUniqueOrThrow({ where: { id: 999 } }),
      () => {
        throw new Error('thrown before any read')
      },
    ]
    const summary = await prisma.$cache.warm([...readsOf(prisma).slice(0, 3), ...failing, ...readsOf(prisma).slice(3)])
    expect(summary).toEqual({ total: 9, warmed: 7, failed: 2, ms: expect.any(Number) })
    const warnings = lines.filter((l) => l.level === 'warn')
    // the synchronous throw fails first: the order of failures is the order they settle
    expect(warnings.map((l) => [l.msg, l.obj.index]).sort()).toEqual([
      ['prisma-tiered-cache: warm-up read failed', 3],
      ['prisma-tiered-cache: warm-up read failed', 4],
    ])
    expect(lines.at(-1)).toEqual({ level: 'info', obj: summary, msg: 'prisma-tiered-cache: warm-up done' })

    const plain = await answers(ctx.db.prisma)
    ctx.db.resetQueries()
    expect(await answers(prisma)).toEqual(plain)
    expect(ctx.db.queries()).toBe(0)
    prisma.$cache.close()
  })
})

describe('warm-up concurrency and ready()', () => {
  let base: PrismaClient
  beforeAll(() => {
    const other = countingClient(ctx.url)
    ctx.clients.push(other)
    base = other.prisma
  })

  it('runs at most `concurrency` reads at once (counted below the cache)', async () => {
    const { client, counts, open, full } = gated(base, 3)
    const prisma = cachedClient(client, modes['L1+L2']())
    // counts are not batched: each is a query of its own
    const reads = Array.from({ length: 10 }, (_, i) => () => prisma.post.count({ where: { id: i + 1 } }))
    const warming = prisma.$cache.warm(reads, { concurrency: 3 })
    await full
    await redisDrained() // any read started beside them would have reached the gate by now
    expect(counts.inFlight).toBe(3)
    open()
    expect(await warming).toEqual({ total: 10, warmed: 10, failed: 0, ms: expect.any(Number) })
    expect(counts.max).toBe(3)
    prisma.$cache.close()
  })

  it('ready() waits for warm-ups started before it, not for later ones', async () => {
    const { client, open, full } = gated(base, 1)
    const prisma = cachedClient(client, modes['L1+L2']())
    await prisma.$cache.ready() // the bus is up: what ready() waits for now is the warm-up
    let warmed = false
    const warming = prisma.$cache.warm([() => prisma.user.findUnique({ where: { id: 1 } })]).then(() => (warmed = true))
    let readied = false
    const ready = prisma.$cache.ready().then(() => (readied = true))
    const again = prisma.$cache.ready() // a second call waits as well
    await full
    await redisDrained()
    expect(readied).toBe(false)
    open()
    await ready
    expect(warmed).toBe(true)
    await Promise.all([warming, again])
    // a warm-up started after ready() was called is not waited for
    const { client: closed } = gated(base, 1)
    const later = cachedClient(closed, modes['L1+L2']())
    await later.$cache.ready()
    const readyFirst = later.$cache.ready()
    void later.$cache.warm([() => later.user.findUnique({ where: { id: 2 } })])
    await readyFirst // resolves although the warm-up's query waits at a gate never opened
    prisma.$cache.close()
    later.$cache.close()
  })

  it('bad arguments are a CacheConfigError, before any read', async () => {
    const prisma = cachedClient(base)
    await expect(prisma.$cache.warm('users' as never)).rejects.toThrow(CacheConfigError)
    await expect(prisma.$cache.warm([{} as never])).rejects.toThrow(/warm\[0\] must be a function/)
    await expect(prisma.$cache.warm([], { concurrency: 0 })).rejects.toThrow(/warm.concurrency must be a positive integer, got 0/)
    expect(await prisma.$cache.warm([])).toEqual({ total: 0, warmed: 0, failed: 0, ms: expect.any(Number) })
  })
})
