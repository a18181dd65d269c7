/**
 * A token bucket per destination in Redis (BullMQ's open-source edition has no per-group rate
 * limit), and the destination's and its platform's "not before" times (set by a 429's
 * Retry-After or a retry backoff; discord.js keeps per-bucket reset state the same way). Atomic in
 * one Lua script, timed by the Redis server's clock so every worker agrees; tests may pass a clock.
 */
import type { RedisClient as Redis } from '../src/redis/client.ts';
import type { Pace } from './names.ts';
import { redisScript } from '../src/redis/script.ts';

const NOW = `
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

// The acquire script's body (after NOW): KEYS and ARGV 1–7 as acquireKeys / acquireArgs give them.
const ACQUIRE = `
local bucket = KEYS[1]
local pending = KEYS[2]
local lock = KEYS[3]
local hold = KEYS[4]
local platformHold = KEYS[5]
local dirty = KEYS[6]
-- KEYS[7]: the destination's trust mark (destination-guard.ts), read when ARGV[7] is '1'.
local trusted = 0
if ARGV[7] == '1' then trusted = redis.call('EXISTS', KEYS[7]) end
local cap = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local owner = ARGV[4]
local lockMs = tonumber(ARGV[5])
local notBefore = math.max(tonumber(redis.call('GET', hold)) or 0, tonumber(redis.call('GET', platformHold)) or 0)
if notBefore > now then return {notBefore - now, trusted} end
local holder = redis.call('GET', lock)
if holder and holder ~= owner then
  -- Another job holds the destination: it takes this job's changes before it lets go.
  redis.call('SET', dirty, '1', 'PX', lockMs + 60000)
  redis.call('DEL', pending)
  return {-1, trusted}
