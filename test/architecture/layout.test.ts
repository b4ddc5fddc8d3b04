// The layout DESIGN.md describes, checked: every src/ file under ~300 lines, no import cycles
// (type-only imports included), and imports that run one way through the layers.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')

/** Top to bottom: a folder may import its own files and any folder on a lower line. */
const LAYERS: string[][] = [
  ['.'], // index.ts: the public surface
  ['prisma'], // Prisma glue
  ['cache'], // composition root and the $cache API
  ['read'], // hit, miss, refresh, batch dispatch
  ['invalidation', 'batching'],
  ['tiers'], // L1, L2, the Redis guard and scripts
  ['metrics', 'stampede'],
  ['keys', 'codec', 'schema', 'config'],
  ['errors'],
]

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

const IMPORT = /^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')))
}

function layerOf(file: string): number {
  const rel = relative(SRC, file)
  const folder = rel.includes('/') ? rel.split('/')[0]! : rel === 'errors.ts' ? 'errors' : '.'
  const index = LAYERS.findIndex((layer) => layer.includes(folder))
  if (index < 0) throw new Error(`${rel}: folder '${folder}' is in no layer of this test`)
  return index
}

const all = files(SRC)
const graph = new Map(all.map((file) => [file, importsOf(file)]))

describe('src/ layout', () => {
  it('has no file over 300 lines', () => {
    const long = all.filter((file) => readFileSync(file, 'utf8').split('\n').length > 300).map((f) => relative(SRC, f))
    expect(long).toEqual([])
  })

  it('resolves every relative import to a file of src/', () => {
    const missing = [...graph].flatMap(([file, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${relative(SRC, file)} -> ${relative(SRC, d)}`))
    expect(missing).toEqual([])
  })

  it('has no import cycle', () => {
    const cycles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' -> '))
        return
      }
      state.set(file, 'open')
      for (const dep of graph.get(file) ?? []) visit(dep, [...path, file])
      state.set(file, 'done')
    }
    for (const file of all) visit(file, [])
    expect(cycles).toEqual([])
  })

  it('imports only sideways within a folder and downwards across layers', () => {
    const upward = [...graph].flatMap(([file, deps]) =>
      deps
        .filter((dep) => dirname(dep) !== dirname(file) && layerOf(dep) <= layerOf(file))
        .map((dep) => `${relative(SRC, file)} -> ${relative(SRC, dep)}`),
    )
    expect(upward).toEqual([])
  })
})
