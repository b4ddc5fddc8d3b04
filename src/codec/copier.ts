import { clone } from './clone.js'
import { describe, type ResultShape } from './result-shape.js'

/** Makes a fresh deep copy of one particular value (the L1 entry it was compiled for). */
export type Copier = (value: unknown) => unknown

/** Distinct compiled shapes kept; past it (endless Json shapes), entries copy generically. */
const MAX_COPIERS = 500

const copiers = new Map<string, Copier>()

/**
 * A copier specialised to the shape of `value`: rows are rebuilt by object literals with fixed
 * keys (one hidden class, no `for…in`), Dates by constructor, the rest by `clone`. Compiled once
 * per distinct shape, when an entry is stored; the shape is taken from every row of the value, so
 * the copier is exact for it. An L1 hit of 100 joined rows copies ~3× faster than with `clone`
 * (benchmarks, findMany scenario).
 */
export function copierFor(value: unknown, shape: ResultShape = describe(value)): Copier {
  if (shape.kind === 'any') return clone
  if (shape.kind === 'null' || shape.kind === 'primitive') return identity
  const functions: string[] = []
  const root = emit(shape, functions, new Map())
  const source = `${functions.join('\n')}\nreturn function copy(x) { return ${at(root, 'x')} }`
  let copier = copiers.get(source)
  if (copier === undefined) {
    if (copiers.size >= MAX_COPIERS) return clone
    copier = new Function('c', source)(clone) as Copier
    copiers.set(source, copier)
  }
  return copier
}

const identity: Copier = (value) => value

/** Stands for the expression a piece of code applies to; JSON-quoted keys can never contain it. */
const HOLE = '\u0000'

/** The code `code` with its hole filled by `expression` (a function replacer: keys may hold `$&`). */
function at(code: string, expression: string): string {
  return code.replace(/\u0000/g, () => expression)
}

/**
 * Code copying the HOLE. Rows and lists become functions of their own in `functions`, so no
 * expression is evaluated twice.
 */
function emit(shape: ResultShape, functions: string[], names: Map<string, string>): string {
  switch (shape.kind) {
    case 'null':
    case 'primitive':
      return HOLE
    case 'date':
      return `(${HOLE} === null ? null : new Date(${HOLE}.getTime()))`
    case 'any':
      return `c(${HOLE})`
    case 'list': {
      const item = at(emit(shape.of, functions, names), 'a[i]')
      const body = `if (a === null) return null; const o = new Array(a.length); for (let i = 0; i < a.length; i++) o[i] = ${item}; return o`
      return `${named('a', body, functions, names)}(${HOLE})`
    }
    case 'row': {
      const members = shape.fields.map(([key, field]) => {
        const quoted = JSON.stringify(key)
        return `${quoted}: ${at(emit(field, functions, names), `r[${quoted}]`)}`
      })
      return `${named('r', `if (r === null) return null; return { ${members.join(', ')} }`, functions, names)}(${HOLE})`
    }
  }
}

function named(parameter: string, body: string, functions: string[], names: Map<string, string>): string {
  let name = names.get(body)
  if (name === undefined) {
    name = `f${names.size}`
    names.set(body, name)
    functions.push(`function ${name}(${parameter}) { ${body} }`)
  }
  return name
}
