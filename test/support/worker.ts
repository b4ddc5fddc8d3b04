// One application process, for tests that need several: its own PrismaClient (counting its
// queries, optionally delaying each one), its own ioredis client and its own `withCache`, driven
// over IPC. The bottom half of this file is the parent's side: `WorkerProcess.start()` forks one.
//
// Only plain data crosses the process boundary (`serialization: 'advanced'`: Date, BigInt and
// Uint8Array survive, class instances do not), so options are passed as data and results go
// through `portable()`, which turns every Decimal into `{ $decimal: '<exact digits>' }`.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { PrismaPg } from '@prisma/adapter-pg'
import { Cluster, Redis } from 'ioredis'
import { Prisma, PrismaClient } from '../../generated/prisma/client.js'
import { withCache, type CacheOptions, type MetricsSnapshot } from '../../src/index.js'

export interface WorkerInit {
  databaseUrl: string
  /** Without it the cache is L1-only. */
  redisUrl?: string
  /** Startup nodes of a Redis Cluster, used instead of `redisUrl`. */
  redisCluster?: Array<{ host: string; port: number }>
  /** Every query (read or write) waits this long before it is sent. @default 0 */
  queryDelayMs?: number
  /** `withCache` options that are plain data (no client, logger, clock or partition function). */
  cache: Omit<CacheOptions, 'redis' | 'logger' | 'now' | 'partition'>
}

export type WorkerCommand =
  | { cmd: 'init'; init: WorkerInit }
  /** `times` identical reads fired together, at epoch ms `at` if given; answers an array if `times` is set. */
  | { cmd: 'read'; model: string; operation: string; args?: unknown; times?: number; at?: number }
  | { cmd: 'write'; model: string; operation: string; args: unknown }
  | { cmd: 'delay'; ms: number }
  | { cmd: 'queries' }
  | { cmd: 'metrics' }
  | { cmd: 'reset' }
  | { cmd: 'ready' }
  /** Closes the invalidation bus and answers once the cache has noticed (its L1 flushed). */
  | { cmd: 'closeBus' }
  | { cmd: 'exit' }

/** What the worker tells its parent without being asked. */
export type WorkerEvent =
  | { event: 'up' }
  /** A query reached the database hook (before its delay): `started` counts them. */
  | { event: 'query-started'; model: string | undefined; operation: string; started: number }
  | { event: 'log'; level: 'info' | 'warn' | 'error'; msg: string }

export interface QueryCounts {
  /** Queries that entered the delay hook. */
  started: number
  /** SQL statements PostgreSQL answered (Prisma's `query` log events). */
  sql: number
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

/** A value as it can be compared across processes: Decimals become exact strings. */
export function portable(value: unknown): unknown {
  if (Prisma.Decimal.isDecimal(value)) return { $decimal: (value as Prisma.Decimal).toFixed() }
  if (Array.isArray(value)) return value.map(portable)
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, portable(v)]))
  }
  return value
}

// ---------------------------------------------------------------------------------------------
// The child's side
// ---------------------------------------------------------------------------------------------

const WORKER_FLAG = 'PTC_TEST_WORKER'

if (process.env[WORKER_FLAG] === '1') runWorker()

