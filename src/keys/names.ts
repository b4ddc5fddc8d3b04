import { hash } from 'node:crypto'

/**
 * The one place that builds and parses counter names and Redis keys (as BullMQ's queue-keys.ts).
 *
 * A counter name is what entries record, writes bump and the bus carries:
 * - `m:<Model>`: a model's generation;
 * - `t:<tag>`: a tag's (`cacheStrategy.tags`, `invalidate({ tags })`, write rules);
 * - `*`: the global one (`invalidateAll`, raw SQL without `affecting()`).
 * Names are part of the wire format (bus messages, Redis keys): changing one breaks a rolling
 * deploy of old and new versions sharing a Redis.
 */
export type CounterName = string

export const ALL: CounterName = '*'

export const modelCounter = (model: string): CounterName => `m:${model}`
export const tagCounter = (tag: string): CounterName => `t:${tag}`

export type ParsedCounter = { kind: 'model'; model: string } | { kind: 'tag'; tag: string } | { kind: 'all' }

/** `undefined` for a name no version of this library writes (a foreign bus message). */
export function parseCounter(name: string): ParsedCounter | undefined {
  if (name.startsWith('m:')) return { kind: 'model', model: name.slice(2) }
  if (name.startsWith('t:')) return { kind: 'tag', tag: name.slice(2) }
  return name === ALL ? { kind: 'all' } : undefined
}

/**
 * Redis key layout, every key under the namespace and a hash tag:
 * - `<ns>:{<Model>}:q:<schema hash>:<sha1 of the read key>`: an entry, in its model's slot;
 * - `<entry key>:lease`: its stampede lease, same slot;
 * - `<ns>:{<Model>}:gen`: a model's counter, same slot as its entries (the store script needs both);
 * - `<ns>:{t:<tag>}:gen`, `<ns>:{*}:gen`: tag and global counters, in slots of their own;
 * - `<ns>:bus`: the invalidation channel.
 */
export class RedisKeys {
  readonly busChannel: string

  constructor(
    private readonly namespace: string,
    private readonly schemaHash: string,
  ) {
    this.busChannel = `${namespace}:bus`
  }

  entry(model: string, readKey: string): string {
    return `${this.namespace}:{${model}}:q:${this.schemaHash}:${hash('sha1', readKey, 'base64url')}`
  }

  lease(entryKey: string): string {
    return `${entryKey}:lease`
  }

  counter(name: CounterName): string {
    const ns = this.namespace
    return name.startsWith('m:') ? `${ns}:{${name.slice(2)}}:gen` : `${ns}:{${name}}:gen`
  }

  /** SCAN pattern of the tag counters a tag glob names (the namespace escaped, the glob kept). */
  tagCounterPattern(tagGlob: string): string {
    return `${this.namespace.replace(/[*?[\]\\]/g, '\\$&')}:{t:${tagGlob}}:gen`
  }
}

/**
 * A counter as this process holds it: every cached read records the counters of what it depends
 * on, and any change to one of them makes the read invalid. Entries hold references to these
 * objects, so checking an L1 entry costs no map lookup.
 */
export interface Generation {
  readonly name: CounterName
  value: number
}
