--[[
  Stores a read's result only if its target model's generation is still the one the read saw
  before it queried: a write that bumped it meanwhile may have committed after the database read.
  (Generations of other models live in other cluster slots; readers check those when they read.)
  KEYS[1] entry key
  KEYS[2] generation key of the read's target model (same hash tag as the entry)
  ARGV[1] generation the read saw
  ARGV[2] encoded entry
  ARGV[3] time to live, milliseconds
  Output: 1 stored, 0 not stored
]]
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
