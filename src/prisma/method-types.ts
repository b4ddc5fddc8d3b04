import type { Prisma } from '@prisma/client/extension'
import type { CacheStrategy, ReadOperation } from '../config/options.js'
import type { CachedRead } from './prisma-promise.js'
import type { ReadResultOf } from './result-types.js'

export type { CachedRead }

// The types of the cached read methods, where Prisma's generic extension types (Prisma.Exact,
// Prisma.Result) differ from its plain client's: each is pinned against the plain client in
// test/prisma/types.test-d.ts. All exported, and re-exported by index.ts as CacheTypes: a
// consumer's emitted declarations must be able to name each one its inferred types refer to.

/** A model's types, carried by the `this` of a model-extension method (as Prisma.Args reads them). */
export type ModelTypes<T> = T extends { [K: symbol]: { types: infer M } } ? M : never

/** Added to the arguments of every cached read method. */
export interface CacheArgs {
  cacheStrategy?: CacheStrategy
}

/** What a cached read method takes: Prisma's arguments of the operation, and `cacheStrategy`. */
export type In<T, Op extends ReadOperation> = Prisma.Args<T, Op> & CacheArgs

/**
 * A cached read method. Two signatures: arguments written out are checked by `Prisma.Exact`, which
 * keeps their literal types (`select: { id: true }` stays `true`, so that count, omit and aggregate
 * answers are typed right); an argument a generic wrapper typed `Prisma.SelectSubset<T,
 * Prisma.UserFindUniqueArgs>` (Prisma's documented pattern) matches the second, the plain
 * client's own check, since an `Exact` of a type parameter never resolves.
 */
export interface ReadMethod<Op extends ReadOperation> {
  <T, A>(this: T, args: Prisma.Exact<A, In<T, Op>>): ReadResult<T, A, Op>
  <T, A extends In<T, Op>>(this: T, args: SelectSubset<A, In<T, Op>>): ReadResult<T, A, Op>
}

/** The same, for the operations whose arguments may be left out. */
export interface OptionalArgsReadMethod<Op extends ReadOperation> {
  <T, A>(this: T, args?: Prisma.Exact<A, In<T, Op>>): ReadResult<T, A, Op>
  <T, A extends In<T, Op>>(this: T, args?: SelectSubset<A, In<T, Op>>): ReadResult<T, A, Op>
}

export type ReadResult<T, A, Op extends ReadOperation> = Op extends FluentOperation
  ? CachedRead<ReadResultOf<T, A, Op>> & Fluent<T, Op>
  : Op extends 'aggregate'
    ? CachedRead<AggregateResult<T, A>>
    : CachedRead<ReadResultOf<T, A, Op>>

/** The generated client's `SelectSubset`, to the letter: a wrapper's argument of that type must relate to it. */
export type SelectSubset<A, W> = { [K in keyof A]: K extends keyof W ? A[K] : never } & (A extends SelectAndInclude
  ? 'Please either choose `select` or `include`.'
  : A extends SelectAndOmit
    ? 'Please either choose `select` or `omit`.'
    : {})

// `any`, as in the generated client: conditional types relate only if their `extends` types are identical
export type SelectAndInclude = { select: any; include: any }
export type SelectAndOmit = { select: any; omit: any }

export type Aggregates<T> = ModelTypes<T> extends { operations: { aggregate: { result: infer R } } } ? Required<R> : never
export type ScalarsOf<S, O> = O extends object ? { [P in keyof S]: P extends keyof O ? O[P] : never } : never

/**
 * `aggregate`'s answer as the plain client types it (its generated `GetUserAggregateType`), from
 * the model's aggregate output types: `_avg` of an Int or BigInt field is a number, where
 * `Prisma.Result` would say bigint.
 */
export type AggregateResult<T, A> = {
  [P in keyof A & keyof Aggregates<T>]: P extends '_count' | 'count'
    ? A[P] extends true
      ? number
      : ScalarsOf<A[P], Aggregates<T>[P]>
    : ScalarsOf<A[P], Aggregates<T>[P]>
}

/** The root read's operations that have relation methods; `null` is the answer of a missing parent. */
export type FluentOperation = 'findUnique' | 'findUniqueOrThrow' | 'findFirst' | 'findFirstOrThrow'

/**
 * The relation methods of a root read of the model whose extension `this` is `T`, typed as Prisma
 * types its own (`DynamicModelExtensionFluentApi` in @prisma/client/runtime), from what `T`
 * carries: the model's payload and the operation's arguments (test/prisma/types.test-d.ts pins
 * them against the plain client's).
 */
export type Fluent<T, Op extends FluentOperation> = unknown extends T
  ? any // T unknown: this method compared with another client's (no `this` to infer from); assignable to Prisma's
  : FluentRelations<PayloadOf<T>, Prisma.Args<T, Op>['select'], Op, NullOf<Op>>

export type PayloadOf<T> = ModelTypes<T> extends { payload: infer P } ? P : never

export type NullOf<Op> = Op extends 'findUnique' | 'findFirst' ? null : never

/** What `Prisma.Result` reads a payload from. */
export type Carrying<P> = { [K: symbol]: { types: { payload: P } } }

/** `O[K]` for each member of the union `O` that has `K` (Prisma's `Path<O, [K]>`). */
export type At<O, K> = O extends unknown ? (K extends keyof O ? O[K] : never) : never

export type Objects<P> = P extends { objects: infer O } ? O : never

/**
 * A relation call per relation field: its arguments are that field's under the current `select`,
 * its answer the field's value in the root read with `select: { [field]: args }`, plus `Null`;
 * a to-one relation chains on, a missing link adding `null`.
 */
export type FluentRelations<P, Select, Op extends FluentOperation, Null> = {
  [K in keyof Objects<P>]: <A>(
    args?: Prisma.Exact<A, At<Select, K>>,
  ) => CachedRead<At<Prisma.Result<Carrying<P>, { select: { [F in K]: A } }, Op>, K> | Null> &
    (Objects<P>[K] extends readonly unknown[]
      ? unknown
      : FluentRelations<Objects<P>[K] & {}, At<Exclude<At<Select, K>, boolean>, 'select'>, Op, Null | Extract<Objects<P>[K], null>>)
}
