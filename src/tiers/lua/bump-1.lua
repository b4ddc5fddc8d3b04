--[[
  Moves a generation counter on, so that every entry recorded at an older value is invalid.
  A missing counter is not INCR'd from zero (that could repeat a value an old entry recorded): it
  is created at the caller's random value instead.
  KEYS[1] generation key
  ARGV[1] random initial value, used when the counter is missing
  ARGV[2] time to live in milliseconds for per-value counters, '0' for none (refreshed on each bump)
  Output: the new value
]]
local value
if redis.call('EXISTS', KEYS[1]) == 1 then
  value = redis.call('INCR', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1])
  value = ARGV[1]
end
if ARGV[2] and ARGV[2] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
