/**
 * A token bucket per destination in Redis (BullMQ's open-source edition has no per-group rate
 * limit). Atomic in one Lua script, timed by the Redis server's clock so every worker agrees.
 */
import type { Redis } from 'ioredis';
import type { Pace } from './names.ts';

const SCRIPT = `
local key = KEYS[1]
local release = KEYS[2]
local cap = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or cap
local ts = tonumber(state[2]) or now
tokens = math.min(cap, tokens + (now - ts) / interval)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * interval) end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', key, math.ceil(cap * interval) + 1000)
if wait == 0 and release ~= nil then redis.call('DEL', release) end
return wait
`;

/**
 * Takes one token; returns 0 when allowed, else how many ms until one is available. When a
 * token is granted, `releaseKey` (the destination's "job waiting" flag) is deleted in the same
 * step, so changes arriving from now on schedule their own job.
 */
export async function takeToken(redis: Redis, key: string, pace: Pace, releaseKey?: string): Promise<number> {
  const wait = releaseKey
    ? await redis.eval(SCRIPT, 2, key, releaseKey, String(pace.max), String(pace.perMs / pace.max))
    : await redis.eval(SCRIPT, 1, key, String(pace.max), String(pace.perMs / pace.max));
  return Number(wait);
}
