/**
 * Operators whose operand is a value, not more query structure: their keys are kept, what is under
 * them never is. Under `equals`/`not`/`array_contains` of a Json field the operand is a user's JSON
 * document, whose object keys are data too.
 */
const VALUE_OPERATORS = new Set([
  'equals',
  'not',
  'in',
  'notIn',
  'has',
  'hasEvery',
  'hasSome',
  'array_contains',
  'array_starts_with',
  'array_ends_with',
  'string_contains',
  'string_starts_with',
  'string_ends_with',
  'set',
])

/** Past this depth a shape stops descending: a deeper filter is still the same kind of query. */
const MAX_DEPTH = 8

/**
 * The redacted shape of a read's arguments: object keys only, sorted, never a value, so that it
 * can be logged and used as a metric dimension. `{ where: { id: 5 }, include: { posts: true } }`
 * and `{ include: { posts: true }, where: { id: 7 } }` are both `{include{posts},where{id}}`.
 * Arrays (`AND`, `OR`, `orderBy`) show the distinct shapes of their objects.
 */
export function argumentShape(args: unknown): string {
  return shapeOf(args, 0) || '{}'
}

function shapeOf(value: unknown, depth: number): string {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return ''
  if (Array.isArray(value)) {
    const members = [...new Set(value.map((member) => shapeOf(member, depth + 1)).filter(Boolean))].sort()
    return members.length === 0 ? '' : `[${members.join('|')}]`
  }
  const proto = Object.getPrototypeOf(value)
  // a Date, Decimal, Buffer or Prisma.DbNull is a value
  if (proto !== Object.prototype && proto !== null) return ''
  const keys = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
  const parts = keys.map((key) => (VALUE_OPERATORS.has(key) ? key : key + shapeOf((value as Record<string, unknown>)[key], depth + 1)))
  return `{${parts.join(',')}}`
}
