--[[
  Makes every entry written before this server took its current identity unmatchable, once per
  identity. A Redis restarted from an RDB snapshot or an AOF that lost its last writes, or a
  replica promoted before the last writes replicated, holds counters that went back in time
  together with the entries that recorded exactly those values: they would match again. Each
  server has its own run_id (a new one on every start), so a run_id other than the one recorded
  here means the state may have moved backwards: the counter every entry depends on is set to a
  fresh random value. A replica promoted in place keeps its run_id but takes a new replication
  id, so the identity is both. The first process to see the new identity renews; the others find it done.
  KEYS[1] the key recording the identity (run_id:replication id) the counters were last renewed for
  KEYS[2] the generation counter every entry records (names.ts ALL)
  ARGV[1] a fresh random value for it
  Output: 1 renewed, 0 already current
]]
local run_id = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
local replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')
local identity = run_id .. ':' .. replid
if redis.call('GET', KEYS[1]) == identity then
  return 0
end
redis.call('SET', KEYS[1], identity)
redis.call('SET', KEYS[2], ARGV[1])
return 1
