// One application process of the two-process mixed scenario (scenarios/mixed.ts). It builds its
// own query-counting PrismaClient and its own instance of one contender (the factories of
// contenders/, on the Redis prefix the parent gives both processes), then runs a seeded 95/5
// read/write mix in several concurrent lanes and logs every operation with times on the
// machine's monotonic clock (`process.hrtime`, CLOCK_MONOTONIC on Linux: one clock for every
// process of the machine, checked by the parent at startup). The parent checks those logs for
// stale reads after the run (see the oracle in scenarios/mixed.ts). The bottom half of this file
// is the parent's side: `MixedWorker.start()` forks one.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'
import { bentocache, prismaExtensionRedis, tieredL1, tieredL1L2, tieredL1L2Model, tieredL1L2Strict, tieredL2, uncached } from './contenders/index.js'
import type { CacheStats, Contender, ContenderFactory } from './contenders/index.js'
import { statsDiff } from './cache-stats.js'
import type { MetricsSnapshot } from '../src/index.js'

export const mixedFactories: ContenderFactory[] = [uncached, tieredL1L2Model, tieredL1L2, tieredL1L2Strict, tieredL2, tieredL1, prismaExtensionRedis, bentocache]

/** Operation kinds, as logged. */
export const FIND_UNIQUE = 0
export const FIND_MANY = 1
export const COUNT = 2
export const UPDATE = 3
export const CREATE_COMMENT = 4
export const KIND_NAMES = ['post.findUnique', 'post.findMany', 'comment.count', 'post.update', 'comment.create'] as const

/** What an observation of a read is about. */
export const OBS_VERSION = 0
export const OBS_COUNT = 1

export interface MixedInit {
  contender: string
  databaseUrl: string
  redisUrl: string
  /** Redis prefix, the same in both processes. */
  prefix: string
  /** 0 or 1: this process writes (updates) the hot posts whose id % 2 equals it. */
  index: number
  seed: number
  /** hrtime origin (ns) of the run: every logged time is ns since it. */
  originNs: bigint
  /** Hot posts (ids, ascending): every post of the hot authors. */
  hotPosts: number[]
  hotAuthors: number[]
  /** How many posts each hot author has: what findMany by authorId must return. */
  postsPerAuthor: Record<number, number>
  /** Cumulative probabilities of findUnique, findMany, count, update; the rest is comment.create. */
  mix: [number, number, number, number]
  /** Keys are picked as list[floor(u^skew × length)]: 1 is uniform, 3 puts ~20% of picks on the first of 100. */
  skew: number
  lanes: number
}

export interface MixedRun {
  /** ns since origin at which both processes start, the measured window, and the end. */
  startNs: number
  windowStartNs: number
  endNs: number
}

/** A process's log, in columns (typed arrays cross the IPC channel cheaply). */
export interface MixedLog {
  /** per operation */
  opKind: Uint8Array
  opStart: Float64Array
  opEnd: Float64Array
  /** per observed value of a read: the op it belongs to, the post, and a version or a comment count */
  obsOp: Uint32Array
  obsKind: Uint8Array
  obsPost: Uint32Array
  obsValue: Float64Array
  /** per acknowledged write: kind, post, version written (0 for comments), issue and ack times */
  wKind: Uint8Array
  wPost: Uint32Array
  wVersion: Uint32Array
  wIssue: Float64Array
  wAck: Float64Array
  /** reads whose answer had the wrong shape (a null post, an author's posts missing) */
  anomalies: string[]
  errors: Record<string, number>
  firstError?: string
  /** SQL statements counted by Prisma's query events within the measured window, and in all */
  windowQueries: number
  totalQueries: number
  /**
   * The contender's own read counters over the measured window (snapshots at its start and end,
   * taken like `windowQueries`); absent when the contender exposes none.
   */
  windowStats?: CacheStats
  /** this library's own view, where the contender is this library */
  cacheMetrics?: {
    hitsL1: number
    hitsL2: number
    misses: number
    coalesced: number
    hitRate: number
    busDelayP99?: number
    busMessages?: number
    dbP50?: number
    l2P50?: number
  }
}

