--[[
  Reads a generation counter, creating it when missing.
  A missing counter means "unknown" (Redis restarted, flushed or evicted it), never "zero": it is
  created at a random value chosen by the caller, so no entry stored before it went missing can
  match it again.
  KEYS[1] generation key
  ARGV[1] random initial value
  Output: the counter's value (string)
]]
local value = redis.call('GET', KEYS[1])
if value then
  return value
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
