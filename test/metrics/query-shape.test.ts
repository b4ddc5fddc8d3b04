import { describe, expect, it } from 'vitest'
import { Prisma } from '../../generated/prisma/client.js'
import { argumentShape } from '../../src/metrics/query-shape.js'

describe('argumentShape', () => {
  it('keeps keys, sorted, and drops every value', () => {
    const shape = argumentShape({
      where: { email: 'ann@secret.example', id: { in: [1, 2, 3] }, createdAt: { gt: new Date(0) } },
      include: { posts: { orderBy: { id: 'desc' }, take: 5 } },
    })
    expect(shape).toBe('{include{posts{orderBy{id},take}},where{createdAt{gt},email,id{in}}}')
  })

  it('is the same for the same query with other values or key order', () => {
    expect(argumentShape({ where: { id: 1 }, select: { name: true } })).toBe(argumentShape({ select: { name: false }, where: { id: 99 } }))
  })

  it('shows the distinct shapes inside arrays, and never a JSON document under a value operator', () => {
    const shape = argumentShape({
      where: {
        OR: [{ title: 'a' }, { title: 'b' }, { content: { contains: 'x' } }],
        json: { equals: { ssn: '123-45-6789', nested: { secret: 1 } } },
        price: { gte: new Prisma.Decimal('1.5') },
        note: { not: { contains: 'hidden' } },
      },
      orderBy: [{ id: 'asc' }, { title: 'desc' }],
    })
    expect(shape).toBe('{orderBy[{id}|{title}],where{OR[{content{contains}}|{title}],json{equals},note{not},price{gte}}}')
    expect(shape).not.toMatch(/ssn|secret|hidden|123/)
  })

  it('has a shape for no arguments and ignores undefined members', () => {
    expect(argumentShape(undefined)).toBe('{}')
    expect(argumentShape({})).toBe('{}')
    expect(argumentShape({ where: { id: 1, name: undefined } })).toBe('{where{id}}')
  })
})
