import { beforeEach, describe, expect, it } from 'vitest'
import { withCache } from '../../src/index.js'
import { Metrics } from '../../src/metrics/metrics.js'
import { prometheusText } from '../../src/metrics/prometheus.js'
import { resetTables, useDatabase } from '../support/db.js'
import { dropNamespace, useRedis } from '../support/redis.js'

const ctx = useDatabase()
const redisCtx = useRedis()

// ---------------------------------------------------------------------------------------------
// A strict reader of the text exposition format (0.0.4): every line must parse, every sample must
// follow its family's HELP and TYPE, families are contiguous, label values are unescaped.

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}
interface Family {
  help: string
  type: string
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/
const TYPES = new Set(['counter', 'gauge', 'summary', 'histogram', 'untyped'])

function parseExposition(text: string): Map<string, Family> {
  expect(text.endsWith('\n'), 'ends with a line feed').toBe(true)
  const families = new Map<string, Family>()
  const seen = new Set<string>()
  let current: string | undefined
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line)
    if (help) {
      expect(families.has(help[1]!), `one HELP for ${help[1]}`).toBe(false)
      families.set(help[1]!, { help: unescapeHelp(help[2]!), type: '', samples: [] })
      current = help[1]
    } else if (type) {
      expect(type[1], 'TYPE right after its HELP').toBe(current)
      expect(families.get(current!)!.type, `one TYPE for ${current}`).toBe('')
      expect(TYPES.has(type[2]!), `type ${type[2]}`).toBe(true)
      families.get(current!)!.type = type[2]!
    } else {
      expect(line.startsWith('#'), `no other comments: ${line}`).toBe(false)
      const sample = parseSample(line)
      const family = families.get(current!)
      expect(family?.type, `a sample after its family's TYPE: ${line}`).toBeTruthy()
      expect(familyOf(sample.name, family!.type), `${sample.name} belongs to ${current}`).toBe(current)
      const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`
      expect(seen.has(id), `no duplicate series ${id}`).toBe(false)
      seen.add(id)
      family!.samples.push(sample)
    }
  }
  return families
}

function parseSample(line: string): Sample {
  const name = NAME.exec(line)?.[0]
  expect(name, `a metric name: ${line}`).toBeDefined()
  let i = name!.length
  const labels: Record<string, string> = {}
  if (line[i] === '{') {
    i++
    while (line[i] !== '}') {
      const label = LABEL.exec(line.slice(i))?.[0]
      expect(label, `a label name in ${line}`).toBeDefined()
      i += label!.length
      expect(line.slice(i, i + 2), `=" after ${label}`).toBe('="')
      i += 2
      let value = ''
      for (; line[i] !== '"'; i++) {
        expect(i < line.length, `a closed label value in ${line}`).toBe(true)
        if (line[i] !== '\\') {
          value += line[i]
          continue
        }
        const escaped = { n: '\n', '\\': '\\', '"': '"' }[line[++i]!]
        expect(escaped, `a valid escape in ${line}`).toBeDefined()
        value += escaped
      }
      labels[label!] = value
      i++
      if (line[i] === ',') i++
    }
    i++
  }
  expect(line[i], `a space before the value: ${line}`).toBe(' ')
  const [text, timestamp, ...extra] = line.slice(i + 1).split(' ')
  expect(extra).toEqual([])
  if (timestamp !== undefined) expect(timestamp).toMatch(/^-?\d+$/)
  expect(text, `a number: ${line}`).toMatch(/^(NaN|[+-]Inf|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$/)
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text)
  return { name: name!, labels, value }
}

function familyOf(sample: string, type: string): string {
  if (type === 'summary') return sample.replace(/_(sum|count)$/, '')
  if (type === 'histogram') return sample.replace(/_(sum|count|bucket)$/, '')
  return sample
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'))
}

/** The value of one series, found by its labels. */
function value(families: Map<string, Family>, sample: string, labels: Record<string, string> = {}): number | undefined {
  const family = families.get(familyOf(sample, 'summary'))
  return family?.samples.find((s) => s.name === sample && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()))?.value
}

