// The client's global `omit` shapes the types of cached reads as it shapes Prisma's own. Through
// Prisma.Result it would not (a model context's type carries no omit): src/prisma/result-types.ts
// reads it from the client's own write methods' types. Failed to compile before.
import { describe, expectTypeOf, it } from 'vitest'
import type { PrismaClient } from '../../generated/prisma/client.js'
import { withCache } from '../../src/index.js'

declare const omitting: PrismaClient<never, { user: { email: true } }>
declare const plain: PrismaClient
const prisma = omitting.$extends(withCache())
const unomitted = plain.$extends(withCache())

describe('a client built with a global omit', () => {
  it('types cached reads without the omitted field, exactly as the plain client does', () => {
    expectTypeOf(prisma.user.findUnique({ where: { id: 1 } })).resolves.toEqualTypeOf<Awaited<ReturnType<typeof omitting.user.findUnique<{ where: { id: 1 } }>>>>()
    expectTypeOf(prisma.user.findMany()).resolves.toEqualTypeOf<Awaited<ReturnType<typeof omitting.user.findMany>>>()
    expectTypeOf(prisma.user.findFirstOrThrow()).resolves.toEqualTypeOf<{ id: number; name: string | null; createdAt: Date }>()
    expectTypeOf(prisma.user.findUniqueOrThrow({ where: { id: 1 } })).resolves.not.toHaveProperty('email')
  })

  it('brings the field back where a call asks for it, as Prisma does', () => {
    expectTypeOf(prisma.user.findFirstOrThrow({ omit: { email: false } })).resolves.toHaveProperty('email').toEqualTypeOf<string>()
    expectTypeOf(prisma.user.findFirstOrThrow({ select: { email: true } })).resolves.toEqualTypeOf<{ email: string }>()
  })

  it('leaves other models, and clients without an omit, as they were', () => {
    expectTypeOf(prisma.post.findFirstOrThrow()).resolves.toEqualTypeOf<Awaited<ReturnType<typeof omitting.post.findFirstOrThrow>>>()
    expectTypeOf(unomitted.user.findFirstOrThrow()).resolves.toEqualTypeOf<{ id: number; email: string; name: string | null; createdAt: Date }>()
  })
})
