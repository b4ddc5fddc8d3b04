// Correctness probes: does a contender serve data the database no longer has (or never had)?
// Each probe caches a read, changes the database through the contender, reads again through the
// contender and compares with uncached Prisma. Values are compared after a JSON round trip, so a
// Date served as a string does not count as stale here (the timing tables report types).
// (a) nested write: user.update({ data: { posts: { create } } }) after post.count/findMany were cached
// (b) a read through `tx` inside an interactive transaction that wrote and then rolled back,
//     followed by a cached read outside
// (c) a plain update of the row, then the same read
// (d) a relation in `include`: posts with their author cached, then the author renamed
// (e) a cached `null` of findUnique by a unique field (user.email), then that user created
// (f) a unique field changed (user.email, updated by id): the old value must find nothing, the new one the row
// (g) a comment moved to another post (comment.update postId A → B): both posts' comment lists
// (h) updateMany by a filter that names no id: the rows it changed, read by id and in lists
// (i) deleteMany by a filter that names no id: the rows it deleted, read by id, in lists and counts
// (j) cascades: deleting a user deletes its profile (onDelete: Cascade) and clears its posts'
//     authorId (onDelete: SetNull); cached reads of both must follow
// Probes (e)–(j) work on rows of their own, created through uncached Prisma before anything is
// cached (per contender and probe, so no two runs share a row), and leave the seeded rows alone.
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import { caches, tieredL1L2, tieredL1L2Model, uncached } from '../contenders/index.js'
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
  {
    id: 'e',
    name: '(e) cached null, then create',
    async run(c, base, tag) {
      const where = { email: `e-${tag}@probe.dev` }
      const first = await twice(() => c.user.findUnique({ where }))
      if (first !== null) return `the user existed before the probe (${JSON.stringify(first)})`
      await c.user.create({ data: { email: where.email, name: `created ${tag}` } })
      return stale(await c.user.findUnique({ where }), await base.user.findUnique({ where }))
    },
  },
  {
    id: 'f',
    name: '(f) unique field changed',
    async run(c, base, tag) {
      const before = `f-${tag}@probe.dev`
      const after = `f-${tag}-changed@probe.dev`
      const user = await base.user.create({ data: { email: before, name: `f ${tag}` } })
      const byOld = () => c.user.findUnique({ where: { email: before } })
      const byNew = () => c.user.findUnique({ where: { email: after } })
      await twice(byOld)
      await twice(byNew)
      // by id: the old email is in neither the where nor the data of the write
      await c.user.update({ where: { id: user.id }, data: { email: after } })
      return (
        labelled('by old email', stale(await byOld(), await base.user.findUnique({ where: { email: before } }))) ??
        labelled('by new email', stale(await byNew(), await base.user.findUnique({ where: { email: after } })))
      )
    },
  },
  {
    id: 'g',
    name: '(g) row moved to another parent',
    async run(c, base, tag) {
      const a = await base.post.create({ data: { title: `g-a ${tag}` } })
      const b = await base.post.create({ data: { title: `g-b ${tag}` } })
      const moved = await base.comment.create({ data: { body: `g moved ${tag}`, postId: a.id } })
      await base.comment.create({ data: { body: `g stays ${tag}`, postId: a.id } })
      await base.comment.create({ data: { body: `g other ${tag}`, postId: b.id } })
      const list = (p: PrismaClient, postId: number) => p.comment.findMany({ where: { postId }, orderBy: { id: 'asc' } })
      const page = (p: PrismaClient, id: number) =>
        p.post.findUnique({ where: { id }, include: { comments: { orderBy: { id: 'asc' } }, _count: { select: { comments: true } } } })
      for (const id of [a.id, b.id]) {
        await twice(() => list(c, id))
        await twice(() => page(c, id))
      }
      // by id, the old parent is in neither the where nor the data of the write
      await c.comment.update({ where: { id: moved.id }, data: { postId: b.id } })
      return (
        labelled('comments of post A', stale(await list(c, a.id), await list(base, a.id))) ??
        labelled('comments of post B', stale(await list(c, b.id), await list(base, b.id))) ??
        labelled('post A with comments', stale(await page(c, a.id), await page(base, a.id))) ??
        labelled('post B with comments', stale(await page(c, b.id), await page(base, b.id)))
      )
    },
  },
  {
    id: 'h',
    name: '(h) updateMany',
    async run(c, base, tag) {
      const author = await base.user.create({ data: { email: `h-${tag}@probe.dev`, name: `h ${tag}` } })
      const authorId = author.id
      await base.post.createMany({ data: ['even', 'odd', 'even', 'odd'].map((kind, i) => ({ title: `h${i} ${kind} ${tag}`, authorId, published: false })) })
      const ids = (await base.post.findMany({ where: { authorId }, orderBy: { id: 'asc' }, select: { id: true } })).map((p) => p.id)
      const reads: [string, (p: PrismaClient) => Promise<unknown>][] = [
        ['changed post by id', (p) => p.post.findUnique({ where: { id: ids[0]! } })],
        ['unchanged post by id', (p) => p.post.findUnique({ where: { id: ids[1]! } })],
        ['published posts of the author', (p) => p.post.findMany({ where: { authorId, published: true }, orderBy: { id: 'asc' } })],
        ['count of unpublished', (p) => p.post.count({ where: { authorId, published: false } })],
        ['author with posts', (p) => p.user.findUnique({ where: { id: authorId }, include: { posts: { orderBy: { id: 'asc' } } } })],
      ]
      for (const [, read] of reads) await twice(() => read(c))
      await c.post.updateMany({ where: { authorId, title: { contains: ' even ' } }, data: { published: true } })
      return compareAll(reads, c, base)
    },
  },
  {
    id: 'i',
    name: '(i) deleteMany',
    async run(c, base, tag) {
      const post = await base.post.create({ data: { title: `i ${tag}` } })
      const postId = post.id
      await base.comment.createMany({ data: ['drop', 'keep', 'drop', 'keep'].map((kind, i) => ({ body: `i${i} ${kind} ${tag}`, postId })) })
      const ids = (await base.comment.findMany({ where: { postId }, orderBy: { id: 'asc' }, select: { id: true } })).map((x) => x.id)
      const reads: [string, (p: PrismaClient) => Promise<unknown>][] = [
        ['deleted comment by id', (p) => p.comment.findUnique({ where: { id: ids[0]! } })],
        ['kept comment by id', (p) => p.comment.findUnique({ where: { id: ids[1]! } })],
        ['comments of the post', (p) => p.comment.findMany({ where: { postId }, orderBy: { id: 'asc' } })],
        ['comment count', (p) => p.comment.count({ where: { postId } })],
        ['post with _count', (p) => p.post.findUnique({ where: { id: postId }, include: { _count: { select: { comments: true } } } })],
      ]
      for (const [, read] of reads) await twice(() => read(c))
      await c.comment.deleteMany({ where: { postId, body: { contains: ' drop ' } } })
      return compareAll(reads, c, base)
    },
  },
  {
    id: 'j',
    name: '(j) cascade delete',
    async run(c, base, tag) {
      const user = await base.user.create({
        data: { email: `j-${tag}@probe.dev`, name: `j ${tag}`, profile: { create: { bio: `bio ${tag}` } }, posts: { create: { title: `j ${tag}` } } },
        include: { profile: true, posts: true },
      })
      const userId = user.id
      const profileId = user.profile!.id
      const postId = user.posts[0]!.id
      const reads: [string, (p: PrismaClient) => Promise<unknown>][] = [
        ['profile by userId (Cascade)', (p) => p.profile.findUnique({ where: { userId } })],
        ['profile by id (Cascade)', (p) => p.profile.findUnique({ where: { id: profileId } })],
        ['profile count (Cascade)', (p) => p.profile.count({ where: { userId } })],
        ["the user's post (SetNull)", (p) => p.post.findUnique({ where: { id: postId } })],
      ]
      for (const [, read] of reads) await twice(() => read(c))
      await c.user.delete({ where: { id: userId } })
      return compareAll(reads, c, base)
    },
  },
]

