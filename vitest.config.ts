import { defineConfig } from 'vitest/config'

/** The core correctness suite, run again against a real 3-master Redis Cluster. */
const clusterSuite = [
  'test/tiers/l2.test.ts',
  'test/invalidation/invalidation.test.ts',
  'test/invalidation/fine-grained.test.ts',
  'test/invalidation/interleaving.test.ts',
  'test/invalidation/write-rules.test.ts',
  'test/read/partition.test.ts',
]

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
          globalSetup: ['test/support/global-setup.ts'],
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: 'tsconfig.check.json' },
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: clusterSuite,
          env: { PTC_REDIS: 'cluster' },
          globalSetup: ['test/support/global-setup.ts', 'test/support/cluster-setup.ts'],
        },
      },
    ],
  },
})
