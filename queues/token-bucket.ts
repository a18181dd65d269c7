/**
 * A token bucket per destination in Redis (BullMQ's open-source edition has no per-group rate
 * limit). Atomic in one Lua script, timed by the Redis server's clock so every worker agrees.
 */
import type { Redis } from 'ioredis';
import type { Pace } from './names.ts';

const SCRIPT = `
local bucket = KEYS[1]
local pending = KEYS[2]
local lock = KEYS[3]
local cap = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local owner = ARGV[3]
local lockMs = tonumber(ARGV[4])
local holder = redis.call('GET', lock)
if holder and holder ~= owner then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', bucket, 'tokens', 'ts')
local tokens = tonumber(state[1]) or cap
local ts = tonumber(state[2]) or now
tokens = math.min(cap, tokens + (now - ts) / interval)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * interval) end
redis.call('HSET', bucket, 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', bucket, math.ceil(cap * interval) + 1000)
if wait == 0 then
  redis.call('SET', lock, owner, 'PX', lockMs)
  redis.call('DEL', pending)
end
return wait
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** The destination is being worked on by another job. */
export const LOCKED = -1;

/**
 * One step for a delivery job: if no other job holds the destination, take one token from its
 * bucket; when granted, also take the destination's lock (for `lockMs`) and clear its "job
 * waiting" flag, so changes arriving from now on schedule their own job. Returns 0 (go),
 * LOCKED, or the ms until a token is available.
 */
export async function acquireDestination(redis: Redis, keys: { bucket: string; pending: string; lock: string }, pace: Pace, owner: string, lockMs: number): Promise<number> {
  const r = await redis.eval(SCRIPT, 3, keys.bucket, keys.pending, keys.lock, String(pace.max), String(pace.perMs / pace.max), owner, String(lockMs));
  return Number(r);
}

/** Release the destination's lock if this job still holds it. */
export async function releaseDestination(redis: Redis, lock: string, owner: string): Promise<void> {
  await redis.eval(RELEASE, 1, lock, owner);
}
