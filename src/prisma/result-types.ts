import type { Prisma } from '@prisma/client/extension'
import type { Types } from '@prisma/client/runtime/client'
import type { ReadOperation } from '../config/options.js'

/** The payload Prisma.Result reads a model's result from. */
type PayloadOf<T> = T extends { [K: symbol]: { types: { payload: infer P } } } ? P : never

/**
 * The client's global `omit` for T's model, as `GetResult` takes it. A model context's type carries
 * no omit, but its write methods (which the cache leaves as Prisma's) are typed with the client's
 * type map: `create`'s default row lacks exactly the globally omitted scalars.
 */
type GlobalOmitOf<T> = T extends { create: (...args: never[]) => PromiseLike<infer Row> }
  ? PayloadOf<T> extends { name: infer Name extends string; scalars: infer Scalars }
    ? { omit: { [M in Uncapitalize<Name>]: { [F in Exclude<keyof Scalars, keyof Row>]: true } } }
    : {}
  : {}

/** `Prisma.Result`, honouring the client's global `omit` as Prisma's own methods do. */
export type ReadResultOf<T, A, Op extends ReadOperation> = PayloadOf<T> extends infer P extends Types.Payload
  ? Types.Result.GetResult<P, A, Op, GlobalOmitOf<T>>
  : Prisma.Result<T, A, Op>
