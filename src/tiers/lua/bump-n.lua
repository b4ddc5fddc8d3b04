--[[
  Moves generation counters on, all in one slot (one script call per model's slot), so that every
  entry recorded at an older value is invalid. A missing counter is not INCR'd from zero (that
  could repeat a value an old entry recorded): it is created at the caller's random value instead.
  KEYS[1..n] generation keys (one hash tag)
  ARGV[1] random initial value, used for the counters that are missing
  ARGV[2..n+1] time to live in milliseconds for each key, '0' for none (refreshed on each bump)
  Output: nothing
]]
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('INCR', key)
  else
    redis.call('SET', key, ARGV[1])
  end
  local ttl = ARGV[i + 1]
  if ttl and ttl ~= '0' then
    redis.call('PEXPIRE', key, ttl)
  end
end
return 0
