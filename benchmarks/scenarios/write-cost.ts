// Scenario: the cost of one write (`post.update`) when 10, and when 100,000, distinct reads of
// that model are cached. Caches are filled through each contender's own read path, against the
// real database, 200 reads in flight at a time: 9 in 10 are findUnique by id (Prisma merges those
// of one tick into one statement, so the fill is bounded by the caches, not PostgreSQL; ids past
// the 1,000 seeded posts cache `null`), 1 in 10 a findMany. A contender that deletes entries on
// a write pays for it here; generation counters make a write O(1).
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import { caches, uncached, type Contender } from '../contenders/index.js'
import { measureInterleaved, measureOnce, type Measurement, type Task } from '../harness.js'
import { scanKeys, scanUnlink } from '../redis-keys.js'
import type { Row, ScenarioResult } from '../report.js'
import { progress } from './hot-read.js'

const SMALL = 10
const LARGE = 100_000
const IN_FLIGHT = 200
const WRITTEN_POST = 500

/** Reads `count` keys never read before by this instance, at most IN_FLIGHT at a time. */
async function fill(client: PrismaClient, from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += IN_FLIGHT) {
    const end = Math.min(start + IN_FLIGHT, from + count)
    const reads: PromiseLike<unknown>[] = []
    for (let k = start; k < end; k++) {
      reads.push(
        k % 10 !== 9
          ? client.post.findUnique({ where: { id: k + 1 } })
          : client.post.findMany({ where: { authorId: (k % 100) + 1, id: { gt: k } }, take: 5 }),
      )
    }
    await Promise.all(reads)
  }
}

/** Deletes the contender's keys left from the 10-key phase, so that the large fill starts clean. */
async function scanUnlinkOwn(ctx: BenchContext, c: Contender): Promise<void> {
  if (c.redisPrefix !== undefined) await scanUnlink(ctx.admin, `${c.redisPrefix}*`)
}

async function redisKeys(ctx: BenchContext, c: Contender): Promise<number | string> {
  if (c.redisPrefix === undefined) return 'no Redis'
  const keys = await scanKeys(ctx.admin, `${c.redisPrefix}*`)
  return keys.filter((k) => c.isEntryKey?.(k) ?? true).length
}

export async function writeCost(ctx: BenchContext): Promise<ScenarioResult> {
  let n = 0
  const write = (client: PrismaClient) => client.post.update({ where: { id: WRITTEN_POST }, data: { title: `bench write ${++n}` } })
  const rows: Row[] = []
  const fills: Record<string, number> = {}
  const built: Contender[] = []

  try {
    // 10 keys: every contender, interleaved; before each write, 10 new keys are read (uncached
    // Prisma reads them too, uncached, so that every row pays the same preparation)
    const tasks: Task[] = []
    for (const factory of [uncached, ...caches]) {
      const c = ctx.create(factory)
      built.push(c)
      let next = 0
      const refill = async () => {
        await fill(c.client, next, SMALL)
        next += SMALL
      }
      await refill()
      tasks.push({ name: `${factory.label} (${SMALL})`, call: () => write(c.client), prepare: refill, options: { iterations: 15 } })
    }
    const measured = await measureInterleaved(tasks, 3)
    measured.forEach((m, i) => {
      const c = built[i]!
      rows.push(
        c.id === 'uncached'
          ? { contender: 'uncached', label: c.label, measurement: m, note: `after ${SMALL} uncached reads` }
          : { contender: `${c.id}:small`, label: c.label, note: `${SMALL} keys cached`, measurement: m },
      )
      progress(`  ${m.name}: ${(m.us / 1000).toFixed(2)} ms`)
    })

    // 100,000 keys: one contender at a time, its keys deleted before the next is filled (a SCAN
    // costs in proportion to every key in Redis, not only the contender's)
    for (const c of built.splice(0)) {
      if (c.id === 'uncached') {
        await ctx.dispose(c)
        continue
      }
      await c.reset()
      await scanUnlinkOwn(ctx, c)
      const started = performance.now()
      await fill(c.client, 0, LARGE)
      const fillSeconds = (performance.now() - started) / 1000
      fills[c.id] = fillSeconds
      await new Promise((r) => setTimeout(r, 250)) // let the fill's aftermath (GC, Redis) settle before timing
      const before = await redisKeys(ctx, c)
      const first: Measurement = await measureOnce(`${c.label} (${LARGE})`, () => write(c.client))
      const after = await redisKeys(ctx, c)
      const second = await measureOnce(`${c.label} (${LARGE}, again)`, () => write(c.client))
      rows.push({
        contender: `${c.id}:large`,
        label: c.label,
        note: `${LARGE.toLocaleString('en')} keys cached`,
        measurement: first,
        extra: {
          'entries in Redis before → after': typeof before === 'number' ? `${before} → ${after}` : before,
          'fill time': `${fillSeconds.toFixed(1)} s`,
          'next write': `${(second.us / 1000).toFixed(2)} ms`,
          'Redis errors': c.errors?.() ?? '–',
        },
      })
      progress(`  ${c.label}: ${LARGE} keys ${(first.us / 1000).toFixed(1)} ms (filled in ${fillSeconds.toFixed(1)} s, Redis ${before} → ${after})`)
      await ctx.dispose(c)
    }
  } finally {
    for (const c of built) await ctx.dispose(c)
  }
  // small rows first, then large ones, in contender order
  const order = (id: string) => (id === 'uncached' ? -1 : id.endsWith(':small') ? 0 : 1)
  rows.sort((a, b) => order(a.contender) - order(b.contender))

  return {
    id: 'write-cost',
    title: 'Cost of a write with 10 and with 100,000 cached keys of that model',
    description:
      `\`post.update({ where: { id: ${WRITTEN_POST} }, data: { title } })\` through each contender, after caching ${SMALL} (15 samples, 10 new keys read before each write, uncached Prisma included; all contenders interleaved) ` +
      `and ${LARGE.toLocaleString('en')} (one write: the first write after the fill) distinct Post reads (9 in 10 findUnique by id, most of them of absent ids past the 1,000 seeded posts, so cached as null; 1 in 10 findMany). ` +
      'The fill goes through the contender\'s own read path against the database, 200 reads in flight; "fill time" is how long the 100,000 took. ' +
      '"next write" is a second write right after (for caches that delete on write: with nothing left to delete). ' +
      'Entries in Redis are counted by SCAN under the contender\'s prefix.',
    baseline: 'uncached',
    unit: 'per write',
    extraColumns: ['entries in Redis before → after', 'fill time', 'next write', 'Redis errors'],
    rows,
    data: { fillSeconds: fills },
  }
}
