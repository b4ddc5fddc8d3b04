import { configDefaults, defineConfig } from 'vitest/config'

/** The core correctness suite, run again against a real 3-master Redis Cluster. */
const clusterSuite = [
  'test/tiers/l2.test.ts',
  'test/invalidation/invalidation.test.ts',
  'test/invalidation/fine-grained.test.ts',
  'test/invalidation/interleaving.test.ts',
  'test/invalidation/write-rules.test.ts',
  'test/read/partition.test.ts',
  'test/tiers/ioredis5.test.ts',
]

/** A PostgreSQL primary and a streaming replica of the test's own (initdb, pg_basebackup), behind @prisma/extension-read-replicas. */
const replicaSuite = ['test/read/read-replicas.test.ts']

/** The core correctness suite, run again against MariaDB (adapter-mariadb) and SQLite (adapter-better-sqlite3). */
const otherDatabaseSuite = [
  'test/read/read-path.test.ts',
  'test/read/batching.test.ts',
  'test/invalidation/invalidation.test.ts',
  'test/invalidation/fine-grained.test.ts',
  'test/invalidation/interleaving.test.ts',
  'test/read/collation.test.ts',
]

/** 8 interleaving seeds per tier, not 30: the seeds are about the cache's races, which PostgreSQL runs in full; these check each database's part. */
const fewerSeeds = { INTERLEAVING_SEEDS: '8' }

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file has its own database and key namespace; 2 cores make 2 workers the sweet spot.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'standalone',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...replicaSuite],
          globalSetup: ['test/support/global-setup.ts'],
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: 'tsconfig.check.json' },
        },
      },
      { extends: true, test: { name: 'replica', include: replicaSuite, globalSetup: ['test/support/global-setup.ts'] } },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: clusterSuite,
          env: { PTC_REDIS: 'cluster' },
          globalSetup: ['test/support/global-setup.ts', 'test/support/cluster-setup.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'mariadb', include: otherDatabaseSuite, env: { PTC_DB: 'mariadb', ...fewerSeeds }, globalSetup: ['test/support/global-setup.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'sqlite',
          // one-connection.test.ts: reads outside an open transaction, which only SQLite's one connection lets see its writes
          include: [...otherDatabaseSuite, 'test/invalidation/one-connection.test.ts'],
          env: { PTC_DB: 'sqlite', ...fewerSeeds },
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
})
