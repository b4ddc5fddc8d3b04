// Baseline: plain Prisma 7 with the pg driver adapter, no cache. Concurrent findUnique calls made
// in one tick are still merged by Prisma's own batching (see prisma-batching.ts for the N+1 row).
import type { ContenderFactory } from './types.js'

export const uncached: ContenderFactory = {
  id: 'uncached',
  label: 'uncached Prisma',
  caches: false,
  redis: false,
  description: 'PrismaClient with @prisma/adapter-pg, no cache: every call is a database query.',
  create: ({ base }) => ({
    id: 'uncached',
    label: 'uncached Prisma',
    client: base,
    reset: async () => {},
    close: async () => {},
  }),
}
