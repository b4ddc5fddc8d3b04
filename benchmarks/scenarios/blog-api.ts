// Scenario: a blog API modelled on the RealWorld "Conduit" app on Prisma, in one process. Its
// requests: the article page (post.findUnique by id with its author, tags, comments with their
// authors and `_count` of comments), the author's profile page (user.findUnique with posts), an
// author's feed (post.findMany by authorId with author and tags, newest first, take 10), a post's
// comments (comment.findMany by postId with authors); and ~8% writes: a comment on a post, an
// article edit (post.update of title and content) and a "favorite" (a Tag of a dedicated set
// connected to, or disconnected from, a Post: the implicit many-to-many Post.tags ↔ Tag.posts).
//
// Every contender gets a data set of its own, created identically before the scenario (AUTHORS
// users with POSTS_PER_AUTHOR posts each, comments, TAGS favorite tags with a few links), and the
// same seeded script of requests (indices into its own data set), so each starts from the same
// data and runs the same requests. Contenders take turns as the other tables do: ROUNDS rounds,
// each a slice of the script per contender (A B C D, A B C D, …), LANES requests in flight.
//
// Measured per contender over the timed rounds: requests/s, the contender's own hit rate
// (`$cache.metrics()`: hits / (hits + misses)), SQL statements per 1,000 requests (Prisma query
// events of the counting client it wraps). Then, untimed:
// - a checked phase of CHECKED more requests of the script: every read is followed at once by the
//   same read through plain Prisma; when no write of the contender was in flight or issued from
//   the start of the cached read to the end of the plain one (the database did not change in
//   between: one process, one writer), the two answers must be equal (deep equality, classes
//   included), else the read is counted stale. Reads that overlapped a write are not compared
//   themselves, but whatever they stored is served to later reads, which are.
// - a final sweep: every read of the data set (every article page and comment list, every profile
//   and feed) through the contender and through plain Prisma; 0 differences expected.
import type { PrismaClient } from '../../generated/prisma/client.js'
import { hitRateCell, statsDetail, statsDiff, statsSum } from '../cache-stats.js'
import type { BenchContext } from '../context.js'
import { tieredL1L2, tieredL1L2Model, tieredL2, uncached, type CacheStats, type Contender, type ContenderFactory } from '../contenders/index.js'
import { difference } from '../correctness.js'
import { escape, markdownTable, type ScenarioResult } from '../report.js'
import { progress } from './hot-read.js'

const CONTENDERS: ContenderFactory[] = [uncached, tieredL1L2Model, tieredL1L2, tieredL2]
const AUTHORS = 10
const POSTS_PER_AUTHOR = 12
const COMMENTS_PER_POST = 3
const TAGS = 6
const LANES = 4
/** Timed requests per contender, in ROUNDS slices. */
const REQUESTS = 2000
const ROUNDS = 3
/** Checked (untimed) requests per contender, after the timed ones. */
const CHECKED = 500
/** Untimed requests on a data set of their own before the first round (JIT, connection pools). */
const WARMUP = 200
const SEED = 20_261_201
/** Keys picked as list[floor(u^SKEW × length)]: a few hot articles and authors get most requests. */
const SKEW = 2

/** Cumulative shares: article 40%, profile 17%, feed 20%, comments 15% (92% reads); comment 4%, edit 2%, favorite 2%. */
const MIX = [
  ['article', 0.4],
  ['profile', 0.57],
  ['feed', 0.77],
  ['comments', 0.92],
  ['comment', 0.96],
  ['edit', 0.98],
  ['favorite', 1],
] as const
type Kind = (typeof MIX)[number][0]
const READS: readonly Kind[] = ['article', 'profile', 'feed', 'comments']

/** One request of the script: indices into a data set, the same for every contender. */
interface Step {
  kind: Kind
  post: number
  author: number
  tag: number
  commenter: number
}

/** A contender's rows. */
interface DataSet {
  users: number[]
  /** post ids, POSTS_PER_AUTHOR per author in author order */
  posts: number[]
  tags: number[]
  /** per post index: the favorite tags (indices) linked to it now, as the writes left them */
  linked: Set<number>[]
  /** per post index: the last edit's version */
  versions: number[]
}

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function script(seed: number, length: number): Step[] {
  const random = rng(seed)
  const skewed = (n: number) => Math.floor(random() ** SKEW * n)
  return Array.from({ length }, () => {
    const x = random()
    const kind = MIX.find(([, p]) => x < p)?.[0] ?? 'article'
    return { kind, post: skewed(AUTHORS * POSTS_PER_AUTHOR), author: skewed(AUTHORS), tag: Math.floor(random() * TAGS), commenter: Math.floor(random() * AUTHORS) }
  })
}

