import { bentocache } from './bentocache.js'
import { prismaBatching } from './prisma-batching.js'
import { prismaExtensionRedis } from './prisma-extension-redis.js'
import { tieredL1, tieredL1L2, tieredL1L2Model, tieredL1L2Strict, tieredL2 } from './tiered.js'
import { uncached } from './uncached.js'
import type { ContenderFactory } from './types.js'

export type { CacheStats, Contender, ContenderContext, ContenderFactory } from './types.js'
export { bentocache, prismaBatching, prismaExtensionRedis, tieredL1, tieredL1L2, tieredL1L2Model, tieredL1L2Strict, tieredL2, uncached }

/** Every cache, in report order. */
export const caches: ContenderFactory[] = [tieredL1L2, tieredL2, tieredL1, prismaExtensionRedis, bentocache]
