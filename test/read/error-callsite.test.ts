// Errors of cached reads point at the caller's line as Prisma's do for the plain client: the same
// message, location and code frame (src/prisma/callsite.ts). Before, a cached read's error said
// "Invalid `prisma.user.count()` invocation:" with no location. Each call below stands on a line
// of its own, so that the plain and the cached call are one line and one message apart only by
// the client's name, which the test replaces.
import { beforeEach, describe, expect, it } from 'vitest'
import { cachedClient, resetTables, useDatabase } from '../support/db.js'
import { useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()
let run = 0

beforeEach(async () => {
  await resetTables(ctx.db.prisma)
})

/** What the two calls below need of a client, plain or cached. */
interface Reader {
  user: {
    findUniqueOrThrow(args: { where: { id: number } }): PromiseLike<unknown>
    count(args: { where: never }): PromiseLike<unknown>
  }
}

async function messageOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call()
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected the call to fail')
}

/** Missing row: one line, called with either client. */
async function missing(db: Reader) {
  return await db.user.findUniqueOrThrow({ where: { id: 424242 } })
}

/** A validation error: Prisma renders the arguments into the code frame. */
async function invalid(db: Reader) {
  const n = await db.user.count({ where: { nope: 1 } as never })
  return n
}

describe.each([
  ['L1+L2', {}],
  ['L2 only', { l1: false as const }],
  ['L1 only', { redis: undefined }],
])('a cached read that fails, %s', (_name, tier) => {
  const cached = () => cachedClient(ctx.db.prisma, { redis: redisCtx.redis, namespace: `${redisCtx.namespace}.${run++}`, ...tier })

  it('findUniqueOrThrow of a missing row: the plain client message, location and code frame; again when the null is a hit', async () => {
    const prisma = cached()
    const plain = await messageOf(() => missing(ctx.db.prisma))
    expect(plain).toContain('error-callsite.test.ts:37:')
    expect(await messageOf(() => missing(prisma))).toBe(plain)
    expect(await messageOf(() => missing(prisma))).toBe(plain) // the null cached by the first call
    prisma.$cache.close()
  })

  it('a validation error: the plain client message, with the arguments in the code frame', async () => {
    const prisma = cached()
    const plain = await messageOf(() => invalid(ctx.db.prisma))
    expect(plain).toContain('error-callsite.test.ts:42:')
    expect(await messageOf(() => invalid(prisma))).toBe(plain)
    prisma.$cache.close()
  })

  it('class, code and meta stay those of Prisma', async () => {
    const prisma = cached()
    const error = (await missing(prisma).catch((e: unknown) => e)) as { name: string; code: string; meta: unknown }
    const plainError = (await missing(ctx.db.prisma).catch((e: unknown) => e)) as typeof error
    expect([error.constructor, error.name, error.code, error.meta]).toEqual([plainError.constructor, plainError.name, plainError.code, plainError.meta])
    prisma.$cache.close()
  })
})