/** The same rows for every contender: `blog<k>` users, posts, comments, favorite tags and links. */
async function createDataSet(base: PrismaClient, name: string): Promise<DataSet> {
  await base.user.createMany({ data: Array.from({ length: AUTHORS }, (_, i) => ({ email: `${name}-u${i}@bench.dev`, name: `${name} author ${i}` })) })
  const users = (await base.user.findMany({ where: { email: { startsWith: `${name}-u` } }, orderBy: { id: 'asc' }, select: { id: true } })).map((u) => u.id)
  await base.post.createMany({
    data: users.flatMap((authorId, a) =>
      Array.from({ length: POSTS_PER_AUTHOR }, (_, j) => ({
        title: `${name} post ${a * POSTS_PER_AUTHOR + j} v0`,
        content: 'An article about caching. '.repeat(12),
        published: true,
        authorId,
      })),
    ),
  })
  const posts = (await base.post.findMany({ where: { authorId: { in: users } }, orderBy: { id: 'asc' }, select: { id: true } })).map((p) => p.id)
  await base.comment.createMany({
    data: posts.flatMap((postId, p) =>
      Array.from({ length: COMMENTS_PER_POST }, (_, c) => ({ body: `${name} comment ${p}.${c}`, postId, authorId: users[(p + c + 1) % users.length]! })),
    ),
  })
  await base.tag.createMany({ data: Array.from({ length: TAGS }, (_, t) => ({ name: `${name}-fav${t}` })) })
  const tags = (await base.tag.findMany({ where: { name: { startsWith: `${name}-fav` } }, orderBy: { id: 'asc' }, select: { id: true } })).map((t) => t.id)
  // each post starts with one favorite tag: post p ↔ tag p % TAGS
  for (const [t, id] of tags.entries()) {
    await base.tag.update({ where: { id }, data: { posts: { connect: posts.filter((_, p) => p % TAGS === t).map((postId) => ({ id: postId })) } } })
  }
  return { users, posts, tags, linked: posts.map((_, p) => new Set([p % TAGS])), versions: posts.map(() => 0) }
}

// The reads of the API, on any client (the contender's or plain Prisma).
const reads = {
  article: (p: PrismaClient, id: number) =>
    p.post.findUnique({
      where: { id },
      include: {
        author: true,
        tags: { orderBy: { id: 'asc' } },
        comments: { orderBy: { id: 'desc' }, include: { author: true } },
        _count: { select: { comments: true } },
      },
    }),
  profile: (p: PrismaClient, id: number) => p.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: 'desc' } } } }),
  feed: (p: PrismaClient, authorId: number) =>
    p.post.findMany({ where: { authorId }, include: { author: true, tags: { orderBy: { id: 'asc' } } }, orderBy: { id: 'desc' }, take: 10 }),
  comments: (p: PrismaClient, postId: number) => p.comment.findMany({ where: { postId }, include: { author: true }, orderBy: { id: 'asc' } }),
}

/** The read a step makes: its name (for reports) and the call. */
function readOf(step: Step, data: DataSet): { what: string; run: (p: PrismaClient) => Promise<unknown> } {
  const post = data.posts[step.post]!
  const author = data.users[step.author]!
  switch (step.kind) {
    case 'article':
      return { what: `article ${step.post}`, run: (p) => reads.article(p, post) }
    case 'profile':
      return { what: `profile ${step.author}`, run: (p) => reads.profile(p, author) }
    case 'feed':
      return { what: `feed ${step.author}`, run: (p) => reads.feed(p, author) }
    default:
      return { what: `comments ${step.post}`, run: (p) => reads.comments(p, post) }
  }
}

/** One contender's state through the scenario. */
interface Lane {
  factory: ContenderFactory
  contender: Contender
  data: DataSet
  /** posts with a write in flight: edits and favorites of a post are serialized, as a per-row lock would */
  writing: Set<number>
  /** writes of this contender in flight, and a counter moved at every write's issue and ack */
  inFlight: number
  writeEpoch: number
  timedMs: number
  timedRequests: number
  queries: number
  stats: (CacheStats | undefined)[]
  readMs: number[]
  writeMs: number[]
  errors: Record<string, number>
  firstError?: string
  checked: number
  overlapped: number
  stale: number
  staleExample?: string
  swept: number
  sweepDiffs: number
  sweepExample?: string
}

