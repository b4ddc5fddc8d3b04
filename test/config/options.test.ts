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
    expect(() => resolveOptions({ defaults: { ttl: '60' as never } })).toThrow('got "60"')
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
