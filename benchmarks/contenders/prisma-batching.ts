// Prisma's built-in findUnique batching: no cache at all, but findUnique calls on one model made in
// the same tick are merged by Prisma into one SQL statement (`WHERE id IN (...)`). It is the same
// client as `uncached`; the N+1 scenario calls it with every author lookup issued in one tick,
// while its `uncached` row awaits each lookup in turn (the textbook N+1).
import type { ContenderFactory } from './types.js'

export const prismaBatching: ContenderFactory = {
  id: 'prisma-batching',
  label: "Prisma's findUnique batching (uncached)",
  caches: false,
  redis: false,
  description:
    'No cache; findUnique calls made in one tick are merged by Prisma into one query. Only meaningful for concurrent findUnique (the N+1 scenario).',
  create: ({ base }) => ({
    id: 'prisma-batching',
    label: "Prisma's findUnique batching (uncached)",
    client: base,
    reset: async () => {},
    close: async () => {},
  }),
}