function newLane(factory: ContenderFactory, contender: Contender, data: DataSet): Lane {
  return {
    factory,
    contender,
    data,
    writing: new Set(),
    inFlight: 0,
    writeEpoch: 0,
    timedMs: 0,
    timedRequests: 0,
    queries: 0,
    stats: [],
    readMs: [],
    writeMs: [],
    errors: {},
    checked: 0,
    overlapped: 0,
    stale: 0,
    swept: 0,
    sweepDiffs: 0,
  }
}

/** Runs one step through the contender; with `check`, compares a read with plain Prisma right after. */
async function execute(lane: Lane, step: Step, n: number, base: PrismaClient | undefined): Promise<void> {
  const { data } = lane
  const client = lane.contender.client
  let kind = step.kind
  const p = step.post
  if ((kind === 'edit' || kind === 'favorite') && lane.writing.has(p)) kind = 'article'
  const isRead = READS.includes(kind)
  const started = performance.now()
  try {
    if (isRead) {
      const read = readOf({ ...step, kind }, data)
      const epoch = lane.writeEpoch
      const quiet = lane.inFlight === 0
      const answer = await read.run(client)
      if (base !== undefined) {
        const expected = await read.run(base)
        if (quiet && lane.writeEpoch === epoch) {
          lane.checked++
          const diff = difference(answer, expected)
          if (diff !== undefined) {
            lane.stale++
            lane.staleExample ??= `${read.what} (request ${n}): ${diff}`
          }
        } else lane.overlapped++
      }
    } else {
      lane.inFlight++
      lane.writeEpoch++
      try {
        const id = data.posts[p]!
        if (kind === 'comment') {
          await client.comment.create({ data: { body: `blog comment ${n}`, postId: id, authorId: data.users[step.commenter]! } })
        } else {
          lane.writing.add(p)
          try {
            if (kind === 'edit') {
              const version = ++data.versions[p]!
              await client.post.update({ where: { id }, data: { title: `post ${p} v${version}`, content: `Edited ${version}. ${'An article about caching. '.repeat(12)}` } })
            } else {
              const linked = data.linked[p]!
              const tag = { id: data.tags[step.tag]! }
              const connect = !linked.has(step.tag)
              await client.post.update({ where: { id }, data: { tags: connect ? { connect: tag } : { disconnect: tag } } })
              if (connect) linked.add(step.tag)
              else linked.delete(step.tag)
            }
          } finally {
            lane.writing.delete(p)
          }
        }
      } finally {
        lane.inFlight--
        lane.writeEpoch++
      }
    }
    if (base === undefined) (isRead ? lane.readMs : lane.writeMs).push(performance.now() - started)
  } catch (error) {
    lane.errors[kind] = (lane.errors[kind] ?? 0) + 1
    lane.firstError ??= error instanceof Error ? error.message.split('\n').filter(Boolean).slice(-1)[0] : String(error)
  }
}

/** Runs steps from..to of the script in LANES concurrent lanes. */
async function runSlice(lane: Lane, steps: Step[], from: number, to: number, base?: PrismaClient): Promise<void> {
  let next = from
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < to) {
        const n = next++
        await execute(lane, steps[n]!, n, base)
      }
    }),
  )
}

/** Every read of the data set through the contender and through plain Prisma. */
async function sweep(lane: Lane, base: PrismaClient): Promise<void> {
  const { data } = lane
  const all: { what: string; run: (p: PrismaClient) => Promise<unknown> }[] = [
    ...data.posts.map((id, p) => ({ what: `article ${p}`, run: (c: PrismaClient) => reads.article(c, id) })),
    ...data.posts.map((id, p) => ({ what: `comments ${p}`, run: (c: PrismaClient) => reads.comments(c, id) })),
    ...data.users.map((id, a) => ({ what: `profile ${a}`, run: (c: PrismaClient) => reads.profile(c, id) })),
    ...data.users.map((id, a) => ({ what: `feed ${a}`, run: (c: PrismaClient) => reads.feed(c, id) })),
  ]
  for (const read of all) {
    const diff = difference(await read.run(lane.contender.client), await read.run(base))
    lane.swept++
    if (diff !== undefined) {
      lane.sweepDiffs++
      lane.sweepExample ??= `${read.what}: ${diff}`
    }
  }
}

