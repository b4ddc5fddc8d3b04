// Type-level tests of the metrics API: the snapshot, the summary, Prometheus text and event payloads.
import { describe, expectTypeOf, it } from 'vitest'
import type { PrismaClient } from '../../generated/prisma/client.js'
import {
  withCache,
  type BypassReason,
  type CacheEvents,
  type Distribution,
  type HitEvent,
  type InvalidateEvent,
  type MetricsSnapshot,
  type MetricsSummary,
  type MissEvent,
} from '../../src/index.js'

declare const base: PrismaClient

describe('metrics API types', () => {
  it('types the snapshot, per model and per operation', () => {
    const prisma = base.$extends(withCache({ metrics: { summaryIntervalMs: 60_000, slowQueryMs: 100 } }))
    const m = prisma.$cache.metrics()
    expectTypeOf(m).toEqualTypeOf<MetricsSnapshot>()
    expectTypeOf(m.hitRate).toEqualTypeOf<number>()
    expectTypeOf(m.latency.db).toEqualTypeOf<Distribution | undefined>()
    expectTypeOf(m.models.User!.operations.findUnique!.bypassReasons).toEqualTypeOf<Record<BypassReason, number>>()
    expectTypeOf(m.breaker).toEqualTypeOf<{ state: 'open' | 'closed'; opened: number; closed: number } | undefined>()
    expectTypeOf(prisma.$cache.prometheus()).toEqualTypeOf<string>()
    expectTypeOf(prisma.$cache.logSummary()).toEqualTypeOf<MetricsSummary>()
    expectTypeOf(prisma.$cache.resetMetrics()).toEqualTypeOf<void>()
  })

  it('accepts metrics: false and typed listeners, and rejects what is not one', () => {
    base.$extends(withCache({ metrics: false }))
    base.$extends(
      withCache({
        events: {
          onHit: (e) => expectTypeOf(e).toEqualTypeOf<HitEvent>(),
          onMiss: (e) => expectTypeOf(e.durationMs).toEqualTypeOf<number>(),
          onInvalidate: (e) => expectTypeOf(e).toEqualTypeOf<InvalidateEvent>(),
        },
      }),
    )
    expectTypeOf<NonNullable<CacheEvents['onMiss']>>().parameter(0).toEqualTypeOf<MissEvent>()
    // @ts-expect-error metrics is false or an options object
    withCache({ metrics: true })
    // @ts-expect-error not an event
    withCache({ events: { onhit: () => {} } })
    // @ts-expect-error milliseconds are numbers
    withCache({ metrics: { slowQueryMs: '100' } })
  })
})
