--[[
  Moves a generation counter on, so that every entry recorded at an older value is invalid.
  A missing counter is not INCR'd from zero (that could repeat a value an old entry recorded): it
  is created at the caller's random value instead.
  KEYS[1] generation key
  ARGV[1] random initial value, used when the counter is missing
  Output: the new value
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCR', KEYS[1])
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
