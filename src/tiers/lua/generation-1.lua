--[[
  Reads a generation counter, creating it when missing.
  A missing counter means "unknown" (Redis restarted, flushed, evicted or expired it), never
  "zero": it is created at a random value chosen by the caller, so no entry stored before it
  went missing can match it again.
  KEYS[1] generation key
  ARGV[1] random initial value
  ARGV[2] time to live in milliseconds for per-value counters, '0' for none
  Output: the counter's value (string)
]]
local value = redis.call('GET', KEYS[1])
if value then
  return value
end
if ARGV[2] and ARGV[2] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return ARGV[1]