/** Conventions every family must follow. */
function checkConventions(families: Map<string, Family>): void {
  for (const [name, family] of families) {
    expect(name).toMatch(/^prisma_cache_/)
    expect(family.help.length).toBeGreaterThan(0)
    if (family.type === 'counter') {
      expect(name).toMatch(/_total$/)
      for (const s of family.samples) expect(Number.isInteger(s.value) && s.value >= 0, `${name} counts`).toBe(true)
    }
    if (family.type !== 'summary') continue
    const series = new Map<string, Sample[]>()
    for (const s of family.samples) {
      const { quantile: _, ...rest } = s.labels
      const key = JSON.stringify(rest)
      series.set(key, [...(series.get(key) ?? []), s])
    }
    for (const [labels, samples] of series) {
      const quantiles = samples.filter((s) => s.name === name)
      expect(quantiles.map((s) => s.labels.quantile), `${name}${labels} quantiles`).toEqual(['0.5', '0.95', '0.99'])
      expect(quantiles.map((s) => s.value)).toEqual([...quantiles.map((s) => s.value)].sort((a, b) => a - b))
      expect(samples.filter((s) => s.name === `${name}_sum`)).toHaveLength(1)
      expect(samples.filter((s) => s.name === `${name}_count`)).toHaveLength(1)
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('Prometheus exposition', () => {
  beforeEach(async () => {
    await resetTables(ctx.db.prisma)
  })

  it('escapes label values, and they parse back to the same values', () => {
    const metrics = new Metrics({ enabled: true, slowQueryMs: 0, clock: () => 0, now: () => 0 })
    const weird = 'We"ird\\Mo\ndel'
    metrics.for(weird, 'findMany').hitsL1 = 3
    metrics.for(weird, 'findMany').bypasses.policy = 2
    const text = prometheusText(metrics.state, { breaker: undefined, l1: undefined })
    expect(text).toContain('prisma_cache_hits_total{model="We\\"ird\\\\Mo\\ndel",operation="findMany",tier="l1"} 3\n')
    const families = parseExposition(text)
    checkConventions(families)
    expect(value(families, 'prisma_cache_hits_total', { model: weird, operation: 'findMany', tier: 'l1' })).toBe(3)
    expect(value(families, 'prisma_cache_bypasses_total', { model: weird, operation: 'findMany', reason: 'policy' })).toBe(2)
    expect(value(families, 'prisma_cache_bypasses_total', { model: weird, operation: 'findMany', reason: 'redisDown' })).toBe(0)
    expect(families.has('prisma_cache_breaker_open')).toBe(false) // no Redis, no breaker
  })

  it('exports a known workload on real services: counters, summaries with quantiles, gauges', async () => {
    const db = ctx.db.prisma
    for (let i = 1; i <= 4; i++) await db.user.create({ data: { email: `u${i}@example.com` } })
    const clock = { now: 0 }
    // each User findUnique by id takes `id` ms on the latency clock
    const timed = db.$extends({
      query: {
        user: {
          async findUnique({ args, query }) {
            const row = await query(args)
            clock.now += args.where.id!
            return row
          },
        },
      },
    })
    const ns = `${redisCtx.namespace}-prom`
    const prisma = timed.$extends(withCache({ redis: redisCtx.redis, namespace: ns, metrics: { clock: () => clock.now } }))
    try {
      await prisma.$cache.ready() // until the bus is up, L1 keeps entries for a second at most
      for (let id = 1; id <= 4; id++) await prisma.user.findUnique({ where: { id } }) // misses: 1, 2, 3, 4 ms
      for (let id = 1; id <= 4; id++) await prisma.user.findUnique({ where: { id } }) // L1 hits
      await prisma.user.findMany({ cacheStrategy: false })
      await prisma.$cache.invalidate({ models: ['Post'] })
      prisma.$cache.resetMetrics() // a window for metrics(); Prometheus counters keep counting
      await prisma.user.findUnique({ where: { id: 2 } })
      expect(prisma.$cache.metrics()).toMatchObject({ hits: 1, misses: 0 })

      const families = parseExposition(prisma.$cache.prometheus())
      checkConventions(families)
      const op = { model: 'User', operation: 'findUnique' }
      expect(value(families, 'prisma_cache_hits_total', { ...op, tier: 'l1' })).toBe(5)
      expect(value(families, 'prisma_cache_hits_total', { ...op, tier: 'l2' })).toBe(0)
      expect(value(families, 'prisma_cache_misses_total', op)).toBe(4)
      expect(value(families, 'prisma_cache_bypasses_total', { model: 'User', operation: 'findMany', reason: 'cacheStrategy' })).toBe(1)
      expect(value(families, 'prisma_cache_invalidations_total', { model: 'Post', cause: 'invalidate' })).toBe(1)
      expect(value(families, 'prisma_cache_redis_errors_total')).toBe(0)
      expect(value(families, 'prisma_cache_db_query_duration_seconds_count', op)).toBe(4)
      expect(value(families, 'prisma_cache_db_query_duration_seconds_sum', op)).toBeCloseTo(0.01, 12)
      // ranks 2, 4, 4 of [1, 2, 3, 4] ms, within the histogram's 1/64
      const p50 = value(families, 'prisma_cache_db_query_duration_seconds', { ...op, quantile: '0.5' })!
      expect(Math.abs(p50 - 0.002)).toBeLessThanOrEqual(0.002 / 64)
      expect(value(families, 'prisma_cache_db_query_duration_seconds', { ...op, quantile: '0.99' })).toBe(0.004)
      // 5 hits: id 1, 2, 3, 4 and 2 again; the shape's mean miss is 2.5 ms
      expect(value(families, 'prisma_cache_db_time_saved_seconds', op)).toBeCloseTo(0.0125, 12)
      expect(value(families, 'prisma_cache_breaker_open')).toBe(0)
      expect(value(families, 'prisma_cache_breaker_transitions_total', { state: 'open' })).toBe(0)
      expect(value(families, 'prisma_cache_l1_entries')).toBe(prisma.$cache.metrics().l1!.entries)
      expect(families.get('prisma_cache_db_query_duration_seconds')!.type).toBe('summary')
      expect(families.get('prisma_cache_breaker_open')!.type).toBe('gauge')
    } finally {
      prisma.$cache.close()
      await dropNamespace(redisCtx.redis, ns)
    }
  })
})
