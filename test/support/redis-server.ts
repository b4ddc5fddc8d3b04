import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'

const exec = promisify(execFile)
const running = new Set<number>()
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Bounded polling for effects that happen in the background (a server starting or exiting). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, tries = 400, everyMs = 25): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return
    await sleep(everyMs)
  }
  throw new Error(`gave up waiting for ${what}`)
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * A redis-server of a test's own, on a free port, with its data folder in a temporary directory
 * (persistence, replication, maxmemory are the test's arguments); killed when the worker exits.
 */
export class OwnRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'ptc-redis-'))
  port = 0
  private pid: number | undefined

  constructor(private readonly args: string[] = []) {}

  async start(extra: string[] = []): Promise<void> {
    if (this.port === 0) this.port = await freePort()
    const pidFile = join(this.dir, 'redis.pid')
    await exec('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--daemonize', 'yes',
      '--pidfile', pidFile, '--dir', this.dir, '--logfile', join(this.dir, 'redis.log'),
      '--save', '', '--appendonly', 'no',
      ...this.args, ...extra,
    ])
    await until(() => this.cli('ping').then((out) => out === 'PONG', () => false), `redis-server on ${this.port}`)
    this.pid = Number(readFileSync(pidFile, 'utf8').trim())
    running.add(this.pid)
  }

  async cli(...args: string[]): Promise<string> {
    const { stdout } = await exec('redis-cli', ['-p', String(this.port), ...args], { timeout: 5000 })
    return stdout.trim()
  }

  /** Gone at once, as in a crash: whatever was not persisted is lost. */
  async kill(): Promise<void> {
    const pid = this.pid
    if (pid === undefined) return
    process.kill(pid, 'SIGKILL')
    await until(() => !alive(pid), `redis-server ${pid} to exit`)
    running.delete(pid)
    this.pid = undefined
  }

  async remove(): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * A test file's own redis-server, started before its tests and removed after, with a client on
 * it configured as applications run it (one retry per command).
 */
export function useOwnRedis(args: string[] = []): { server: OwnRedis; redis: () => Redis } {
  const server = new OwnRedis(args)
  let client: Redis | undefined
  beforeAll(async () => {
    await server.start()
    client = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1 })
  })
  afterAll(async () => {
    client?.disconnect()
    await server.remove()
  })
  return { server, redis: () => client! }
}
