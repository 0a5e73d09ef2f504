-- One atomic pacing decision; mirrors local_pacer.py step by step (keep them in lock-step).
-- KEYS: 1 holds (zset id -> slot), 2 hold bindings (hash id -> binding), 3 throughput grid
-- (hash bucket -> count, plus fields 'pruned' and 'full'), 4 pair TAT (string), 5 anti-spam (zset id -> slot),
-- 6 unique users (zset recipient -> last reach).
-- ARGV: now ('' = Redis TIME), notification id, recipient, rate, pair burst, pair interval,
-- per hour, per day, unique users, max sleep, hold grace, grid seconds, prune every, hold keep.
-- Returns {wait (string), binding}.
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local id, recipient = ARGV[2], ARGV[3]
local rate, burst, interval = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local per_hour, per_day, unique_limit = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local max_sleep, grace, grid, prune_every = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local hold_keep = tonumber(ARGV[14])
local HOUR, DAY = 3600, 86400

local function fmt(x) return string.format('%.17g', x) end

local function extend(key, seconds)
  local ms = math.ceil(seconds * 1000)
  local ttl = redis.call('PTTL', key)
  if ttl < ms then redis.call('PEXPIRE', key, ms) end
end

local function window_earliest(key, limit, window)
  if limit <= 0 or redis.call('ZCARD', key) < limit then return now end
  local kth = redis.call('ZREVRANGE', key, limit - 1, limit - 1, 'WITHSCORES')
  return math.max(now, tonumber(kth[2]) + window)
end

-- Holds: a notification coming back for its reserved slot gets that slot again. One coming back
-- later than the grace gets a fresh slot and gives back the pair step of its unused old slot.
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. fmt(now - hold_keep), 'LIMIT', 0, 100)
if #stale > 0 then
  redis.call('ZREM', KEYS[1], unpack(stale))
  redis.call('HDEL', KEYS[2], unpack(stale))
end
local held = redis.call('ZSCORE', KEYS[1], id)
if held then held = tonumber(held) end
if held and held >= now - grace then
  local binding = redis.call('HGET', KEYS[2], id) or 'none'
  local wait = math.max(0, held - now)
  if wait <= max_sleep then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
  end
  return {fmt(wait), binding}
end
local lapsed = held and held >= now - hold_keep
redis.call('ZREM', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)

redis.call('ZREM', KEYS[5], id)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', fmt(now - DAY))
local t_hour = window_earliest(KEYS[5], per_hour, HOUR)
local t_day = window_earliest(KEYS[5], per_day, DAY)

local t_unique = now
local reached = nil
if unique_limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', fmt(now - DAY))
  reached = redis.call('ZSCORE', KEYS[6], recipient)
  if not reached then t_unique = window_earliest(KEYS[6], unique_limit, DAY) end
end

local tat = redis.call('GET', KEYS[4])
if tat then tat = tonumber(tat) end
if tat and lapsed and burst > 0 then tat = tat - interval end
local t_pair = now
if burst > 0 and tat then t_pair = math.max(now, tat - (burst - 1) * interval) end

local slow = math.max(now, t_pair, t_hour, t_day, t_unique)
local binding = 'none'
if slow > now then
  if t_pair == slow then binding = 'pair'
  elseif t_hour == slow then binding = 'anti_spam_hour'
  elseif t_day == slow then binding = 'anti_spam_day'
  else binding = 'unique_users' end
end

local slot = slow
if rate > 0 then
  local per_bucket = math.max(1, math.floor(rate * grid))
  local pruned = tonumber(redis.call('HGET', KEYS[3], 'pruned') or '-1')
  if now - pruned >= prune_every then
    local old = math.floor((now - prune_every) / grid)
    local fields = redis.call('HKEYS', KEYS[3])
    for _, field in ipairs(fields) do
      local bucket = tonumber(field)
      if bucket and bucket < old then redis.call('HDEL', KEYS[3], field) end
    end
    redis.call('HSET', KEYS[3], 'pruned', fmt(now))
  end
  -- Field 'full' = "from:to:per_bucket": every bucket in [from, to) is known to be full, so a scan
  -- starting inside that range jumps to its end (a long backlog costs no long scan).
  local first = math.floor(slow / grid)
  local bucket = first
  local hint_from, hint_to = nil, nil
  local hint = redis.call('HGET', KEYS[3], 'full')
  if hint then
    local f, t, l = string.match(hint, '^(-?%d+):(-?%d+):(%d+)$')
    if f and tonumber(l) == per_bucket then
      hint_from, hint_to = tonumber(f), tonumber(t)
      if hint_from <= first and first < hint_to then bucket = hint_to end
    end
  end
  local scan_from = bucket
  local count = nil
  while not count do
    local fields = {}
    for i = 0, 63 do fields[i + 1] = string.format('%d', bucket + i) end
    local counts = redis.call('HMGET', KEYS[3], unpack(fields))
    for i = 1, 64 do
      local c = tonumber(counts[i] or '0')
      if c < per_bucket then
        bucket = bucket + i - 1
        count = c
        break
      end
    end
    if not count then bucket = bucket + 64 end
  end
  local full_from, full_to = first, bucket
  if scan_from ~= first then full_from = hint_from end
  if count + 1 >= per_bucket then full_to = bucket + 1 end
  if full_to > full_from then
    if hint_from and full_from <= hint_to and full_to >= hint_from then
      full_from, full_to = math.min(full_from, hint_from), math.max(full_to, hint_to)
    elseif hint_from and hint_to > math.floor(now / grid) then
      full_from = nil
    end
    if full_from then
      redis.call('HSET', KEYS[3], 'full', string.format('%d:%d:%d', full_from, full_to, per_bucket))
    end
  end
  slot = math.max(slow, bucket * grid + count * grid / per_bucket)
  redis.call('HSET', KEYS[3], string.format('%d', bucket), count + 1)
  extend(KEYS[3], slot - now + 2 * prune_every)
  if slot > slow then binding = 'throughput' end
end

if burst > 0 then
  local new_tat = math.max(tat or slot, slot) + interval
  redis.call('SET', KEYS[4], fmt(new_tat))
  extend(KEYS[4], new_tat - now + 1)
end
if per_hour > 0 or per_day > 0 then
  redis.call('ZADD', KEYS[5], fmt(slot), id)
  extend(KEYS[5], slot - now + DAY + 1)
end
if unique_limit > 0 then
  redis.call('ZADD', KEYS[6], fmt(math.max(tonumber(reached or slot), slot)), recipient)
  extend(KEYS[6], slot - now + DAY + 1)
end
local wait = slot - now
if wait > max_sleep then
  redis.call('ZADD', KEYS[1], fmt(slot), id)
  redis.call('HSET', KEYS[2], id, binding)
  extend(KEYS[1], wait + hold_keep + 1)
  extend(KEYS[2], wait + hold_keep + 1)
end
return {fmt(wait), binding}
