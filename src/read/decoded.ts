import { decodeResult } from '../codec/codec.js'

/** An L2 entry's value; `undefined` for bytes this version did not write: a miss, never an error. */
export function decoded(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: decodeResult(bytes) }
  } catch {
    return undefined
  }
}
