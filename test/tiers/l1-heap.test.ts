// L1's budget bounds the heap it really takes (issue 14.7): 200,000 distinct rows read through an
// L1 of `maxBytes`, and the heap grown over what the same reads take without a cache, at most 2×
// the budget. The rows are real (a name, an email, a date), not cached nulls.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { beforeAll, describe, expect, it } from 'vitest'
import { cachedClient, useDatabase } from '../support/db.js'

const ctx = useDatabase()
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const ROWS = 200_000
const ROUND = 2_000

async function collect(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

beforeAll(async () => {
  await ctx.db.prisma.$executeRawUnsafe(
    `INSERT INTO "User" (email, name) SELECT 'user' || i || '@example.com', 'User number ' || i FROM generate_series(1, ${ROWS}) AS i`,
  )
}, 120_000)

describe('L1 memory', () => {
  it('200,000 distinct rows through a 10 MB L1: the heap grows by at most 2× maxBytes', async () => {
    const maxBytes = 10 * 1024 * 1024
    const readAll = async (client: { user: { findUnique: (args: { where: { id: number } }) => Promise<unknown> } }) => {
      for (let start = 1; start <= ROWS; start += ROUND) {
        await Promise.all(Array.from({ length: ROUND }, (_, i) => client.user.findUnique({ where: { id: start + i } })))
      }
    }
    // the same reads uncached first: what Prisma and the driver keep is not L1's
    await readAll(ctx.db.prisma)
    const prisma = cachedClient(ctx.db.prisma, { l1: { maxBytes } })
    await prisma.user.findUnique({ where: { id: 1 } })
    await collect()
    const before = process.memoryUsage().heapUsed
    await readAll(prisma)
    await collect()
    const grown = process.memoryUsage().heapUsed - before
    const { l1 } = prisma.$cache.metrics()
    const ratio = grown / maxBytes
    console.log(`[l1 heap] ${ROWS} rows: ${l1!.entries} entries, ${(l1!.bytes / 1e6).toFixed(1)} MB charged, heap +${(grown / 1e6).toFixed(1)} MB, ${ratio.toFixed(2)}× maxBytes`)
    expect(l1!.bytes).toBeLessThanOrEqual(maxBytes)
    expect(l1!.entries).toBeGreaterThan(1000) // the budget is used, not refused
    expect(ratio).toBeLessThan(2)
  }, 300_000)
})
