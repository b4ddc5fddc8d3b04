--[[
  Takes the stampede lease of an entry, and says whether the entry exists now: if it does, a
  previous holder may have stored it since we looked, and the new holder looks again before
  querying (only then: the common miss pays no extra round trip).
  KEYS[1] lease key
  KEYS[2] entry key (same hash tag)
  ARGV[1] our token
  ARGV[2] lease time, milliseconds
  Output: { 1 taken / 0 held by another, 1 entry exists / 0 not }
]]
local taken = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') and 1 or 0
return { taken, redis.call('EXISTS', KEYS[2]) }