function runWorker(): void {
  const send = (message: WorkerEvent | Reply) => process.send!(message)
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
  let state: Awaited<ReturnType<typeof build>> | undefined
  let delayMs = 0
  let started = 0
  const sql: string[] = []
  const warnings: string[] = []
  /** Info lines, where a clean `$cache.close()` says its bus closed. */
  const notices: string[] = []

  async function build(init: WorkerInit) {
    const base = new PrismaClient({
      adapter: new PrismaPg({ connectionString: init.databaseUrl }),
      log: [{ emit: 'event', level: 'query' }],
    })
    base.$on('query', (event) => void sql.push(event.query))
    delayMs = init.queryDelayMs ?? 0
    const delayed = base.$extends({
      query: {
        $allModels: {
          async $allOperations({ model, operation, args, query }) {
            started++
            send({ event: 'query-started', model, operation, started })
            if (delayMs > 0) await sleep(delayMs)
            return query(args)
          },
        },
      },
    })
    const redis = init.redisCluster ? new Cluster(init.redisCluster) : init.redisUrl === undefined ? undefined : new Redis(init.redisUrl)
    redis?.on('error', () => {}) // an application logs these (test/tiers/faults.test.ts restarts Redis)
    const log = (level: 'info' | 'warn' | 'error') => (_obj: object, msg?: string) => {
      if (level !== 'info') warnings.push(msg ?? '')
      else notices.push(msg ?? '')
      send({ event: 'log', level, msg: msg ?? '' })
    }
    const prisma = delayed.$extends(
      withCache({ ...init.cache, redis, logger: { info: log('info'), warn: log('warn'), error: log('error') } }),
    )
    return { base, redis, prisma }
  }

  async function close(): Promise<void> {
    if (state === undefined) return
    const { base, redis, prisma } = state
    state = undefined
    prisma.$cache.close()
    redis?.disconnect()
    await base.$disconnect()
  }

  function client() {
    if (state === undefined) throw new Error('worker: send init first')
    return state.prisma as unknown as Record<string, Record<string, (args: unknown) => Promise<unknown>>> & {
      $cache: typeof state.prisma.$cache
    }
  }

  async function handle(command: WorkerCommand): Promise<unknown> {
    switch (command.cmd) {
      case 'init':
        await close()
        sql.length = 0
        started = 0
        warnings.length = 0
        state = await build(command.init)
        return null
      case 'read': {
        const delegate = client()[command.model]!
        if (command.at !== undefined) await sleep(command.at - Date.now())
        if (command.times === undefined) return portable(await delegate[command.operation]!(command.args))
        const reads = Array.from({ length: command.times }, () => delegate[command.operation]!(command.args))
        return portable(await Promise.all(reads))
      }
      case 'write':
        return portable(await client()[command.model]![command.operation]!(command.args))
      case 'delay':
        delayMs = command.ms
        return null
      case 'queries':
        return { started, sql: sql.length } satisfies QueryCounts
      case 'metrics':
        return client().$cache.metrics()
      case 'reset':
        sql.length = 0
        started = 0
        client().$cache.resetMetrics()
        return null
      case 'ready':
        await client().$cache.ready()
        return null
      case 'closeBus': {
        const seen = notices.length
        client().$cache.close()
        for (let i = 0; i < 400; i++) {
          if (notices.slice(seen).some((msg) => msg.includes('bus closed'))) return null
          await sleep(5)
        }
        throw new Error('the cache did not notice its bus closing within 2 s')
      }
      case 'exit':
        await close()
        setImmediate(() => process.exit(0))
        return null
    }
  }

  process.on('message', (message: { id: number; command: WorkerCommand }) => {
    handle(message.command).then(
      (value) => send({ id: message.id, ok: true, value }),
      (error: unknown) => send({ id: message.id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
    )
  })
  // the parent is gone (its test run ended or crashed): nobody will ever kill us
  process.on('disconnect', () => process.exit(0))
  send({ event: 'up' })
}

// ---------------------------------------------------------------------------------------------
// The parent's side
// ---------------------------------------------------------------------------------------------

const WORKER_PATH = fileURLToPath(import.meta.url)

/** A forked worker process and a typed client for its commands. */
export class WorkerProcess {
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  private readonly listeners = new Set<(event: WorkerEvent) => void>()
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const { reject } of this.pending.values()) reject(new Error(`worker ${name} exited (${signal ?? code})`))
        this.pending.clear()
        resolve({ code, signal })
      })
    })
    child.on('message', (message: Reply | WorkerEvent) => {
      if ('id' in message) {
        const waiter = this.pending.get(message.id)
        this.pending.delete(message.id)
        if (message.ok) waiter?.resolve(message.value)
        else waiter?.reject(new Error(`worker ${name}: ${message.error}`))
      } else {
        for (const listener of this.listeners) listener(message)
      }
    })
  }

  /** Forks a worker and resolves once it listens for commands. */
  static async start(name: string, timeoutMs = 15_000): Promise<WorkerProcess> {
    const child = fork(WORKER_PATH, [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      env: { ...process.env, [WORKER_FLAG]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const worker = new WorkerProcess(name, child)
    try {
      await worker.next((event) => event.event === 'up', timeoutMs)
    } catch (error) {
      worker.kill()
      throw error
    }
    return worker
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resolves with the next event that matches (registered now: call before causing it). */
  next<E extends WorkerEvent>(match: (event: WorkerEvent) => event is E, timeoutMs?: number): Promise<E>
  next(match: (event: WorkerEvent) => boolean, timeoutMs?: number): Promise<WorkerEvent>
  next(match: (event: WorkerEvent) => boolean, timeoutMs = 15_000): Promise<WorkerEvent> {
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer)
        this.listeners.delete(listener)
        fn()
      }
      const listener = (event: WorkerEvent) => {
        if (match(event)) done(() => resolve(event))
      }
      const timer = setTimeout(() => done(() => reject(new Error(`worker ${this.name}: no matching event within ${timeoutMs} ms`))), timeoutMs)
      this.listeners.add(listener)
      void this.exited.then(() => done(() => reject(new Error(`worker ${this.name} exited before the event`))))
    })
  }

  request<T = unknown>(command: WorkerCommand, timeoutMs = 15_000): Promise<T> {
    if (!this.alive || !this.child.connected) return Promise.reject(new Error(`worker ${this.name} is not running`))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`worker ${this.name}: '${command.cmd}' unanswered after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value as T)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      this.child.send({ id, command })
    })
  }

  init(init: WorkerInit): Promise<void> {
    return this.request({ cmd: 'init', init })
  }

  read(model: string, operation: string, args?: unknown): Promise<unknown> {
    return this.request({ cmd: 'read', model, operation, args })
  }

  readMany(model: string, operation: string, args: unknown, times: number, at?: number): Promise<unknown[]> {
    return this.request({ cmd: 'read', model, operation, args, times, ...(at === undefined ? {} : { at }) })
  }

  write(model: string, operation: string, args: unknown): Promise<unknown> {
    return this.request({ cmd: 'write', model, operation, args })
  }

  queries(): Promise<QueryCounts> {
    return this.request({ cmd: 'queries' })
  }

  metrics(): Promise<MetricsSnapshot> {
    return this.request({ cmd: 'metrics' })
  }

  /** SIGKILL, if it is still running: no cleanup, like a crash. */
  kill(): void {
    if (this.alive) this.child.kill('SIGKILL')
  }

  /** Asks it to exit cleanly (disconnecting from PostgreSQL and Redis), killing it if it does not. */
  async stop(timeoutMs = 2_000): Promise<void> {
    if (this.alive) {
      await this.request({ cmd: 'exit' }, timeoutMs).catch(() => {})
      const timer = setTimeout(() => this.kill(), timeoutMs)
      await this.exited
      clearTimeout(timer)
    }
  }
}


/**
 * After a fault: reads with `read` on each worker until that process serves from its cache again
 * (two more hits; bounded by count, not time) and answers how many answers differed from
 * `expected`. Throws when a worker does not serve from its cache again within 400 reads.
 */
export async function staleUntilServing(workers: WorkerProcess[], read: (worker: WorkerProcess) => Promise<unknown>, expected: unknown): Promise<number> {
  const want = JSON.stringify(expected)
  let stale = 0
  for (const worker of workers) {
    const hits = async () => {
      const m = await worker.metrics()
      return m.hitsL1 + m.hitsL2
    }
    const before = await hits()
    let serving = false
    for (let reads = 0; reads < 400 && !serving; reads++) {
      if (JSON.stringify(await read(worker)) !== want) stale++
      serving = (await hits()) > before + 1
      if (!serving) await new Promise((resolve) => setTimeout(resolve, 10))
    }
    if (!serving) throw new Error('the cache does not serve again after the fault')
  }
  return stale
}
