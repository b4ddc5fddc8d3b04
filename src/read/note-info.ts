import { createHash } from 'node:crypto'
import type { Tier } from '../config/event-types.js'
import type { CacheInfo } from './cache-info.js'
import type { ReadParts } from './parts.js'

// Filling a call's CacheInfo, from the steps of the read path that know how it was answered;
// called only where the call asked (`read.run.info !== undefined`).

/** A cached answer: `fresh` from `tier`, or stale within swr; `storedAt` is when its entry was stored. */
export function noteHit(info: CacheInfo, parts: ReadParts, tier: Tier, fresh: boolean, storedAt: number, model: string, key: string): void {
  const now = parts.options.now()
  info.cacheStatus = fresh ? tier : 'swr'
  info.tier = tier
  info.ageMs = Math.max(0, now - storedAt)
  info.lastModified = new Date(storedAt)
  info.key = entryId(parts, model, key)
}

/** The database answered, now by the cache clock. */
export function noteMiss(info: CacheInfo, parts: ReadParts, model: string, key: string): void {
  info.cacheStatus = 'miss'
  info.tier = undefined
  info.ageMs = 0
  info.lastModified = new Date(parts.options.now())
  info.key = entryId(parts, model, key)
}

function entryId(parts: ReadParts, model: string, key: string): string {
  return parts.l2 !== undefined ? parts.l2.keys.entry(model, key) : createHash('sha1').update(key).digest('base64url').slice(0, 16)
}
