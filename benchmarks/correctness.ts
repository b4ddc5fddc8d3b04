// Answers are compared with uncached Prisma's: deep equality including classes (a Date must be a
// Date, a Decimal a Decimal, Bytes a Uint8Array), reported as the first difference found.
import { isDeepStrictEqual } from 'node:util'

/** `undefined` when equal, else where and how the answers differ. */
export function difference(actual: unknown, expected: unknown, path = '$'): string | undefined {
  if (isDeepStrictEqual(actual, expected)) return undefined
  if (typeof actual !== typeof expected || actual === null || expected === null || typeof expected !== 'object') {
    return `${path}: ${describe(actual)} instead of ${describe(expected)}`
  }
  const a = actual as Record<string, unknown>
  const e = expected as Record<string, unknown>
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(e)) return `${path}: ${describe(actual)} instead of ${describe(expected)}`
  if (expected instanceof Date) return `${path}: ${describe(actual)} instead of ${describe(expected)}`
  if (Array.isArray(e) && (a as unknown as unknown[]).length !== e.length) {
    return `${path}: ${(a as unknown as unknown[]).length} items instead of ${e.length}`
  }
  for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
    const diff = difference(a[key], e[key], Array.isArray(e) ? `${path}[${key}]` : `${path}.${key}`)
    if (diff !== undefined) return diff
  }
  return `${path}: differs`
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (value instanceof Date) return `Date(${value.toISOString()})`
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === 'object') return Array.isArray(value) ? `array(${value.length})` : (value.constructor?.name ?? 'object')
  return `${typeof value} ${String(value)}`
}

/** A scenario's verdict on one contender's answers. */
export interface Verdict {
  ok: boolean
  /** first difference, when not ok */
  detail?: string
}

export function verdict(actual: unknown, expected: unknown): Verdict {
  const detail = difference(actual, expected)
  return detail === undefined ? { ok: true } : { ok: false, detail }
}

/** Several answers: ok only if all are. */
export function combine(...verdicts: Verdict[]): Verdict {
  return verdicts.find((v) => !v.ok) ?? { ok: true }
}

export function formatVerdict(v: Verdict | undefined): string {
  if (v === undefined) return '–'
  return v.ok ? 'equal' : `**WRONG**: ${v.detail}`
}
