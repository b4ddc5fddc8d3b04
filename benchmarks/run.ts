// `npm run bench`: every scenario, in one process and one run, printed as Markdown.
import { benchDatabase } from './setup.js'
import { findUniqueScenario } from './find-unique.js'

const base = await benchDatabase()
try {
  console.log(`# prisma-tiered-cache benchmarks (${new Date().toISOString()}, node ${process.version})\n`)
  const findUnique = await findUniqueScenario(base)
  console.log(findUnique.markdown)
} finally {
  await base.$disconnect()
}
