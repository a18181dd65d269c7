import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acquireDestination,
  answeredRound,
  extendDestination,
  IDLE,
  finishDestination,
  holdKey,
  holdUntil,
  LOCKED,
  nextRound,
  platformHoldKey,
  releaseDestination,
  takeDestination,
} from './token-bucket.ts';

const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `{t${randomUUID().slice(0, 8)}}`;
const keys = (d: string, channel = 'slack') => ({
  bucket: `${prefix}:bucket:${d}`,
  pending: `${prefix}:pending:${d}`,
  lock: `${prefix}:lock:${d}`,
  hold: holdKey(prefix, d),
  platformHold: platformHoldKey(prefix, channel),
  dirty: `${prefix}:dirty:${d}`,
});
/** An injected clock (epoch ms): the scripts use it instead of Redis TIME, so no result depends on load. */
const T0 = 1_700_000_000_000;
afterAll(async () => {
  const found = await redis.keys(`${prefix}:*`);
  if (found.length) await redis.del(...found);
  redis.disconnect();
});

describe('destination token bucket and lock', () => {
  it('tells with the lock whether the destination is trusted, whatever the answer', async () => {
    const k = { ...keys('trust'), trusted: `${prefix}:trusted:trust` };
    const pace = { max: 100, perMs: 1000 };
    expect(await takeDestination(redis, k, pace, 'jobA', 5000)).toEqual({ wait: 0, trusted: false });
    await redis.set(k.trusted, '1');
    expect(await takeDestination(redis, k, pace, 'jobB', 5000)).toEqual({ wait: LOCKED, trusted: true });
    await releaseDestination(redis, k, 'jobA');
    expect(await takeDestination(redis, k, pace, 'jobB', 5000)).toEqual({ wait: 0, trusted: true });
  });

  it('deletes the answered mark it is given when it finishes or releases', async () => {
    const k = keys('forget');
    const pace = { max: 100, perMs: 1000 };
    await redis.set(`${prefix}:answered:b1`, 'p1');
    await redis.set(`${prefix}:answered:b2`, 'p2');
    expect(await acquireDestination(redis, k, pace, 'jobA', 5000)).toBe(0);
    expect(await finishDestination(redis, k, 'jobA', 5000, `${prefix}:answered:b1`)).toBe(false);
    expect(await redis.exists(`${prefix}:answered:b1`, `${prefix}:answered:b2`)).toBe(1);
    await releaseDestination(redis, k, 'jobA', `${prefix}:answered:b2`);
    expect(await redis.exists(`${prefix}:answered:b2`)).toBe(0);
  });

  it('paces a destination: a burst of its size, then waits exactly for the next token', async () => {
    const k = keys('paced');
    const pace = { max: 2, perMs: 1000 };
    const results = [];
    for (let i = 0; i < 3; i++) {
      const r = await acquireDestination(redis, k, pace, `job${i}`, 5000, T0);
      results.push(r);
      if (r === 0) await releaseDestination(redis, k, `job${i}`);
    }
    expect(results).toEqual([0, 0, 500]); // one token per 500 ms
    expect(await acquireDestination(redis, k, pace, 'job3', 5000, T0 + 200)).toBe(300);
    expect(await acquireDestination(redis, k, pace, 'job3', 5000, T0 + 500)).toBe(0);
  });

  it('lets one job at a time work on a destination, and clears the waiting flag when granted', async () => {
    const k = keys('locked');
    const pace = { max: 100, perMs: 1000 };
    await redis.set(k.pending, 'jobA');
    expect(await acquireDestination(redis, k, pace, 'jobA', 5000)).toBe(0);
    expect(await redis.exists(k.pending)).toBe(0);
    expect(await acquireDestination(redis, k, pace, 'jobB', 5000)).toBe(LOCKED);
    expect(await acquireDestination(redis, k, pace, 'jobA', 5000)).toBe(0); // the holder may re-enter (a retried job)
    await releaseDestination(redis, k, 'jobB'); // not the holder: no effect
    expect(await acquireDestination(redis, k, pace, 'jobB', 5000)).toBe(LOCKED);
    await releaseDestination(redis, k, 'jobA');
    expect(await acquireDestination(redis, k, pace, 'jobB', 5000)).toBe(0);
  });

  it('the holder’s next round keeps the dirty flag (it reads by position); taking the destination clears it', async () => {
    const k = keys('next-round');
    const pace = { max: 100, perMs: 1000 };
    expect(await acquireDestination(redis, k, pace, 'holder', 5000)).toBe(0);
    await redis.set(k.dirty, '1'); // a change arrived while it sent
    expect(await nextRound(redis, k, pace, 'holder', 5000)).toBe(0);
    expect(await redis.exists(k.dirty)).toBe(1);
    expect(await nextRound(redis, k, pace, 'other', 5000)).toBe(LOCKED); // a lost lock is still noticed
    expect(await finishDestination(redis, k, 'holder', 5000)).toBe(true); // looks again
    await releaseDestination(redis, k, 'holder');
    await redis.set(k.dirty, '1');
    expect(await acquireDestination(redis, k, pace, 'next', 5000)).toBe(0);
    expect(await redis.exists(k.dirty)).toBe(0);
  });

  it('notes a batch’s answer and decides the holder’s next round in one call', async () => {
    const k = keys('answered');
    const pace = { max: 2, perMs: 1000 };
    const mark = (b: string) => ({ key: `${prefix}:answered:${b}`, value: `p-${b}`, ms: 60_000 });
    expect(await acquireDestination(redis, k, pace, 'holder', 5000, T0)).toBe(0);
    // Nothing arrived since its read: IDLE, the lock kept (the holder writes the outcome, then finishes); no token taken.
    expect(await answeredRound(redis, k, mark('b1'), 'look', pace, 'holder', 5000, T0)).toBe(IDLE);
    expect(await redis.get(`${prefix}:answered:b1`)).toBe('p-b1');
    expect(await redis.get(k.lock)).toBe('holder');
    // A change arrived (dirty): the flag is taken and so is the next round's token.
    await redis.set(k.dirty, '1');
    expect(await answeredRound(redis, k, mark('b2'), 'look', pace, 'holder', 5000, T0)).toBe(0);
    expect(await redis.exists(k.dirty)).toBe(0);
    expect(await redis.pttl(`${prefix}:answered:b2`)).toBeGreaterThan(50_000);
    // A backlog ('round') needs no flag: the next token, here the pace's wait for it.
    expect(await answeredRound(redis, k, mark('b3'), 'round', pace, 'holder', 5000, T0)).toBe(500);
    // A lock that is no longer the holder's: LOCKED in either mode, and the answer is still noted.
    await redis.set(k.lock, 'other');
    await redis.set(k.dirty, '1');
    expect(await answeredRound(redis, k, mark('b4'), 'look', pace, 'holder', 5000, T0 + 5000)).toBe(LOCKED);
    expect(await redis.exists(k.dirty)).toBe(1); // the flag stays for the lock's holder
    expect(await answeredRound(redis, k, mark('b5'), 'round', pace, 'holder', 5000, T0 + 5000)).toBe(LOCKED);
    expect(await redis.exists(`${prefix}:answered:b4`, `${prefix}:answered:b5`)).toBe(2);
  });

  it('a job finding the destination held hands over: the holder looks again before it lets go', async () => {
    const k = keys('hand-over');
    const pace = { max: 100, perMs: 1000 };
    expect(await acquireDestination(redis, k, pace, 'holder', 5000)).toBe(0);
    await redis.set(k.pending, 'late');
    expect(await acquireDestination(redis, k, pace, 'late', 5000)).toBe(LOCKED);
    expect(await redis.exists(k.pending)).toBe(0); // the late job ends; a later change schedules a job again
    // The holder found its batch empty: the flag keeps the lock and says look again, once.
    expect(await finishDestination(redis, k, 'holder', 5000)).toBe(true);
    expect(await redis.get(k.lock)).toBe('holder');
    expect(await finishDestination(redis, k, 'holder', 5000)).toBe(false);
    expect(await redis.exists(k.lock)).toBe(0);
    // Not the holder (its lock expired and was taken): it neither loops nor releases.
    expect(await acquireDestination(redis, k, pace, 'next', 5000)).toBe(0);
    await redis.set(k.dirty, '1');
    expect(await finishDestination(redis, k, 'holder', 5000)).toBe(false);
    expect(await redis.get(k.lock)).toBe('next');
    // Leaving early (pace, round cap), the holder learns whether changes are waiting for a job.
    expect(await releaseDestination(redis, k, 'next')).toBe(true);
    expect(await redis.exists(k.lock)).toBe(0);
    expect(await acquireDestination(redis, k, pace, 'after', 5000)).toBe(0);
    expect(await redis.exists(k.dirty)).toBe(0); // taken by the job that now looks
    expect(await releaseDestination(redis, k, 'after')).toBe(false);
  });

  it('frees the lock of a job that died once it expires', async () => {
    const k = keys('expired');
    const pace = { max: 100, perMs: 1000 };
    expect(await acquireDestination(redis, k, pace, 'dead-job', 60_000)).toBe(0);
    expect(await acquireDestination(redis, k, pace, 'next-job', 60_000)).toBe(LOCKED);
    const ttl = await redis.pttl(k.lock);
    expect(ttl).toBeGreaterThan(0); // the lock expires by itself…
    expect(ttl).toBeLessThanOrEqual(60_000);
    await redis.pexpire(k.lock, 1); // …let it expire now rather than wait a minute
    for (let i = 0; i < 100 && (await redis.exists(k.lock)); i++) await new Promise((r) => setTimeout(r, 5));
    expect(await acquireDestination(redis, k, pace, 'next-job', 60_000)).toBe(0);
  });

  it('holds a destination until its hold ends, for every job, and keeps the later of two holds', async () => {
    const k = keys('held');
    const pace = { max: 100, perMs: 1000 };
    expect(await holdUntil(redis, k.hold, 2000, T0)).toBe(T0 + 2000);
    expect(await holdUntil(redis, k.hold, 500, T0)).toBe(T0 + 2000); // a shorter hold does not cut it
    expect(await acquireDestination(redis, k, pace, 'jobA', 5000, T0 + 10)).toBe(1990);
    expect(await acquireDestination(redis, k, pace, 'jobB', 5000, T0 + 1999)).toBe(1);
    expect(await redis.exists(k.lock)).toBe(0); // a held destination is not locked by anyone
    expect(await acquireDestination(redis, k, pace, 'jobB', 5000, T0 + 2000)).toBe(0);
    // Another destination is not held.
    expect(await acquireDestination(redis, keys('not-held'), pace, 'jobC', 5000, T0 + 10)).toBe(0);
  });

  it("holds every destination of a platform after a platform-wide 429, and no other platform's", async () => {
    const pace = { max: 100, perMs: 1000 };
    const a = keys('discord-a', 'discord');
    const b = keys('discord-b', 'discord');
    const other = keys('email-a', 'email');
    await holdUntil(redis, a.platformHold, 1500, T0);
    expect(await acquireDestination(redis, a, pace, 'jobA', 5000, T0)).toBe(1500);
    expect(await acquireDestination(redis, b, pace, 'jobB', 5000, T0 + 500)).toBe(1000);
    expect(await acquireDestination(redis, other, pace, 'jobC', 5000, T0 + 500)).toBe(0);
    expect(await acquireDestination(redis, b, pace, 'jobB', 5000, T0 + 1500)).toBe(0);
  });

  it('uses the Redis clock when no clock is passed', async () => {
    const k = keys('real-clock');
    const end = await holdUntil(redis, k.hold, 60_000);
    const [s, us] = await redis.time();
    const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
    expect(end).toBeGreaterThan(now);
    expect(end).toBeLessThanOrEqual(now + 60_000);
    expect(await acquireDestination(redis, k, { max: 1, perMs: 1000 }, 'jobA', 5000)).toBeGreaterThan(0);
  });

  it('the lock holder keeps its lock alive; another job cannot extend it', async () => {
    const k = keys('renewed');
    expect(await acquireDestination(redis, k, { max: 10, perMs: 1000 }, 'holder', 5000, T0)).toBe(0);
    expect(await extendDestination(redis, k.lock, 'other', 60_000)).toBe(0);
    expect(await redis.pttl(k.lock)).toBeLessThanOrEqual(5000);
    expect(await extendDestination(redis, k.lock, 'holder', 60_000)).toBe(1);
    expect(await redis.pttl(k.lock)).toBeGreaterThan(5000);
  });
});
