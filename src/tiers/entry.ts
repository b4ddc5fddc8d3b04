import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib'
import { decode, encode } from '../codec/codec.js'

/** What an L2 entry carries besides the value. */
export interface L2Entry {
  /** The value, msgpack-encoded (codec/codec.ts). */
  bytes: Uint8Array
  /** Generations of the read's dependencies (same order as its dependency names) when it queried. */
  seen: string[]
  /** Epoch ms after which the entry is no longer fresh. */
  freshUntil: number
  /** Epoch ms it was stored (`.withCacheInfo()`'s age); absent in entries of versions before it. */
  storedAt?: number | undefined
}

/** Entry formats; 0 and 1 held values before codec.ts sent Dates as numbers, and now read as misses. */
const RAW = 2
const BROTLI = 3
/**
 * Values above this many encoded bytes are compressed. Brotli at quality 1 made 100 blog rows
 * (28 KB of msgpack) ~15× smaller for ~70 µs to compress and ~45 µs to decompress: worth it for
 * Redis memory on large values, too slow for the hit path of ordinary ones (README, "Codec").
 */
const COMPRESS_ABOVE = 32 * 1024

/**
 * The envelope `[format, seen, freshUntil, value bytes, storedAt]`, the value compressed when
 * large. `storedAt` came last, so that versions before it read these entries and it theirs.
 */
export function packEntry(entry: L2Entry): Buffer {
  if (entry.bytes.length <= COMPRESS_ABOVE) return encode([RAW, entry.seen, entry.freshUntil, entry.bytes, entry.storedAt])
  const packed = brotliCompressSync(entry.bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } })
  return encode([BROTLI, entry.seen, entry.freshUntil, packed, entry.storedAt])
}

/** `undefined` for anything that is not an entry we wrote: a foreign or corrupt value is a miss. */
export function unpackEntry(raw: Buffer): L2Entry | undefined {
  try {
    const [format, seen, freshUntil, bytes, storedAt] = decode<[number, string[], number, Uint8Array, unknown]>(raw)
    if ((format !== RAW && format !== BROTLI) || !Array.isArray(seen) || typeof freshUntil !== 'number' || !(bytes instanceof Uint8Array)) return undefined
    return {
      seen,
      freshUntil,
      bytes: format === BROTLI ? brotliDecompressSync(bytes) : bytes,
      storedAt: typeof storedAt === 'number' ? storedAt : undefined,
    }
  } catch {
    return undefined
  }
}
