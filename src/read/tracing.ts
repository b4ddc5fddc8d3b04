import { createRequire } from 'node:module'
import type * as Otel from '@opentelemetry/api'
import type { CacheSpan, CacheTracer } from '../config/options.js'
import type { ResolvedOptions } from '../config/resolve.js'
import { CacheConfigError } from '../errors.js'
import { newInfo, type CacheInfo } from './cache-info.js'
import type { QueryRunner } from './request.js'

/** What a traced read is given: its promise (prisma/prisma-promise.ts), whose info it fills. */
interface TracedRunner extends QueryRunner {
  info: CacheInfo | undefined
}

/** `ReadPath`'s face to the Prisma promise, which `TracedReads` wraps. */
interface Reads {
  read(model: string, operation: string, args: unknown, runner: QueryRunner, inTransaction: boolean): unknown
  bypassed(model: string, operation: string, reason: 'transaction'): void
}

type OtelApi = Pick<typeof Otel, 'context' | 'trace'>

const SPAN_KIND_INTERNAL = 0
const STATUS_ERROR = 2

/**
 * The reads as `withCache()` serves them: `reads` itself without `tracing`, so that untraced
 * clients pay nothing (not a branch: this wrapper is simply absent); with it, reads wrapped in
 * a span each. The API is loaded here, once, only when asked: it is an optional peer dependency.
 */
export function tracedReads<R extends Reads>(reads: R, options: ResolvedOptions): R | TracedReads {
  if (options.tracing === undefined) return reads
  const api = loadApi()
  const tracer = options.tracing.tracer ?? api.trace.getTracer('prisma-tiered-cache')
  return new TracedReads(reads, tracer, api, options.now)
}

function loadApi(): OtelApi {
  try {
    // createRequire: the same line loads it from the ESM and the CommonJS build (scripts/build.ts)
    return createRequire(import.meta.url)('@opentelemetry/api') as OtelApi
  } catch {
    throw new CacheConfigError('tracing', 'needs the package @opentelemetry/api (npm i @opentelemetry/api)')
  }
}

/**
 * One span per read, `prisma-tiered-cache <Model>.<operation>`, filled from the read's CacheInfo
 * (the sink `.withCacheInfo()` uses, filled at the points where the read path decides how a read
 * is answered): the outcome is never computed twice. The read runs in the span's context, so a
 * miss's Prisma query (and `@prisma/instrumentation`'s spans) are its children
 * (test/metrics/tracing.test.ts, "a miss's query runs inside its span").
 */
export class TracedReads implements Reads {
  constructor(
    private readonly reads: Reads,
    private readonly tracer: CacheTracer,
    private readonly api: OtelApi,
    private readonly now: () => number,
  ) {}

  read(model: string, operation: string, args: unknown, runner: TracedRunner, inTransaction: boolean): unknown {
    const info = (runner.info ??= newInfo(this.now()))
    const attributes = { 'ptc.model': model, 'ptc.operation': operation }
    const span = this.tracer.startSpan(`prisma-tiered-cache ${model}.${operation}`, { kind: SPAN_KIND_INTERNAL, attributes })
    const { context, trace } = this.api
    return context.with(trace.setSpan(context.active(), span as Otel.Span), () => {
      let answer: unknown
      try {
        answer = this.reads.read(model, operation, args, runner, inTransaction)
      } catch (error) {
        failed(span, info, error)
        throw error
      }
      if (!isThenable(answer)) return ended(span, info, answer)
      // subscribed here, in the span's context: a lazy Prisma query (a bypass) starts inside it
      return Promise.resolve(answer).then(
        (value) => ended(span, info, value),
        (error: unknown) => {
          failed(span, info, error)
          throw error
        },
      )
    })
  }

  bypassed(model: string, operation: string, reason: 'transaction'): void {
    this.reads.bypassed(model, operation, reason)
  }
}

/** The span's outcome attributes: how the read was answered, never what it asked. */
function ended<T>(span: CacheSpan, info: CacheInfo, value: T): T {
  span.setAttribute('ptc.outcome', info.cacheStatus)
  if (info.tier !== undefined) span.setAttribute('ptc.tier', info.tier)
  if (info.reason !== undefined) span.setAttribute('ptc.bypass_reason', info.reason)
  span.end()
  return value
}

/** A failed read: its Prisma code or error class, never its message (Prisma's quote arguments). */
function failed(span: CacheSpan, info: CacheInfo, error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code
  span.setAttribute('error.type', typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown')
  span.setStatus({ code: STATUS_ERROR })
  ended(span, info, undefined)
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise || (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function')
}
