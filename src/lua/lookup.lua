--[[
  Reads the generation counters (and optionally entries) in one call (standalone Redis only:
  on Cluster the keys live in several slots, and the lookup is sent as separate commands).
  A missing counter is created at the caller's random value, as in generation-1.lua.
  KEYS[1..n]      entry keys (n = ARGV[1])
  KEYS[n+1..]     generation keys
  ARGV[1]         n, the number of entry keys
  ARGV[2..]       random initial values, one per generation key
  Output: the n entries (nil where missing), then the generations' values
]]
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do
  out[i] = redis.call('GET', KEYS[i])
end
for i = n + 1, #KEYS do
  local value = redis.call('GET', KEYS[i])
  if not value then
    value = ARGV[i - n + 1]
    redis.call('SET', KEYS[i], value)
  end
  out[i] = value
end
return out
