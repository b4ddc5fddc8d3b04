/**
 * A generation counter: every cached read records the counters of what it depends on, and any
 * change to one of them makes the read invalid. Bumping is O(1) whatever the number of entries.
 * Entries hold references to these objects, so checking an L1 entry costs no map lookup.
 */
export interface Generation {
  readonly name: string
  value: number
}

/** This process's counters: models (`m:User`), tags (`t:feed`) and the global one (`*`). */
export class Generations {
  private readonly byName = new Map<string, Generation>()
  readonly all: Generation = this.get('*')

  get(name: string): Generation {
    let gen = this.byName.get(name)
    if (gen === undefined) {
      gen = { name, value: 0 }
      this.byName.set(name, gen)
    }
    return gen
  }

  model(model: string): Generation {
    return this.get(`m:${model}`)
  }

  tag(tag: string): Generation {
    return this.get(`t:${tag}`)
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
