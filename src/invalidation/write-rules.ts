import { CacheConfigError } from '../errors.js'
import { modelCounter, tagCounter } from '../keys/names.js'
import type { TagRule, WriteEvent, WriteRules } from '../config/options.js'
import type { ResolvedOptions } from '../config/resolve.js'
import type { SchemaFacts } from '../schema/schema.js'

const PLACEHOLDER = /\{(\w+)\}/g
/** Writes whose rows existed before them, with values a template may have named. */
const CHANGES_ROWS = new Set(['update', 'upsert', 'updateMany', 'updateManyAndReturn', 'deleteMany'])

/**
 * Write-triggered rules (`models.<Model>.invalidates`): the models and tags a write to a model
 * drops besides what the schema says it changes. Counter names are added to the write's set, so
 * they are bumped with the rest: before the write where its arguments already tell them, after it
 * with everything its result tells.
 */
export class WriteRuleSet {
  private readonly byModel = new Map<string, WriteRules>()

  constructor(options: ResolvedOptions, schema: SchemaFacts) {
    for (const [model, policy] of options.models) {
      if (policy === false || policy.invalidates === undefined) continue
      for (const target of policy.invalidates.models ?? []) {
        if (schema.model(target) === undefined) {
          throw new CacheConfigError(`models.${model}.invalidates.models`, `names no model '${target}'`)
        }
      }
      this.byModel.set(model, policy.invalidates)
    }
  }

  /**
   * The rows a write is about to change, as far as its tag templates read them: an update that
   * moves a post to another author must drop the old author's tag too, and only the database
   * knows the old author. `undefined` when no template needs them.
   */
  priorRead(model: string, operation: string, args: unknown): { where: unknown; select: Record<string, true> } | undefined {
    const rules = this.byModel.get(model)
    if (rules === undefined || !CHANGES_ROWS.has(operation)) return undefined
    const a = (args ?? {}) as Record<string, unknown>
    const written = new Set([a.data, a.update].flatMap((v) => (v !== null && typeof v === 'object' ? Object.keys(v) : [])))
    const fields = new Set<string>()
    for (const tag of rules.tags ?? []) {
      if (typeof tag !== 'string') continue
      for (const [, field] of tag.matchAll(PLACEHOLDER)) {
        if (operation === 'deleteMany' || written.has(field!)) fields.add(field!)
      }
    }
    if (fields.size === 0) return undefined
    return { where: a.where, select: Object.fromEntries([...fields].map((f) => [f, true])) }
  }

  /** Names known before the write runs: rule models, static tags, templates its arguments or prior rows fill. */
  before(model: string, args: unknown, names: Set<string>, prior: ReadonlyArray<Record<string, unknown>> = []): void {
    const rules = this.byModel.get(model)
    if (rules === undefined) return
    for (const m of rules.models ?? []) names.add(modelCounter(m))
    for (const tag of rules.tags ?? []) {
      if (typeof tag !== 'string') continue
      for (const t of fill(tag, sources(args, undefined)) ?? []) names.add(tagCounter(t))
      if (prior.length) for (const t of fill(tag, prior) ?? []) names.add(tagCounter(t))
    }
  }

  /** Everything, once the result is known; `drop` takes glob patterns, applied in the background. */
  after(model: string, operation: string, args: unknown, result: unknown, names: Set<string>, drop: (glob: string) => void): void {
    const rules = this.byModel.get(model)
    if (rules === undefined) return
    this.before(model, args, names)
    const write: WriteEvent = { model, operation, args: (args ?? {}) as Record<string, unknown>, result }
    for (const tag of rules.tags ?? []) {
      for (const t of this.tagsOf(tag, write, drop)) names.add(tagCounter(t))
    }
    for (const pattern of rules.patterns ?? []) drop(pattern)
  }

  private tagsOf(rule: TagRule, write: WriteEvent, drop: (glob: string) => void): readonly string[] {
    if (typeof rule === 'function') {
      const out = rule(write)
      return out === undefined || out === null ? [] : typeof out === 'string' ? [out] : out
    }
    const filled = fill(rule, sources(write.args, write.result))
    if (filled !== undefined) return filled
    // a template this write cannot fill (an updateMany by another field): drop every tag it could name
    drop(rule.replace(PLACEHOLDER, '*'))
    return []
  }
}

/** Rows whose fields fill templates: each written row, else the write's `where` and `data`. */
function sources(args: unknown, result: unknown): Array<Record<string, unknown>> {
  const rows = Array.isArray(result) ? result : result !== null && typeof result === 'object' ? [result] : []
  const a = (args ?? {}) as Record<string, unknown>
  const fallbacks = [a.where, a.data, a.create, a.update].filter(
    (v): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v),
  )
  return rows.length ? rows.map((row) => Object.assign({}, ...fallbacks.slice().reverse(), row)) : [Object.assign({}, ...fallbacks.slice().reverse())]
}

/** One tag per source row, or `undefined` when a placeholder has no scalar value in some row. */
function fill(template: string, rows: ReadonlyArray<Record<string, unknown>>): string[] | undefined {
  if (!template.includes('{')) return [template]
  const out: string[] = []
  for (const row of rows) {
    let complete = true
    const tag = template.replace(PLACEHOLDER, (_, field: string) => {
      const value = row[field]
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') return String(value)
      complete = false
      return ''
    })
    if (!complete) return undefined
    out.push(tag)
  }
  return out
}
