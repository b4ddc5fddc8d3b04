--[[
  Stores a read's result only if its target model's generation is still the one the read saw
  before it queried (a write that bumped it meanwhile may have committed after the database
  read), and hands back the stampede lease the reader held, in the same round trip.
  (Generations of other models live in other cluster slots; readers check those when they read.)
  KEYS[1] entry key
  KEYS[2] generation key of the read's target model (same hash tag as the entry)
  KEYS[3] the entry's lease key (same hash tag)
  ARGV[1] generation the read saw
  ARGV[2] encoded entry
  ARGV[3] time to live, milliseconds
  ARGV[4] our lease token, or '' when we hold no lease
  Output: 1 stored, 0 not stored
]]
local stored = 0
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  stored = 1
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) == ARGV[4] then
  redis.call('DEL', KEYS[3])
end
return stored
