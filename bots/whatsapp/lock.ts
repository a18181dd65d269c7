/**
 * One process owns the WhatsApp Web session: a Redis lock (`SET key token NX PX ttl`) the holder
 * renews; when it dies the lock expires and a passive process takes over.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient as Redis } from '../../src/redis/client.ts';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** The lock's key under the gateway's queue prefix. */
export const sessionLockKey = (prefix: string): string => `${prefix}:whatsapp:session-lock`;

export class SessionLock {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly ttlMs: number,
    readonly token: string = randomUUID(),
  ) {}

  /** Take the lock if nobody holds it. */
  async acquire(): Promise<boolean> {
    return (await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  /** Extend it while we still hold it; false when it was lost (expired, taken over). */
  async renew(): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.key, this.token, String(this.ttlMs))) === 1;
  }

  /** Let it go (only if ours), so a passive process takes over at once. */
  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.token);
  }
}
