import { ALL, modelCounter, tagCounter, type CounterName, type Generation } from '../keys/names.js'
import type { RecentBumps } from './recent-bumps.js'

export type { Generation } from '../keys/names.js'

/**
 * This process's counters (names in keys/names.ts). Bumping is O(1) whatever the number of
 * entries: an entry is valid while every counter it recorded still has the value it saw.
 *
 * Held weakly: entries and reads in flight hold their counters' objects, this map only finds
 * them by name. A counter nobody holds is collected (memory does not grow with the distinct rows
 * ever read: test/invalidation/counters-memory.test.ts), and a bump of a counter nobody holds
 * changes nothing anybody could see. A counter made again later starts a fresh object: entries
 * compare against the object they hold, never against a name, so its value restarting is harmless.
 */
export class Generations {
  private readonly byName = new Map<CounterName, WeakRef<Generation>>()
  private readonly forget = new FinalizationRegistry<CounterName>((name) => {
    if (this.byName.get(name)?.deref() === undefined) this.byName.delete(name)
  })
  /** The global counter, held for the process's life (every read records it). */
  readonly all: Generation = this.get(ALL)

  /** With `replicaLagMs`: every bump by name (this process's writes, the bus's) is noted there too. */
  constructor(private readonly recent?: RecentBumps) {}

  get(name: CounterName): Generation {
    let gen = this.byName.get(name)?.deref()
    if (gen === undefined) {
      gen = { name, value: 0 }
      this.byName.set(name, new WeakRef(gen))
      this.forget.register(gen, name)
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

  /** Bumps a counter by name if anything holds it (otherwise nothing depends on it). */
  bumpName(name: CounterName): void {
    this.recent?.note(name) // held or not: a read that starts after this bump still needs to know of it
    const gen = this.byName.get(name)?.deref()
    if (gen !== undefined) gen.value++
  }

  /** Bumps every known counter whose name matches a glob (`*` any run, `?` one character). */
  bumpMatching(glob: string): void {
    const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
    const pattern = new RegExp(`^${escaped}$`)
    for (const ref of this.byName.values()) {
      const gen = ref.deref()
      if (gen !== undefined && pattern.test(gen.name)) gen.value++
    }
  }

  /** Counters this map still finds (held, or not yet collected). */
  get size(): number {
    return this.byName.size
  }
}
