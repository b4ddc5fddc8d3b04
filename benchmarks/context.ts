// What every scenario gets: the database clients, an admin Redis connection, and a factory of
// contender instances. Each instance gets a Redis prefix of its own (`ptcbench_<run>_<n>_<id>`),
// so no contender ever reads another's keys, and disposing of an instance deletes its keys
// (SCAN + UNLINK); whatever is left at the end of the run goes the same way.
import { Redis } from 'ioredis'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { Contender, ContenderFactory } from './contenders/index.js'
import { scanUnlink } from './redis-keys.js'
import type { CountingClient } from './setup.js'

export class BenchContext {
  readonly runId = `${Date.now().toString(36)}${process.pid.toString(36)}`
  readonly runPrefix = `ptcbench_${this.runId}_`
  readonly admin: Redis
  private instances = 0
  private readonly open = new Set<Contender>()

  constructor(
    /** A plain client: what timing scenarios wrap. */
    readonly base: PrismaClient,
    /** A client that counts its statements: what counting scenarios wrap. */
    readonly counting: CountingClient,
    readonly redisUrl: string,
  ) {
    this.admin = new Redis(redisUrl)
  }

  /** A fresh instance of a contender over `base` (the plain client unless told). */
  create(factory: ContenderFactory, base: PrismaClient = this.base): Contender {
    const prefix = `${this.runPrefix}${++this.instances}_${factory.id.replace(/[^a-z0-9]/gi, '').toLowerCase()}`
    const contender = factory.create({ base, prefix, redisUrl: this.redisUrl })
    this.open.add(contender)
    return contender
  }

  /** Closes an instance and deletes its Redis keys. */
  async dispose(contender: Contender): Promise<void> {
    this.open.delete(contender)
    await contender.close()
    if (contender.redisPrefix !== undefined) await scanUnlink(this.admin, `${contender.redisPrefix}*`)
  }

  /** Runs `fn` with a fresh instance, disposed of afterwards whatever happens. */
  async with<T>(factory: ContenderFactory, fn: (c: Contender) => Promise<T>, base?: PrismaClient): Promise<T> {
    const contender = this.create(factory, base)
    try {
      return await fn(contender)
    } finally {
      await this.dispose(contender)
    }
  }

  /** End of run: closes what is still open, deletes every key of this run. Returns keys deleted. */
  async cleanup(): Promise<number> {
    for (const contender of [...this.open]) await this.dispose(contender).catch(() => {})
    const deleted = await scanUnlink(this.admin, `${this.runPrefix}*`)
    await this.admin.quit()
    return deleted
  }
}
