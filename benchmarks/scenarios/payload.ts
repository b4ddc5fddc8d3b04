// Scenario: what a cached answer costs in Redis. One read per fresh contender instance, then the
// keys under its prefix: STRLEN (the stored value) and MEMORY USAGE (value + key + overhead),
// per row, next to the answer as JSON (what JSON.stringify makes of Prisma's result).
import type { PrismaClient } from '../../generated/prisma/client.js'
import type { BenchContext } from '../context.js'
import { bentocache, prismaExtensionRedis, tieredL1L2, type ContenderFactory } from '../contenders/index.js'
import { scanKeys } from '../redis-keys.js'
import { markdownTable, type ScenarioResult } from '../report.js'
import { manyArgs } from './find-many-include.js'

const reads: { name: string; rows: number; call: (c: PrismaClient) => PromiseLike<unknown> }[] = [
  { name: 'user.findUnique (1 row)', rows: 1, call: (c) => c.user.findUnique({ where: { id: 42 } }) },
  { name: 'post.findMany + author (100 rows)', rows: 100, call: (c) => c.post.findMany(manyArgs) },
]

interface Stored {
  contender: string
  read: string
  rows: number
  keys: number
  strlen: number
  memory: number
  json: number
}

export async function payload(ctx: BenchContext): Promise<ScenarioResult> {
  const stored: Stored[] = []
  const contenders: ContenderFactory[] = [tieredL1L2, prismaExtensionRedis, bentocache]
  for (const read of reads) {
    const json = Buffer.byteLength(JSON.stringify(await read.call(ctx.base)))
    for (const factory of contenders) {
      await ctx.with(factory, async (c) => {
        await read.call(c.client)
        await read.call(c.client)
        await new Promise((r) => setTimeout(r, 50)) // let any background store land
        const keys = (await scanKeys(ctx.admin, `${c.redisPrefix}*`)).filter((k) => c.isEntryKey?.(k) ?? true)
        let strlen = 0
        let memory = 0
        for (const key of keys) {
          strlen += await ctx.admin.strlen(key)
          memory += Number((await ctx.admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0)
        }
        stored.push({ contender: factory.label, read: read.name, rows: read.rows, keys: keys.length, strlen, memory, json })
      })
    }
  }
  const table = markdownTable(
    ['read', 'contender', 'entry keys', 'value bytes (STRLEN)', 'MEMORY USAGE', 'bytes per row (STRLEN)', 'answer as JSON', 'vs JSON'],
    stored.map((s) => [
      s.read,
      s.contender,
      s.keys,
      s.strlen,
      s.memory,
      Math.round(s.strlen / s.rows),
      s.json,
      `${((s.strlen / s.json) * 100).toFixed(0)}%`,
    ]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  )
  return {
    id: 'payload',
    title: 'Payload bytes in Redis',
    description:
      'One read through a fresh instance of each Redis-backed contender, then every value key under its prefix (counters excluded): ' +
      'STRLEN is the stored value, MEMORY USAGE adds the key and Redis\' overhead. "answer as JSON" is `JSON.stringify` of uncached Prisma\'s result. ' +
      'This library stores msgpack (with records) plus its generation snapshot, brotli-compressed above 32 KiB; the others store JSON text with an envelope.',
    rows: [],
    after: [table],
    data: stored,
  }
}
