import { describe, expect, it } from 'vitest'
import { CacheConfigError } from '../../src/errors.js'
import { resolveOptions } from '../../src/config/resolve.js'
import { Policy } from '../../src/config/policy.js'

describe('options', () => {
  it('fills in documented defaults, in milliseconds', () => {
    const resolved = resolveOptions()
    expect(resolved.namespace).toBe('ptc')
    expect(resolved.l1).toEqual({ maxBytes: 64 * 1024 * 1024, maxEntryBytes: 4 * 1024 * 1024, consistency: 'bus', degradedTtlMs: 1000 })
    expect(resolved.stampede).toEqual({ leaseMs: 5000, waitMs: 10_000, leaseAboveMs: 5 })
    expect(resolved.invalidation).toBe('row')
    expect(resolved.defaults.ttlMs).toBe(60_000)
    expect(resolved.defaults.swrMs).toBe(0)
  })

  it('shows a string given for a number as a string', () => {
    expect(() => resolveOptions({ defaults: { ttl: '60' as never } })).toThrow('defaults.ttl must be a non-negative number of seconds, got "60"')
    expect(() => resolveOptions({ redisTimeoutMs: '250' as never })).toThrow('redisTimeoutMs must be a positive number, got "250"')
    expect(() => resolveOptions({ l1: { maxBytes: '1048576' as never } })).toThrow('l1.maxBytes must be an integer of at least 1024 bytes, got "1048576"')
  })

  it('names an unknown option at any level, with the known one it is closest to', () => {
    const message = (options: unknown) => {
      try {
        resolveOptions(options as never)
      } catch (e) {
        return (e as Error).message
      }
      return 'accepted'
    }
    expect(message({ redisTimeoutMS: 100 })).toBe(
      'prisma-tiered-cache: redisTimeoutMS is an unknown option (did you mean redisTimeoutMs?); known here: ' +
        'namespace, redis, invalidation, optIn, partition, redisTimeoutMs, replicaLagMs, breaker, l1, stampede, defaults, models, logger, metrics, events, tracing, now',
    )
    expect(message({ models: { Author: { tll: 5 } } })).toMatch(/^prisma-tiered-cache: models\.Author\.tll is an unknown option \(did you mean models\.Author\.ttl\?\)/)
    expect(message({ defaults: { ttl: 5, swrr: 1 } })).toMatch(/defaults\.swrr is an unknown option \(did you mean defaults\.swr\?\)/)
    expect(message({ l1: { maxbytes: 1024 } })).toMatch(/l1\.maxbytes is an unknown option \(did you mean l1\.maxBytes\?\)/)
    expect(message({ breaker: { failure: 2 } })).toMatch(/breaker\.failure is an unknown option \(did you mean breaker\.failures\?\)/)
    expect(message({ stampede: { lease: 1 } })).toMatch(/stampede\.lease is an unknown option; known here/)
    expect(message({ metrics: { summaryInterval: 1 } })).toMatch(/metrics\.summaryInterval is an unknown option/)
    expect(message({ models: { Post: { invalidates: { tag: ['x'] } } } })).toMatch(/models\.Post\.invalidates\.tag is an unknown option \(did you mean models\.Post\.invalidates\.tags\?\)/)
    expect(message({ cache: true })).toMatch(/^prisma-tiered-cache: cache is an unknown option; known here/)
  })

  it('names an option given the wrong type, and what was given', () => {
    const cases: Array<[unknown, string]> = [
      [{ breaker: 5 }, 'breaker must be an object { failures, cooldownMs }, got 5'],
      [{ l1: true }, 'l1 must be false or an object { maxBytes, maxEntryBytes, consistency, degradedTtlMs }, got true'],
      [{ stampede: 'fast' }, 'stampede must be an object { leaseMs, waitMs, leaseAboveMs }, got "fast"'],
      [{ defaults: [60] }, 'defaults must be an object { ttl, swr, negativeTtl }, got an array'],
      [{ models: 'User' }, 'models must be an object { <Model>: false | { ttl?, swr?, operations?, invalidates? } }, got "User"'],
      [{ models: { User: { operations: 'findMany' } } }, 'models.User.operations must be an array of read operations, got "findMany"'],
      [{ namespace: 7 }, 'namespace must be 1–64 characters of [A-Za-z0-9_.-], got 7'],
      [{ now: 5 }, 'now must be a function returning epoch milliseconds, got 5'],
      [{ redis: 'redis://localhost' }, 'redis must be an ioredis client (Redis or Cluster), got "redis://localhost"'],
      [{ l1: { consistency: 'Strict' } }, `l1.consistency must be 'bus' or 'strict', got "Strict"`],
      [{ breaker: { failures: '3' } }, 'breaker.failures must be a positive number, got "3"'],
    ]
    for (const [options, message] of cases) {
      expect(() => resolveOptions(options as never), JSON.stringify(options)).toThrow(new CacheConfigError(message.split(' ')[0]!, message.slice(message.indexOf(' ') + 1)))
    }
  })

  it.each([
    [{ namespace: 'has space' }, 'namespace'],
    [{ l1: { maxBytes: 10 } }, 'l1.maxBytes'],
    [{ l1: { maxBytes: 4096, maxEntryBytes: 8192 } }, 'l1.maxEntryBytes'],
    [{ defaults: { ttl: -1 } }, 'defaults.ttl'],
    [{ models: { User: { ttl: Number.NaN } } }, 'models.User.ttl'],
    [{ models: { User: { operations: ['create'] } } }, 'models.User.operations'],
    [{ models: { User: 'yes' } }, 'models.User'],
    [{ invalidation: 'rows' }, 'invalidation'],
    [{ redisTimeoutMS: 100 }, 'redisTimeoutMS'],
    [{ models: { User: { tll: 5 } } }, 'models.User.tll'],
    [{ l1: { maxbytes: 1024 } }, 'l1.maxbytes'],
    [{ models: { Post: { invalidates: { tag: ['x'] } } } }, 'models.Post.invalidates.tag'],
    [{ stampede: { leaseAboveMs: -1 } }, 'stampede.leaseAboveMs'],
  ])('rejects %j naming %s', (options, option) => {
    let error: unknown
    try {
      resolveOptions(options as never)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(CacheConfigError)
    expect((error as CacheConfigError).option).toBe(option)
    expect((error as CacheConfigError).code).toBe('PTC_CONFIG')
  })
})

describe('policy', () => {
  const policy = new Policy(
    resolveOptions({
      defaults: { ttl: 30, swr: 5 },
      models: { Audit: false, Post: { ttl: 300, operations: ['findMany', 'count'] } },
    }),
  )

  it('applies model policy over defaults', () => {
    expect(policy.for('User', 'findUnique', undefined)).toMatchObject({ ttlMs: 30_000, swrMs: 5_000 })
    expect(policy.for('Post', 'findMany', undefined)).toMatchObject({ ttlMs: 300_000, swrMs: 5_000 })
    expect(policy.for('Post', 'findUnique', undefined)).toBeNull()
    expect(policy.for('Audit', 'findMany', undefined)).toBeNull()
  })

  it('lets cacheStrategy override ttl, swr and tags, but never enable a disabled model', () => {
    expect(policy.for('User', 'findMany', { ttl: 1, tags: ['a'] })).toEqual({ ttlMs: 1000, swrMs: 5000, tags: ['a'] })
    expect(policy.for('User', 'findMany', { ttl: 0 })).toBeNull()
    expect(policy.for('User', 'findMany', false)).toBeNull()
    expect(policy.for('Audit', 'findMany', { ttl: 10 })).toBeNull()
  })

  it('rejects a malformed cacheStrategy with an error naming it', () => {
    expect(() => policy.for('User', 'findMany', { ttl: -1 })).toThrow(/cacheStrategy.ttl/)
    expect(() => policy.for('User', 'findMany', { tags: [''] } as never)).toThrow(/cacheStrategy.tags/)
    expect(() => policy.for('User', 'findMany', 'fast' as never)).toThrow(/cacheStrategy/)
  })
})
