/**
 * What keeps one destination from holding up the others (issue 14):
 * - trust: a destination whose last send succeeded (within {@link TRUST_TTL_MS}) is trusted; any
 *   other (never sent to, or failing) sends only through a per-channel semaphore of a bounded size,
 *   so receivers that hang can hold at most that many of the channel's workers;
 * - a circuit breaker: consecutive failures per destination; past a threshold the destination is
 *   parked (held) for a growing time, and the next job after the hold is the probe.
 * State lives in Redis (every worker agrees; the semaphore's entries expire if a worker dies).
 */
import type { RedisClient as Redis } from '../src/redis/client.ts';
import { redisScript } from '../src/redis/script.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';
import { deliveryTag, queueTag } from './names.ts';

/** A destination stays trusted this long after its last successful send. */
export const TRUST_TTL_MS = 60 * 60_000;

// A destination's trust and breaker keys sit in its channel queue's slot (names.ts deliveryTag),
// with the keys the acquire script reads: it reads the trust mark too (token-bucket.ts).
export const trustKey = (prefix: string, channel: DestinationChannel, dest: string): string => `${deliveryTag(prefix, channel)}:trusted:${dest}`;
export const breakerKey = (prefix: string, channel: DestinationChannel, dest: string): string => `${deliveryTag(prefix, channel)}:breaker:${dest}`;
export const untrustedSlotsKey = (prefix: string, channel: string): string => `${queueTag(prefix, `deliver-${channel}`)}:untrusted-slots`;

const acquireSlot = redisScript(
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local cap = tonumber(ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) or redis.call('ZCARD', KEYS[1]) < cap then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + 60000)
  return 1
end
return 0
`,
  1,
);

export interface CircuitBreakerOptions {
  /** Consecutive failed sends after which the destination is parked. */
  threshold: number;
  /** First park (ms); doubles with each further failure, up to `maxOpenMs`. */
  openMs: number;
  maxOpenMs: number;
}

export const DEFAULT_BREAKER: CircuitBreakerOptions = { threshold: 3, openMs: 30_000, maxOpenMs: 10 * 60_000 };

export class DestinationGuard {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Most concurrent sends to untrusted destinations, per channel. */
    readonly untrustedCap: number,
    private readonly breaker: CircuitBreakerOptions = DEFAULT_BREAKER,
  ) {}

  /** Take one of the channel's untrusted-send slots for `ttlMs` (freed by {@link release} or expiry). */
  async acquire(channel: string, owner: string, ttlMs: number): Promise<boolean> {
    return Number(await acquireSlot.run(this.redis, [untrustedSlotsKey(this.prefix, channel)], [String(this.untrustedCap), owner, String(ttlMs)])) === 1;
  }

  async release(channel: string, owner: string): Promise<void> {
    await this.redis.zrem(untrustedSlotsKey(this.prefix, channel), owner);
  }

  /** A send succeeded: trusted again, breaker closed. */
  async succeeded(channel: DestinationChannel, dest: string): Promise<void> {
    await this.redis
      .multi()
      .set(trustKey(this.prefix, channel, dest), '1', 'PX', TRUST_TTL_MS)
      .del(breakerKey(this.prefix, channel, dest))
      .exec();
  }

  /**
   * A send failed (retryable): no longer trusted; returns how long the breaker parks the
   * destination (0 while under the threshold) and the consecutive failure count.
   */
  async failed(channel: DestinationChannel, dest: string): Promise<{ failures: number; parkMs: number }> {
    const key = breakerKey(this.prefix, channel, dest);
    const r = await this.redis
      .multi()
      .del(trustKey(this.prefix, channel, dest))
      .incr(key)
      .pexpire(key, this.breaker.maxOpenMs * 4)
      .exec();
    const failures = Number(r?.[1]?.[1] ?? 1);
    const over = failures - this.breaker.threshold;
    const parkMs = over < 0 ? 0 : Math.min(this.breaker.maxOpenMs, this.breaker.openMs * 2 ** over);
    return { failures, parkMs };
  }
}
