// Correctness probes: does a contender serve data the database no longer has (or never had)?
// Each probe caches a read, changes the database through the contender, reads again through the
// contender and compares with uncached Prisma. Values are compared after a JSON round trip, so a
// Date served as a string does not count as stale here (the timing tables report types).
// (a) nested write: user.update({ data: { posts: { create } } }) after post.count/findMany were cached
// (b) a read through `tx` inside an interactive transaction that wrote and then rolled back,
//     followed by a cached read outside
// (c) a plain update of the row, then the same read
// (d) a relation in `include`: posts with their author cached, then the author renamed
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import { caches, uncached } from '../contenders/index.js'
import { difference } from '../correctness.js'
import { markdownTable, type ScenarioResult } from '../report.js'

interface Probe {
  id: string
  name: string
  run(client: PrismaClient, base: PrismaClient, tag: string): Promise<string | undefined>
}

class Rollback extends Error {}

/** `undefined` when the contender agrees with the database, else what differs. */
function stale(actual: unknown, expected: unknown): string | undefined {
  return difference(JSON.parse(JSON.stringify(actual ?? null)), JSON.parse(JSON.stringify(expected ?? null)))
}

async function twice<T>(read: () => PromiseLike<T>): Promise<T> {
  await read()
  return read()
}

const probes: Probe[] = [
  {
    id: 'a',
    name: '(a) nested write',
    async run(c, base, tag) {
      const authorId = 11
      const count = () => c.post.count({ where: { authorId } })
      const list = () => c.post.findMany({ where: { authorId }, orderBy: { id: 'asc' } })
      await twice(count)
      await twice(list)
      await c.user.update({ where: { id: authorId }, data: { posts: { create: { title: `nested ${tag}` } } } })
      return (
        stale(await count(), await base.post.count({ where: { authorId } })) ??
        stale(await list(), await base.post.findMany({ where: { authorId }, orderBy: { id: 'asc' } }))
      )
    },
  },
  {
    id: 'b',
    name: '(b) tx read, then rollback',
    async run(c, base, tag) {
      const where = { id: 77 }
      await twice(() => c.post.findUnique({ where }))
      try {
        await c.$transaction(async (tx) => {
          await tx.post.update({ where, data: { title: `uncommitted ${tag}` } })
          await tx.post.findUnique({ where })
          throw new Rollback('roll back')
        })
      } catch (error) {
        if (!(error instanceof Rollback)) throw error
      }
      return stale(await c.post.findUnique({ where }), await base.post.findUnique({ where }))
    },
  },
  {
    id: 'c',
    name: '(c) update, then read',
    async run(c, base, tag) {
      const where = { id: 12 }
      await twice(() => c.user.findUnique({ where }))
      await c.user.update({ where, data: { name: `renamed ${tag}` } })
      return stale(await c.user.findUnique({ where }), await base.user.findUnique({ where }))
    },
  },
  {
    id: 'd',
    name: '(d) related row in include',
    async run(c, base, tag) {
      const args = { where: { authorId: 13 }, orderBy: { id: 'asc' as const }, include: { author: true } }
      await twice(() => c.post.findMany(args))
      await c.user.update({ where: { id: 13 }, data: { name: `author ${tag}` } })
      return stale(await c.post.findMany(args), await base.post.findMany(args))
    },
  },
]

export interface StalenessResult {
  contender: string
  label: string
  probes: Record<string, string | undefined>
}

export async function staleness(ctx: BenchContext): Promise<ScenarioResult & { results: StalenessResult[] }> {
  const results: StalenessResult[] = []
  for (const factory of [uncached, ...caches]) {
    const result: StalenessResult = { contender: factory.id, label: factory.label, probes: {} }
    for (const probe of probes) {
      // a fresh instance per probe: nothing cached by one probe can mask or cause another's result
      result.probes[probe.id] = await ctx.with(factory, (c) => probe.run(c.client, ctx.base, `${factory.id}-${probe.id}`))
    }
    results.push(result)
  }
  const table = markdownTable(
    ['contender', ...probes.map((p) => p.name)],
    results.map((r) => [r.label, ...probes.map((p) => (r.probes[p.id] === undefined ? 'fresh' : `**STALE**: ${r.probes[p.id]}`))]),
    ['l', ...probes.map(() => 'l' as const)],
  )
  return {
    id: 'staleness',
    title: 'Staleness probes',
    description:
      'Each probe: cache a read through the contender, change the database through the contender, read again through it, compare with uncached Prisma ' +
      '(values after a JSON round trip, so types do not count here). ' +
      '(a) `user.update({ data: { posts: { create } } })` after `post.count` and `post.findMany` of that author were cached; ' +
      '(b) inside an interactive `$transaction`: `tx.post.update`, a read through `tx`, then a rollback; then the cached read outside; ' +
      '(c) `user.update` of a cached user, then the same read; ' +
      '(d) `post.findMany({ include: { author: true } })` cached, then the author renamed.',
    rows: [],
    after: [table],
    results,
    data: results,
  }
}
