/**
 * Field order of a cached answer. Keys are canonical (sorted), so one entry answers callers whose
 * `select` / `include` name the same fields in different orders, and its rows keep the order of the
 * caller that filled it. Prisma returns fields in the order selected (`JSON.stringify` shows it;
 * so are `aggregate` and `groupBy`'s `_count`, `_sum`… and the fields under them):
 * on the way out a row is rebuilt in this caller's order, only when it differs. The order is worked
 * out once per arguments object and once per result level, from its first row (Prisma's rows of
 * one level all have one key order), never per row unless a rebuild is needed.
 */

/** The caller's order at one level of the result. */
interface Order {
  /**
   * `select`: exactly these keys, in this order; `include`: the row's other keys, then these;
   * `slots` (aggregates): these keys in this order, in the places the row has them.
   */
  readonly mode: 'select' | 'include' | 'slots'
  readonly keys: readonly string[]
  /** Relations (and `_count: { select }`) with an order of their own. */
  readonly nested: ReadonlyArray<readonly [string, Order]>
}

const orders = new WeakMap<object, Order | null>()

/** `value` with every row's fields in the order `args` asks for (the same object when it already is). */
export function inCallerOrder(value: unknown, args: unknown): unknown {
  if (typeof value !== 'object' || value === null || typeof args !== 'object' || args === null) return value
  const { select, include } = args as { select?: unknown; include?: unknown }
  if ((typeof select !== 'object' || select === null) && (typeof include !== 'object' || include === null) && !hasAggregates(args)) return value
  let order = orders.get(args)
  if (order === undefined) orders.set(args, (order = orderOf(args) ?? aggregateOrder(args)))
  if (order === null || inOrder(value, order)) return value
  return arranged(value, order, new Map())
}

function orderOf(args: unknown): Order | null {
  if (typeof args !== 'object' || args === null) return null
  const { select, include } = args as { select?: unknown; include?: unknown }
  const selected = typeof select === 'object' && select !== null
  const chosen = selected ? select : include
  if (typeof chosen !== 'object' || chosen === null) return null
  const keys: string[] = []
  const nested: Array<readonly [string, Order]> = []
  for (const [key, member] of Object.entries(chosen)) {
    if (member === false || member === undefined || member === null) continue
    keys.push(key)
    const inner = orderOf(member)
    if (inner !== null) nested.push([key, inner])
  }
  return { mode: selected ? 'select' : 'include', keys, nested }
}

/** `aggregate` and `groupBy` answer their `_count`, `_sum`… in the order asked, after the `by` fields. */
const AGGREGATES = ['_count', '_sum', '_avg', '_min', '_max']

function hasAggregates(args: object): boolean {
  for (const key of AGGREGATES) if (key in args) return true
  return false
}

function aggregateOrder(args: object): Order | null {
  const keys: string[] = []
  const nested: Array<readonly [string, Order]> = []
  for (const [key, member] of Object.entries(args)) {
    if (!AGGREGATES.includes(key) || member === false || member === undefined || member === null) continue
    keys.push(key)
    if (typeof member !== 'object') continue
    const fields = Object.keys(member).filter((field) => {
      const chosen = (member as Record<string, unknown>)[field]
      return chosen !== false && chosen !== undefined && chosen !== null
    })
    nested.push([key, { mode: 'select', keys: fields, nested: [] }])
  }
  return keys.length === 0 ? null : { mode: 'slots', keys, nested }
}

function firstRow(value: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null) return item as Record<string, unknown>
    return undefined
  }
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
}

/** The keys a row of this level must have, in order, worked out from one row. */
function wanted(row: Record<string, unknown>, order: Order): string[] {
  const present = Object.keys(row)
  const named = order.keys.filter((key) => key in row)
  if (order.mode === 'select') return named.length === present.length ? named : [...named, ...present.filter((key) => !order.keys.includes(key))]
  if (order.mode === 'include') return [...present.filter((key) => !order.keys.includes(key)), ...named]
  let next = 0
  return present.map((key) => (order.keys.includes(key) ? named[next++]! : key))
}

/** Whether the value is in order already: one row per level is looked at (more only past empty relations). */
function inOrder(value: unknown, order: Order): boolean {
  const row = firstRow(value)
  if (row === undefined) return true
  const keys = Object.keys(row)
  const want = wanted(row, order)
  for (let i = 0; i < keys.length; i++) if (keys[i] !== want[i]) return false
  for (const [key, inner] of order.nested) {
    const rows = Array.isArray(value) ? value : [value]
    const sample = rows.find((r) => typeof r === 'object' && r !== null && firstRow((r as Record<string, unknown>)[key]) !== undefined)
    if (sample !== undefined && !inOrder((sample as Record<string, unknown>)[key], inner)) return false
  }
  return true
}

/** A copy in order: rows rebuilt with their keys as wanted (worked out once per level). */
function arranged(value: unknown, order: Order, plans: Map<Order, string[]>): unknown {
  if (Array.isArray(value)) return value.map((item) => arranged(item, order, plans))
  if (typeof value !== 'object' || value === null) return value
  const row = value as Record<string, unknown>
  let keys = plans.get(order)
  if (keys === undefined) plans.set(order, (keys = wanted(row, order)))
  const out: Record<string, unknown> = {}
  for (const key of keys) if (key in row) out[key] = row[key]
  for (const [key, inner] of order.nested) if (key in out) out[key] = arranged(out[key], inner, plans)
  return out
}
