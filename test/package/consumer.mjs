// An ESM application of the built package: `import` by package name, one cached read and a write.
import { withCache } from 'prisma-tiered-cache'
import { run } from './consumer-run.mjs'

await run(withCache, import.meta.resolve('prisma-tiered-cache'))
