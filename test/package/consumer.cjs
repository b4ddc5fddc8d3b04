// A CommonJS application of the built package: `require` by package name, one cached read and a write.
const { withCache } = require('prisma-tiered-cache')

import('./consumer-run.mjs').then(({ run }) => run(withCache, require.resolve('prisma-tiered-cache')))