function labelled(what: string, diff: string | undefined): string | undefined {
  return diff === undefined ? undefined : `${what}: ${diff}`
}

/** Every read through the contender against the same read through uncached Prisma: the first that differs. */
async function compareAll(reads: [string, (p: PrismaClient) => Promise<unknown>][], c: PrismaClient, base: PrismaClient): Promise<string | undefined> {
  for (const [what, read] of reads) {
    const diff = labelled(what, stale(await read(c), await read(base)))
    if (diff !== undefined) return diff
  }
  return undefined
}

/** The contenders of this scenario: every cache, and this library with model-wide invalidation next to its default. */
const contenders = [uncached, ...caches.flatMap((f) => (f === tieredL1L2 ? [f, tieredL1L2Model] : [f]))]

export interface StalenessResult {
  contender: string
  label: string
  /** per probe: undefined when fresh, else what differs (or the error the probe ran into) */
  probes: Record<string, string | undefined>
  /** probes that threw instead of answering */
  errors: string[]
}

/** How many probes there are (the summary's "stale in n/N"). */
export const probeCount = probes.length

export async function staleness(ctx: BenchContext): Promise<ScenarioResult & { results: StalenessResult[] }> {
  const results: StalenessResult[] = []
  for (const factory of contenders) {
    const result: StalenessResult = { contender: factory.id, label: factory.label, probes: {}, errors: [] }
    for (const probe of probes) {
      // a fresh instance per probe: nothing cached by one probe can mask or cause another's result
      try {
        result.probes[probe.id] = await ctx.with(factory, (c) => probe.run(c.client, ctx.base, `${factory.id}-${probe.id}`))
      } catch (error) {
        result.probes[probe.id] = (error instanceof Error ? error.message : String(error)).split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 160) ?? 'error'
        result.errors.push(probe.id)
      }
    }
    results.push(result)
  }
  const cell = (r: StalenessResult, id: string) =>
    r.probes[id] === undefined ? 'fresh' : r.errors.includes(id) ? `**ERROR**: ${r.probes[id]}` : `**STALE**: ${r.probes[id]}`
  const table = markdownTable(
    ['contender', ...probes.map((p) => p.name)],
    results.map((r) => [r.label, ...probes.map((p) => cell(r, p.id))]),
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
      '(d) `post.findMany({ include: { author: true } })` cached, then the author renamed; ' +
      '(e) `user.findUnique` by email cached as `null`, then `user.create` of that email; ' +
      '(f) `user.findUnique` by the old and the new email cached, then `user.update` by id changing the email (old must become null, new must find the row); ' +
      '(g) two posts\' comments cached (`comment.findMany` by postId, `post.findUnique` with comments and `_count`), then `comment.update` by id moving one comment from A to B; ' +
      '(h) `post.updateMany` by author and a title filter (`published: true`), after the changed and an unchanged post by id, the published list, the unpublished count and the author with posts were cached; ' +
      '(i) `comment.deleteMany` by post and a body filter, after a deleted and a kept comment by id, the post\'s comments, their count and the post with `_count` were cached; ' +
      '(j) `user.delete` of a user with a profile (onDelete: Cascade) and a post (onDelete: SetNull), after the profile by userId and by id, its count and the post were cached. ' +
      '(e)–(j) use rows of their own, created through uncached Prisma before anything is cached. "ERROR": the probe threw.',
    rows: [],
    after: [table],
    results,
    data: results,
  }
}
