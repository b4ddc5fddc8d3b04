--[[
  Extends a lease we still hold, while our query runs.
  KEYS[1] lease key
  ARGV[1] our token
  ARGV[2] new time to live, milliseconds
  Output: 1 renewed, 0 not ours any more
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