export interface BlogApiResult {
  contender: string
  label: string
  requests: number
  requestsPerSecond: number
  readMs: { p50: number; p99: number }
  writeMs: { p50: number; p99: number }
  /** the contender's own counters over the timed rounds (absent: n/a) */
  stats?: CacheStats
  queriesPer1kRequests: number
  checked: number
  overlapped: number
  stale: number
  staleExample?: string
  swept: number
  sweepDiffs: number
  sweepExample?: string
  errors: Record<string, number>
  firstError?: string
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * q))] ?? Number.NaN
}

export async function blogApi(ctx: BenchContext): Promise<ScenarioResult & { results: BlogApiResult[] }> {
  const steps = script(SEED, REQUESTS + CHECKED)
  const lanes: Lane[] = []
  try {
    // data sets first (all through plain Prisma, before any contender exists), then the contenders
    const sets: DataSet[] = []
    for (let k = 0; k <= CONTENDERS.length; k++) sets.push(await createDataSet(ctx.base, `blog${ctx.runId}x${k}`))
    for (const [k, factory] of CONTENDERS.entries()) {
      const contender = ctx.create(factory, ctx.counting.prisma)
      await (contender.client as unknown as { $cache?: { ready(): Promise<void> } }).$cache?.ready()
      lanes.push(newLane(factory, contender, sets[k]!))
    }
    // warm-up on the spare data set: plain Prisma and this library, so no contender pays for JIT
    const warm = script(SEED + 1, WARMUP)
    for (const factory of [uncached, tieredL1L2]) {
      await ctx.with(factory, async (contender) => {
        await runSlice(newLane(factory, contender, sets[CONTENDERS.length]!), warm, 0, WARMUP)
      })
    }
    for (let round = 0; round < ROUNDS; round++) {
      const from = Math.round((REQUESTS * round) / ROUNDS)
      const to = Math.round((REQUESTS * (round + 1)) / ROUNDS)
      for (const lane of lanes) {
        const before = lane.contender.cacheStats?.()
        const queriesBefore = ctx.counting.queries()
        const t = performance.now()
        await runSlice(lane, steps, from, to)
        lane.timedMs += performance.now() - t
        lane.timedRequests += to - from
        lane.queries += ctx.counting.queries() - queriesBefore
        const after = lane.contender.cacheStats?.()
        lane.stats.push(before && after && statsDiff(after, before))
      }
      progress(`  round ${round + 1}/${ROUNDS} done`)
    }
    for (const lane of lanes) {
      await runSlice(lane, steps, REQUESTS, REQUESTS + CHECKED, ctx.base)
      await sweep(lane, ctx.base)
    }
  } finally {
    for (const lane of lanes) await ctx.dispose(lane.contender)
  }

  const results = lanes.map((lane): BlogApiResult => {
    const readMs = [...lane.readMs].sort((a, b) => a - b)
    const writeMs = [...lane.writeMs].sort((a, b) => a - b)
    const stats = statsSum(lane.stats)
    const r: BlogApiResult = {
      contender: lane.factory.id,
      label: lane.factory.label,
      requests: lane.timedRequests,
      requestsPerSecond: (lane.timedRequests / lane.timedMs) * 1000,
      readMs: { p50: quantile(readMs, 0.5), p99: quantile(readMs, 0.99) },
      writeMs: { p50: quantile(writeMs, 0.5), p99: quantile(writeMs, 0.99) },
      ...(stats === undefined ? {} : { stats }),
      queriesPer1kRequests: (lane.queries / lane.timedRequests) * 1000,
      checked: lane.checked,
      overlapped: lane.overlapped,
      stale: lane.stale,
      ...(lane.staleExample === undefined ? {} : { staleExample: lane.staleExample }),
      swept: lane.swept,
      sweepDiffs: lane.sweepDiffs,
      ...(lane.sweepExample === undefined ? {} : { sweepExample: lane.sweepExample }),
      errors: lane.errors,
      ...(lane.firstError === undefined ? {} : { firstError: lane.firstError }),
    }
    progress(
      `  ${r.label}: ${r.requestsPerSecond.toFixed(0)} req/s, hit rate ${hitRateCell(stats)}, ${r.queriesPer1kRequests.toFixed(0)} queries/1k, ` +
        `stale ${r.stale}/${r.checked}, sweep ${r.sweepDiffs}/${r.swept}${Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''}`,
    )
    return r
  })
  return {
    id: 'blog-api',
    title: 'Blog API (RealWorld "Conduit" requests)',
    description: description(),
    rows: [],
    after: [table(results), '', ...notes(results)],
    data: results,
    results,
  }
}