type Command =
  | { cmd: 'init'; init: MixedInit }
  | { cmd: 'clock' }
  | { cmd: 'run'; run: MixedRun }
  | { cmd: 'exit' }

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

const WORKER_FLAG = 'PTC_MIXED_WORKER'

if (process.env[WORKER_FLAG] === '1') runWorker()

/** The seeded generator of each lane (mulberry32). */
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

/** `p<id> v<N>` → N; anything else (a seeded title) → 0. */
export function versionOf(title: string): number {
  const m = / v(\d+)$/.exec(title)
  return m ? Number(m[1]) : 0
}

function runWorker(): void {
  const send = (message: Reply | { event: 'up' }) => process.send!(message)
  let init: MixedInit | undefined
  let base: PrismaClient | undefined
  let contender: Contender | undefined
  let queries = 0
  /** The last version this process wrote to each post it owns: versions go on across runs. */
  const versions = new Map<number, number>()

  const now = () => Number(process.hrtime.bigint() - init!.originNs)

  async function build(i: MixedInit): Promise<void> {
    init = i
    // a pool as large as the lanes; idle connections closed soon, as the processes of the
    // scenario take turns and PostgreSQL allows 100 connections in all
    const adapter = new PrismaPg({ connectionString: i.databaseUrl, max: i.lanes, idleTimeoutMillis: 1000 })
    const counting = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] })
    counting.$on('query', () => void queries++)
    base = counting as unknown as PrismaClient
    const factory = mixedFactories.find((f) => f.id === i.contender)
    if (factory === undefined) throw new Error(`unknown contender ${i.contender}`)
    contender = factory.create({ base, prefix: i.prefix, redisUrl: i.redisUrl })
    await base.$connect()
    // this library: start once the invalidation bus is subscribed (steady state, not startup)
    const cache = (contender.client as unknown as { $cache?: { ready(): Promise<void> } }).$cache
    await cache?.ready()
  }

  async function run(r: MixedRun): Promise<MixedLog> {
    const i = init!
    const client = contender!.client
    const ops = { kind: [] as number[], start: [] as number[], end: [] as number[] }
    const obs = { op: [] as number[], kind: [] as number[], post: [] as number[], value: [] as number[] }
    const w = { kind: [] as number[], post: [] as number[], version: [] as number[], issue: [] as number[], ack: [] as number[] }
    const anomalies: string[] = []
    const errors: Record<string, number> = {}
    let firstError: string | undefined
    const owned = i.hotPosts.filter((id) => id % 2 === i.index)
    const writing = new Set<number>()

    const observe = (op: number, kind: number, post: number, value: number) => {
      obs.op.push(op)
      obs.kind.push(kind)
      obs.post.push(post)
      obs.value.push(value)
    }

    async function lane(n: number): Promise<void> {
      const random = rng(i.seed + i.index * 7919 + n * 104_729)
      const pick = <T>(list: readonly T[]) => list[Math.floor(random() ** i.skew * list.length)]!
      const [pUnique, pMany, pCount, pUpdate] = i.mix
      while (now() < r.endNs) {
        const x = random()
        let kind = x < pUnique ? FIND_UNIQUE : x < pMany ? FIND_MANY : x < pCount ? COUNT : x < pUpdate ? UPDATE : CREATE_COMMENT
        let post = pick(i.hotPosts)
        if (kind === UPDATE) {
          // one writer per post, one write at a time: versions of a post commit in order
          post = pick(owned)
          for (let k = 0; writing.has(post) && k < owned.length; k++) post = owned[(owned.indexOf(post) + 1) % owned.length]!
          if (writing.has(post)) kind = FIND_UNIQUE
        }
        const op = ops.kind.length
        ops.kind.push(kind)
        ops.end.push(Number.NaN)
        const start = now()
        ops.start.push(start)
        try {
          switch (kind) {
            case FIND_UNIQUE: {
              const row = await client.post.findUnique({ where: { id: post } })
              if (row === null) anomalies.push(`findUnique ${post}: null`)
              else observe(op, OBS_VERSION, post, versionOf(row.title))
              break
            }
            case FIND_MANY: {
              const authorId = pick(i.hotAuthors)
              const rows = await client.post.findMany({ where: { authorId }, orderBy: { id: 'asc' } })
              if (rows.length !== i.postsPerAuthor[authorId]) anomalies.push(`findMany author ${authorId}: ${rows.length} posts`)
              for (const row of rows) observe(op, OBS_VERSION, row.id, versionOf(row.title))
              break
            }
            case COUNT:
              observe(op, OBS_COUNT, post, await client.comment.count({ where: { postId: post } }))
              break
            case UPDATE: {
              writing.add(post)
              const version = (versions.get(post) ?? 0) + 1
              versions.set(post, version)
              try {
                await client.post.update({ where: { id: post }, data: { title: `p${post} v${version}`, published: version % 2 === 0 } })
              } finally {
                writing.delete(post)
              }
              w.kind.push(UPDATE)
              w.post.push(post)
              w.version.push(version)
              w.issue.push(start)
              w.ack.push(now())
              break
            }
            case CREATE_COMMENT: {
              await client.comment.create({ data: { body: `mixed ${i.index}.${n}.${op}`, postId: post } })
              w.kind.push(CREATE_COMMENT)
              w.post.push(post)
              w.version.push(0)
              w.issue.push(start)
              w.ack.push(now())
              break
            }
          }
          ops.end[op] = now()
        } catch (error) {
          // a failed write is not acknowledged: it stays out of the oracle (its version is skipped)
          const name = KIND_NAMES[kind]
          errors[name] = (errors[name] ?? 0) + 1
          firstError ??= error instanceof Error ? error.message : String(error)
          ops.kind[op] = 255
        }
      }
    }

    const wait = (ns: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ns / 1e6)))
    await wait(r.startNs - now())
    while (now() < r.startNs) {
      /* the last fraction of a millisecond */
    }
    const startQueries = queries
    const stats = () => contender!.cacheStats?.()
    const startStats = stats()
    let atWindowStart: number | undefined
    let atEnd: number | undefined
    let statsAtWindowStart: CacheStats | undefined
    let statsAtEnd: CacheStats | undefined
    const windowTimer = setTimeout(() => {
      atWindowStart = queries
      statsAtWindowStart = stats()
    }, Math.max(0, (r.windowStartNs - now()) / 1e6))
    const endTimer = setTimeout(() => {
      atEnd = queries
      statsAtEnd = stats()
    }, Math.max(0, (r.endNs - now()) / 1e6))
    await Promise.all(Array.from({ length: i.lanes }, (_, n) => lane(n)))
    clearTimeout(windowTimer)
    clearTimeout(endTimer)
    const windowQueries = (atEnd ?? queries) - (atWindowStart ?? startQueries)
    const windowStats = startStats === undefined ? undefined : statsDiff(statsAtEnd ?? stats()!, statsAtWindowStart ?? startStats)

    let cacheMetrics: MixedLog['cacheMetrics']
    const cache = (client as unknown as { $cache?: { metrics(): MetricsSnapshot } }).$cache
    if (cache !== undefined) {
      const m = cache.metrics()
      cacheMetrics = {
        ...{ hitsL1: m.hitsL1, hitsL2: m.hitsL2, misses: m.misses, coalesced: m.coalesced, hitRate: m.hitRate },
        ...(m.busDelayMs === undefined ? {} : { busDelayP99: m.busDelayMs.p99, busMessages: m.busDelayMs.count }),
        ...(m.latency.db === undefined ? {} : { dbP50: m.latency.db.p50 }),
        ...(m.latency.l2 === undefined ? {} : { l2P50: m.latency.l2.p50 }),
      }
    }
    return {
      opKind: Uint8Array.from(ops.kind),
      opStart: Float64Array.from(ops.start),
      opEnd: Float64Array.from(ops.end),
      obsOp: Uint32Array.from(obs.op),
      obsKind: Uint8Array.from(obs.kind),
      obsPost: Uint32Array.from(obs.post),
      obsValue: Float64Array.from(obs.value),
      wKind: Uint8Array.from(w.kind),
      wPost: Uint32Array.from(w.post),
      wVersion: Uint32Array.from(w.version),
      wIssue: Float64Array.from(w.issue),
      wAck: Float64Array.from(w.ack),
      anomalies: anomalies.slice(0, 20),
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      windowQueries,
      totalQueries: queries - startQueries,
      ...(cacheMetrics === undefined ? {} : { cacheMetrics }),
      ...(windowStats === undefined ? {} : { windowStats }),
    }
  }

  async function handle(command: Command): Promise<unknown> {
    switch (command.cmd) {
      case 'init':
        await build(command.init)
        return null
      case 'clock':
        return process.hrtime.bigint()
      case 'run':
        return run(command.run)
      case 'exit':
        await contender?.close().catch(() => {})
        await base?.$disconnect().catch(() => {})
        setImmediate(() => process.exit(0))
        return null
    }
  }

  process.on('message', (message: { id: number; command: Command }) => {
    handle(message.command).then(
      (value) => send({ id: message.id, ok: true, value }),
      (error: unknown) => send({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    )
  })
  // the parent is gone: nobody will ever stop us
  process.on('disconnect', () => process.exit(0))
  send({ event: 'up' })
}

// ---------------------------------------------------------------------------------------------
// The parent's side
// ---------------------------------------------------------------------------------------------

const WORKER_PATH = fileURLToPath(import.meta.url)

export class MixedWorker {
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  private up!: () => void
  private readonly started = new Promise<void>((resolve) => (this.up = resolve))
  readonly exited: Promise<void>

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const { reject } of this.pending.values()) reject(new Error(`mixed worker ${name} exited (${signal ?? code})`))
        this.pending.clear()
        resolve()
      })
    })
    child.on('message', (message: Reply | { event: 'up' }) => {
      if ('event' in message) return this.up()
      const waiter = this.pending.get(message.id)
      this.pending.delete(message.id)
      if (message.ok) waiter?.resolve(message.value)
      else waiter?.reject(new Error(`mixed worker ${name}: ${message.error}`))
    })
  }

  static async start(name: string, timeoutMs = 30_000): Promise<MixedWorker> {
    const child = fork(WORKER_PATH, [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      env: { ...process.env, [WORKER_FLAG]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const worker = new MixedWorker(name, child)
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        worker.started,
        worker.exited.then(() => Promise.reject(new Error(`mixed worker ${name} exited at startup`))),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`mixed worker ${name} not up after ${timeoutMs} ms`)), timeoutMs))),
      ])
    } catch (error) {
      worker.kill()
      throw error
    } finally {
      clearTimeout(timer)
    }
    return worker
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  private request<T>(command: Command, timeoutMs = 60_000): Promise<T> {
    if (!this.alive || !this.child.connected) return Promise.reject(new Error(`mixed worker ${this.name} is not running`))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`mixed worker ${this.name}: '${command.cmd}' unanswered after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value as T)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      })
      this.child.send({ id, command })
    })
  }

  init(init: MixedInit): Promise<void> {
    return this.request({ cmd: 'init', init })
  }

  clock(): Promise<bigint> {
    return this.request({ cmd: 'clock' })
  }

  run(run: MixedRun): Promise<MixedLog> {
    return this.request({ cmd: 'run', run })
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL')
  }

  /** Asks it to disconnect and exit, killing it if it does not within `timeoutMs`. */
  async stop(timeoutMs = 3_000): Promise<void> {
    if (!this.alive) return
    await this.request({ cmd: 'exit' }, timeoutMs).catch(() => {})
    const timer = setTimeout(() => this.kill(), timeoutMs)
    await this.exited
    clearTimeout(timer)
  }
}
