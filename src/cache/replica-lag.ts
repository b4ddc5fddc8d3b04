import type { ResolvedOptions } from '../config/resolve.js'

/** Streaming replicas under ordinary load stay well within this; a lag beyond it shows in the replica's own monitoring first. */
const DEFAULT_UNDER_REPLICAS_MS = 5000

/**
 * `replicaLagMs` for a client: the user's value, else a default when `withCache()` extends a
 * client that Prisma's `@prisma/extension-read-replicas` extended (it adds `$replica`), because
 * then every miss may read a replica (test/read/read-replicas.test.ts runs with the default).
 */
export function replicaLagFor(options: ResolvedOptions, client: object): number {
  if (options.replicaLagMs !== undefined) return options.replicaLagMs
  return '$replica' in client ? DEFAULT_UNDER_REPLICAS_MS : 0
}
