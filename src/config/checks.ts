import { CacheConfigError } from '../errors.js'

/**
 * A misspelt option (`redisTimeoutMS`, `tll`) would be ignored without a word: it is an error
 * naming its path, and the known option it is closest to when there is one.
 */
export function onlyKnown(prefix: string, value: object, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue
    const near = closest(key, allowed)
    const hint = near ? ` (did you mean ${prefix}${near}?)` : ''
    throw new CacheConfigError(`${prefix}${key}`, `is an unknown option${hint}; known here: ${allowed.join(', ')}`)
  }
}

/** An option that takes an object `{ ... }` and was given something else. */
export function objectOrAbsent(path: string, value: unknown, shape: string, alsoFalse = false): void {
  if (value === undefined || (alsoFalse && value === false)) return
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CacheConfigError(path, `must be ${alsoFalse ? 'false or ' : ''}an object ${shape}, got ${shown(value)}`)
  }
}

/** A value as an error message shows it: strings quoted, so that '60' is not mistaken for 60. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  return String(value)
}

/** Same letters ignoring case, or at most two edits apart (and not a short word replaced). */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of allowed) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : distance(key, candidate)
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return bestDistance <= Math.min(2, Math.floor(key.length / 3)) ? best : undefined
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length]!
}
