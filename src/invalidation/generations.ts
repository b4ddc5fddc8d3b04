import { ALL, modelCounter, tagCounter, type CounterName, type Generation } from '../keys/names.js'

export type { Generation } from '../keys/names.js'

/**
 * This process's counters (names in keys/names.ts). Bumping is O(1) whatever the number of
 * entries: an entry is valid while every counter it recorded still has the value it saw.
 */
export class Generations {
  private readonly byName = new Map<CounterName, Generation>()
  readonly all: Generation = this.get(ALL)

  get(name: CounterName): Generation {
    let gen = this.byName.get(name)
    if (gen === undefined) {
      gen = { name, value: 0 }
      this.byName.set(name, gen)
    }
    return gen
  }

  model(model: string): Generation {
    return this.get(modelCounter(model))
  }

  tag(tag: string): Generation {
    return this.get(tagCounter(tag))
  }

  bump(gen: Generation): void {
    gen.value++
  }

  /** Bumps every known counter whose name matches a glob (`*` any run, `?` one character). */
  bumpMatching(glob: string): void {
    const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
    const pattern = new RegExp(`^${escaped}$`)
    for (const gen of this.byName.values()) if (pattern.test(gen.name)) gen.value++
  }
}
