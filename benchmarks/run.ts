// `npm run bench`: every scenario, in one process and one run, printed as Markdown.
import { Redis } from 'ioredis'
import { benchDatabase, redisUrl } from './setup.js'
import { hotReadScenarios } from './hot-reads.js'

const base = await benchDatabase()
const redis = new Redis(redisUrl)
try {
  console.log(`# prisma-tiered-cache benchmarks (${new Date().toISOString()}, node ${process.version})\n`)
  const hot = await hotReadScenarios(base, redis)
  console.log(hot.markdown)
} finally {
  await base.$disconnect()
  redis.disconnect()
}
