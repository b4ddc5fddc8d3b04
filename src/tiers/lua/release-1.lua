--[[
  Releases a lease only if we still hold it: after an expiry another process may hold it now.
  KEYS[1] lease key
  ARGV[1] our token
  Output: 1 released, 0 not ours
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
