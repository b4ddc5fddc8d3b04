import type { EntryPolicy } from '../config/policy.js'

/**
 * A negative answer: nothing found. A `null` of findUnique/findFirst (the OrThrow variants share
 * their entries), an empty list of findMany/groupBy, a count of zero (`count({ select })`: every
 * field zero). An aggregate always answers something, and is never negative.
 */
export function isNegative(keyOperation: string, value: unknown): boolean {
  if (value === null) return true
  if (Array.isArray(value)) return value.length === 0 && (keyOperation === 'findMany' || keyOperation === 'groupBy')
  if (keyOperation !== 'count') return false
  if (value === 0) return true
  return typeof value === 'object' && Object.values(value as object).every((n) => n === 0)
}

/** Milliseconds an answer stays fresh: the policy's `negativeTtl` for a negative one (when set), else its `ttl`. */
export function freshMs(policy: EntryPolicy, keyOperation: string, value: unknown): number {
  return policy.negativeTtlMs !== undefined && isNegative(keyOperation, value) ? policy.negativeTtlMs : policy.ttlMs
}
