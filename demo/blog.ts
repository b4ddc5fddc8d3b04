// `npm run demo`: a small blog API's read-heavy traffic (feed, post pages, author pages, comment
// counts, occasional writes) through the cached client, then what the cache did.
import { withCache } from '../src/index.js'
import { benchDatabase } from '../benchmarks/setup.js'

const REQUESTS = 3000
const base = await benchDatabase()
let queries = 0
const counted = base.$extends({
  query: { $allOperations: ({ args, query }) => (queries++, query(args)) },
})
const prisma = counted.$extends(withCache({ defaults: { ttl: 60 }, models: { Comment: { ttl: 10 } } }))

function pick(n: number): number {
  // a few hot items get most traffic, as on a real site
  return 1 + Math.floor(n * Math.random() ** 3)
}

const started = performance.now()
let writes = 0
for (let i = 0; i < REQUESTS; i++) {
  const roll = Math.random()
  if (roll < 0.3) {
    await prisma.post.findMany({
      where: { published: true },
      orderBy: { id: 'desc' },
      take: 20,
      include: { author: { select: { id: true, name: true } } },
    })
  } else if (roll < 0.65) {
    await prisma.post.findUnique({ where: { id: pick(1000) }, include: { comments: { take: 10 } } })
  } else if (roll < 0.85) {
    await prisma.user.findUnique({ where: { id: pick(100) }, include: { _count: { select: { posts: true } } } })
  } else if (roll < 0.97) {
    await prisma.comment.count({ where: { postId: pick(1000) } })
  } else {
    writes++
    await prisma.comment.create({ data: { body: 'nice post', postId: pick(1000), authorId: pick(100) } })
  }
  if ((i + 1) % 500 === 0) process.stdout.write(`  ${i + 1}/${REQUESTS} requests\r`)
}
const elapsed = performance.now() - started
const m = prisma.$cache.metrics()
console.log(`\n${REQUESTS} requests (${writes} writes) in ${elapsed.toFixed(0)} ms: ${queries} database queries`)
console.log(`cache hit rate ${(m.hitRate * 100).toFixed(1)}% (${m.hits} hits, ${m.misses} misses)`)
for (const [model, c] of Object.entries(m.models)) {
  console.log(`  ${model.padEnd(8)} L1 hits ${c.hitsL1}, misses ${c.misses}, invalidations ${c.invalidations}`)
}
await base.$disconnect()
