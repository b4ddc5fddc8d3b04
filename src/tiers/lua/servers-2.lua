--[[
  Redis Cluster's form of epoch-2.lua: makes every entry written before a master took its
  current identity unmatchable. Each master is a server of its own, so the identities of the
  masters the caller found new (`<run_id>:<master_replid>`, read from each) are recorded in a set
  on the global counter's slot; an identity not in it may hold counters that went back in time
  (a restart from disk, a replica promoted before the last writes replicated), and the counter
  every entry records is set to a fresh random value. The set is started afresh past 256
  identities: a dropped identity only costs one more renewal.
  KEYS[1] the set of identities the counter was renewed for
  KEYS[2] the generation counter every entry records (names.ts ALL)
  ARGV[1] a fresh random value for it
  ARGV[2..] the identities
  Output: 1 renewed, 0 every identity already recorded
]]
local new = false
for i = 2, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then
    new = true
  end
end
if not new then
  return 0
end
if redis.call('SCARD', KEYS[1]) > 256 then
  redis.call('DEL', KEYS[1])
end
redis.call('SADD', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], ARGV[1])
return 1