function description(): string {
  return (
    `One process, ${LANES} requests in flight, ${REQUESTS} timed requests per contender (${ROUNDS} rounds, contenders in turn), from one seeded script: ` +
    '40% article page (`post.findUnique` by id, include author, tags, comments with their author, `_count` of comments), ' +
    '17% author profile (`user.findUnique` by id, include posts), 20% author feed (`post.findMany` by authorId, include author and tags, newest first, take 10), ' +
    '15% comments of a post (`comment.findMany` by postId, include author); 8% writes: 4% `comment.create`, 2% article edit (`post.update` title and content), ' +
    '2% favorite (`post.update` connecting or disconnecting one of a dedicated set of tags: Post.tags ↔ Tag.posts). ' +
    `Each contender has a data set of its own, created identically (${AUTHORS} authors × ${POSTS_PER_AUTHOR} posts, ${COMMENTS_PER_POST} comments each, ${TAGS} favorite tags); ` +
    'articles and authors are picked with a skew (u², the first 10% get ~32% of the picks). ' +
    'Hit rate: the contender\'s own counters over the timed rounds (`$cache.metrics()`: hits / (hits + misses)); DB queries: SQL statements (Prisma query events) per 1,000 requests. ' +
    `Then, untimed, ${CHECKED} more requests of the script in which every read is compared with the same read through plain Prisma right after it ` +
    '(when no write was in flight from the start of one to the end of the other; deep equality, classes included), and a final sweep of every read of the data set through both.'
  )
}

function table(results: BlogApiResult[]): string {
  const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2))
  const baseline = results.find((r) => r.contender === 'uncached')
  return markdownTable(
    ['contender', 'requests/s', 'vs uncached', 'read p50 / p99', 'write p50 / p99', 'hit rate', 'bypasses', 'DB queries / 1,000 requests', 'stale reads (checked)', 'final sweep: differences'],
    results.map((r) => [
      r.label,
      r.requestsPerSecond.toFixed(0),
      baseline === undefined ? '–' : r === baseline ? '1×' : `${(r.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}×`,
      `${ms(r.readMs.p50)} / ${ms(r.readMs.p99)} ms`,
      `${ms(r.writeMs.p50)} / ${ms(r.writeMs.p99)} ms`,
      hitRateCell(r.stats),
      r.stats?.bypasses === undefined ? 'n/a' : String(r.stats.bypasses),
      r.queriesPer1kRequests.toFixed(0),
      `${r.stale === 0 ? '0' : `**${r.stale}**`} of ${r.checked}`,
      `${r.sweepDiffs === 0 ? '0' : `**${r.sweepDiffs}**`} of ${r.swept}`,
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  )
}

function notes(results: BlogApiResult[]): string[] {
  const out = [
    `Checked phase: ${results.map((r) => `${r.label.replace('prisma-tiered-cache ', '')} ${r.checked} reads compared, ${r.overlapped} not (a write overlapped)`).join('; ')}. ` +
      'Uncached Prisma is the control: a difference there would be an error of the check, not of a cache.',
    '',
    `Cache counters over the timed rounds: ${results.filter((r) => r.stats).map((r) => `${r.label.replace('prisma-tiered-cache ', '')}: ${statsDetail(r.stats)}`).join('; ')}.`,
  ]
  const model = results.find((r) => r.contender === 'tiered-l1l2-model')
  const row = results.find((r) => r.contender === 'tiered-l1l2')
  if (model?.stats && row?.stats) {
    out.push(
      '',
      "With `invalidation: 'model'` every comment invalidates every cached read that touches Comment (every article page and comment list), and every edit or favorite every read that touches Post (every article page, profile and feed); " +
        `with \`'row'\` (the default) only the reads of the written rows should go. Here: model-wide ${hitRateCell(model.stats)} hits, ${model.queriesPer1kRequests.toFixed(0)} queries per 1,000 requests; ` +
        `row ${hitRateCell(row.stats)}, ${row.queriesPer1kRequests.toFixed(0)}.`,
    )
  }
  for (const r of results.filter((x) => x.staleExample || x.sweepExample)) {
    out.push('', `${r.label}: ${r.staleExample ? `first stale read: ${escape(r.staleExample)}` : ''}${r.staleExample && r.sweepExample ? '; ' : ''}${r.sweepExample ? `first sweep difference: ${escape(r.sweepExample)}` : ''}.`)
  }
  for (const r of results.filter((x) => Object.keys(x.errors).length > 0)) {
    out.push('', `${r.label}: errors ${JSON.stringify(r.errors)} (first: ${escape(r.firstError ?? '')}).`)
  }
  return out
}