end
local state = redis.call('HMGET', bucket, 'tokens', 'ts')
local tokens = tonumber(state[1]) or cap
local ts = tonumber(state[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - ts) / interval)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * interval) end
redis.call('HSET', bucket, 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', bucket, math.ceil(cap * interval) + 1000)
if wait == 0 then
  redis.call('SET', lock, owner, 'PX', lockMs)
  -- Taking the destination: its next read sees every waiting row. A holder's next round keeps the
  -- flags: it reads by position, and a row committed late (stamped before it) waits for the look
  -- before it lets go.
  if ARGV[6] == '1' then redis.call('DEL', pending, dirty) end
end
return {wait, trusted}
`;

const SCRIPT = `${NOW}${ACQUIRE}`;

// A batch was answered: its "answered" mark (KEYS[8], value ARGV[8], for ARGV[9] ms), and in the
// same call the holder's next step (ARGV[10]): 'round' takes the next round's token (the acquire
// body, as nextRound); 'look' does so only when changes arrived meanwhile (the dirty flag, then
// cleared), else answers IDLE (-2) and keeps the lock, for the holder to write the outcome and finish.
const ANSWERED = `${NOW}
redis.call('SET', KEYS[8], ARGV[8], 'PX', ARGV[9])
if ARGV[10] == 'look' then
  if redis.call('GET', KEYS[3]) ~= ARGV[4] then return {-1, 0} end
  if redis.call('DEL', KEYS[6]) == 0 then return {-2, 0} end
end
${ACQUIRE}`;

// Nothing was waiting: let go, unless changes arrived meanwhile (then keep the lock and look again).
// KEYS[3]: a batch's "answered" mark whose outcome is written, deleted when ARGV[3] is '1'.
const FINISH = `
if ARGV[3] == '1' then redis.call('DEL', KEYS[3]) end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('DEL', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
redis.call('DEL', KEYS[1])
return 0
`;

const HOLD = `${NOW}
local ms = tonumber(ARGV[2])
local untilMs = now + ms
local current = tonumber(redis.call('GET', KEYS[1])) or 0
if untilMs > current then
  redis.call('SET', KEYS[1], string.format('%d', untilMs), 'PX', ms + 60000)
  return untilMs
end
return current
`;

const RELEASE = `
if ARGV[2] == '1' then redis.call('DEL', KEYS[3]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return redis.call('EXISTS', KEYS[2])
`;

const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

const acquireScript = redisScript(SCRIPT, 7);
const answeredScript = redisScript(ANSWERED, 8);
const holdScript = redisScript(HOLD, 1);
const finishScript = redisScript(FINISH, 3);
const releaseScript = redisScript(RELEASE, 3);
const extendScript = redisScript(EXTEND, 1);

/**
 * The destination is being worked on by another job; the acquire script flagged it ("dirty") so
 * that job sends this one's changes before it lets go: this job has nothing left to do.
 */
export const LOCKED = -1;

/** {@link answeredRound}: nothing arrived since the holder's last read; it still holds the destination. */
export const IDLE = -2;

/**
 * Redis key: the destination may not be sent to before this time (epoch ms, Redis clock). `tag` is
 * the channel queue's hash tag (names.ts `deliveryTag`), like every key the acquire script reads.
 */
export const holdKey = (tag: string, dest: string): string => `${tag}:hold:${dest}`;
/** Redis key: nothing on this channel may be sent before this time (a platform-wide 429); `tag` as {@link holdKey}. */
export const platformHoldKey = (tag: string, channel: string): string => `${tag}:platform-hold:${channel}`;

/** The Redis keys one destination's delivery job checks. */
export interface DestinationKeys {
  bucket: string;
  pending: string;
  lock: string;
  /** {@link holdKey} of the destination. */
  hold: string;
  /** {@link platformHoldKey} of its channel. */
  platformHold: string;
  /** names.ts `dirtyKey`: changes arrived while a job held the destination. */
  dirty: string;
  /** destination-guard.ts `trustKey`: read by {@link takeDestination}. */
  trusted?: string;
}

/**
 * One step for a delivery job: if neither the destination nor its platform is held (429,
 * retry backoff) and no other job holds the destination, take one token from its bucket; when
 * granted, also take the destination's lock (for `lockMs`) and clear its "job waiting" and
 * "dirty" flags: what arrives from now on schedules a job, or flags the destination dirty while
 * it is held. Returns 0 (go), LOCKED (another job holds it and was flagged to take this job's
 * changes), or the ms to wait (until the hold ends or a token is available). `nowMs` replaces
 * the Redis clock (tests).
 */
export async function acquireDestination(redis: Redis, keys: DestinationKeys, pace: Pace, owner: string, lockMs: number, nowMs?: number): Promise<number> {
  return (await takeDestination(redis, keys, pace, owner, lockMs, nowMs)).wait;
}

/**
 * {@link acquireDestination}, and whether the destination is trusted (its `trusted` key exists),
 * read in the same script: no round trip of its own.
 */
export async function takeDestination(redis: Redis, keys: DestinationKeys, pace: Pace, owner: string, lockMs: number, nowMs?: number): Promise<{ wait: number; trusted: boolean }> {
  return answer(await acquireScript.run(redis, acquireKeys(keys), acquireArgs(pace, owner, lockMs, nowMs, true, keys.trusted !== undefined)));
}

/**
 * {@link acquireDestination} for the holder's next batch: a token, and the lock confirmed (LOCKED
 * when it expired and another job took it). The "dirty" flag stays: changes flagged since the
 * holder last read the whole ledger are looked for before it lets go (`finishDestination`).
 */
export async function nextRound(redis: Redis, keys: DestinationKeys, pace: Pace, owner: string, lockMs: number, nowMs?: number): Promise<number> {
  return answer(await acquireScript.run(redis, acquireKeys(keys), acquireArgs(pace, owner, lockMs, nowMs, false, false))).wait;
}

/**
 * A batch was answered: set its "answered" mark (`mark.key`, holding `mark.value`, for `mark.ms`) and,
 * in the same round trip, decide the holder's next step. `round` (a backlog: more is known to
 * wait): {@link nextRound}. `look`: when changes arrived since the holder's last read (the dirty
 * flag, cleared here) {@link nextRound}, else {@link IDLE} (the lock is kept: the holder writes
 * the batch's outcome, then calls {@link finishDestination}). LOCKED when the lock is no longer
 * the holder's.
 */
export async function answeredRound(
  redis: Redis,
  keys: DestinationKeys,
  mark: { key: string; value: string; ms: number },
  mode: 'round' | 'look',
  pace: Pace,
  owner: string,
  lockMs: number,
  nowMs?: number,
): Promise<number> {
  const args = [...acquireArgs(pace, owner, lockMs, nowMs, false, false), mark.value, String(mark.ms), mode];
  return answer(await answeredScript.run(redis, [...acquireKeys(keys), mark.key], args)).wait;
}

const acquireKeys = (keys: DestinationKeys) => [keys.bucket, keys.pending, keys.lock, keys.hold, keys.platformHold, keys.dirty, keys.trusted ?? keys.lock];
const acquireArgs = (pace: Pace, owner: string, lockMs: number, nowMs: number | undefined, taking: boolean, readTrust: boolean) => [
  nowMs === undefined ? '' : String(nowMs),
  String(pace.max),
  String(pace.perMs / pace.max),
  owner,
  String(lockMs),
  taking ? '1' : '',
  readTrust ? '1' : '',
];
/** The acquire script's reply: {wait, trusted}. */
const answer = (reply: unknown): { wait: number; trusted: boolean } => {
  const [wait, trusted] = reply as [number, number];
  return { wait: Number(wait), trusted: Number(trusted) === 1 };
};

/**
 * Nothing may be sent through `key` (a {@link holdKey} or {@link platformHoldKey}) for `ms` from
 * now; an existing later hold stays. Returns the hold's end (epoch ms, Redis clock unless `nowMs`).
 */
export async function holdUntil(redis: Redis, key: string, ms: number, nowMs?: number): Promise<number> {
  return Number(await holdScript.run(redis, [key], [nowMs === undefined ? '' : String(nowMs), String(Math.max(0, Math.ceil(ms)))]));
}

/**
 * The holder found nothing waiting: true when changes arrived meanwhile (the dirty flag, now
 * cleared; the lock is kept for `lockMs` and the holder looks again), else the lock is released.
 * `forget`: a key in the destination's slot deleted in the same round trip (a batch's "answered"
 * mark, names.ts answeredKey, once its outcome is written).
 */
export async function finishDestination(redis: Redis, keys: Pick<DestinationKeys, 'lock' | 'dirty'>, owner: string, lockMs: number, forget?: string): Promise<boolean> {
  return Number(await finishScript.run(redis, [keys.lock, keys.dirty, forget ?? keys.lock], [owner, String(lockMs), forget ? '1' : ''])) === 1;
}

/**
 * Release the destination's lock if this job still holds it. Returns whether it is flagged dirty
 * (changes arrived that nobody has looked at: the caller schedules a job for them). `forget` as
 * in {@link finishDestination}.
 */
export async function releaseDestination(redis: Redis, keys: Pick<DestinationKeys, 'lock' | 'dirty'>, owner: string, forget?: string): Promise<boolean> {
  return Number(await releaseScript.run(redis, [keys.lock, keys.dirty, forget ?? keys.lock], [owner, forget ? '1' : ''])) === 1;
}

/**
 * Keep the destination's lock while this job works on it (a slow database or a busy event loop
 * must not let a second job take the same rows); 0 when another job holds it now.
 */
export async function extendDestination(redis: Redis, lock: string, owner: string, lockMs: number): Promise<number> {
  return Number(await extendScript.run(redis, [lock], [owner, String(lockMs)]));
}
