import type { SchemaFacts } from '../schema/schema.js'
import { CachedPrismaPromise } from './prisma-promise.js'

/**
 * Prisma's fluent relation API (`prisma.user.findUnique({ where }).posts()`), built as Prisma
 * builds it (runtime/core/model/applyFluent.ts): each relation call nests `select: { posts: args }`
 * into the parent read's arguments, and its answer is the value at that path of the parent's
 * answer (null when the parent is null). So a fluent read is the cached read
 * `findUnique({ where, select: { posts: args } })`: same key, same dependencies, same
 * invalidation, same errors (test/read/fluent.test.ts).
 */

/** The operations whose promise has the relation methods, as on Prisma's own client (writes keep Prisma's). */
const FLUENT_OPERATIONS: ReadonlySet<string> = new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow'])

/** A read reached through relation calls: the root read with nested selects, answering the part at `path`. */
export class FluentPromise<T> extends CachedPrismaPromise<T> {
  private relationAnswer: Promise<T> | undefined

  constructor(
    parent: CachedPrismaPromise<unknown>,
    args: unknown,
    /** The relation names called, from the root model on. */
    readonly relationPath: readonly string[],
    /** The model the last relation leads to, whose relations chain on. */
    readonly relationModel: string,
  ) {
    super(parent.server, parent.forwarding, parent.ctx, parent.operation, args, parent.inTransaction)
  }

  protected override run(): Promise<T> {
    return (this.relationAnswer ??= super.run().then((data) => at(data, this.relationPath) as T))
  }

  /** Inside `$transaction([...])` the root query runs uncached; its answer is unpacked the same way. */
  override requestTransaction(batch: unknown): PromiseLike<unknown> {
    return Promise.resolve(super.requestTransaction(batch)).then((data) => at(data, this.relationPath))
  }
}

/** Each extension instance's schema, by its read server (every promise of the instance holds it). */
const schemas = new WeakMap<object, SchemaFacts>()
/** Relation names with a getter on the promise prototype, from every schema seen. */
const installed = new Set<string>()

/**
 * Gives the promises of one extension instance (those built with `server`) the relations of its
 * schema. They are getters on CachedPrismaPromise's prototype, one per relation name, run only when
 * a caller reads that name, so the L1 hit path keeps its one class and allocates nothing more (a
 * class per model would make every field load of a hit polymorphic): a relation of the read's
 * model, on a findUnique/First(OrThrow) or a chained read, gives its method; any other name gives
 * `undefined`, as on Prisma's client. Returns the relations left out (named like a member of the
 * promise: `then`, `args`, `info`…).
 */
export function enableFluent(server: object, schema: SchemaFacts): string[] {
  schemas.set(server, schema)
  const shadowed: string[] = []
  for (const model of schema.models.values()) {
    for (const relation of model.relations.keys()) {
      if (installed.has(relation)) continue
      // a relation named like a member of the promise (then, args, withCacheInfo…): left out, said
      if (relation in FluentPromise.prototype || MEMBERS.has(relation)) {
        shadowed.push(`${model.name}.${relation}`)
        continue
      }
      installed.add(relation)
      Object.defineProperty(CachedPrismaPromise.prototype, relation, {
        configurable: true,
        get(this: CachedPrismaPromise<unknown>) {
          const target = relationOf(this, relation)
          return target === undefined ? undefined : (args?: unknown) => chain(this, relation, target, args)
        },
      })
    }
  }
  return shadowed
}

/** The model a relation of this read leads to, if the read has that relation. */
function relationOf(promise: CachedPrismaPromise<unknown>, relation: string): string | undefined {
  // a chained read's last target (after a to-many one too, as Prisma's runtime allows), a root
  // findUnique/First(OrThrow)'s own model, none for other reads
  const model =
    promise instanceof FluentPromise ? promise.relationModel : FLUENT_OPERATIONS.has(promise.operation) ? promise.ctx.$name : undefined
  return model === undefined ? undefined : schemas.get(promise.server)?.model(model)?.relations.get(relation)
}

function chain(parent: CachedPrismaPromise<unknown>, relation: string, target: string, args: unknown): FluentPromise<unknown> {
  const path = [...(parent instanceof FluentPromise ? parent.relationPath : NO_PATH), relation]
  // Prisma's own: the root arguments (or {}), `select: { [relation]: args || true }` at the path
  return new FluentPromise(parent, nestSelect(parent.args ?? {}, path, 0, args || true), path, target)
}

const NO_PATH: readonly string[] = []

/** Instance fields of a promise, which a prototype getter of the same name could not shadow. */
const MEMBERS: ReadonlySet<string> = new Set(
  Object.keys(new FluentPromise(new CachedPrismaPromise(undefined as never, undefined as never, undefined as never, '', undefined, false), undefined, [], '')),
)

/** A copy of `args` with `select[path[0]].select[path[1]]… = value`, copying each level (Prisma's deepSet). */
function nestSelect(args: unknown, path: readonly string[], index: number, value: unknown): Record<string, unknown> {
  const level = Object.assign({}, args) as Record<string, unknown>
  const select = Object.assign({}, level.select) as Record<string, unknown>
  const relation = path[index]!
  select[relation] = index === path.length - 1 ? value : nestSelect(select[relation], path, index + 1, value)
  level.select = select
  return level
}

/** The value at `path` of an answer, null or undefined once a level is (Prisma's deepGet). */
function at(data: unknown, path: readonly string[]): unknown {
  let value = data
  for (const relation of path) value = value && (value as Record<string, unknown>)[relation]
  return value
}
