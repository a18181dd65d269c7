import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireDestination, LOCKED, releaseDestination } from './token-bucket.ts';

const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `{t${randomUUID().slice(0, 8)}}`;
const keys = (d: string) => ({ bucket: `${prefix}:bucket:${d}`, pending: `${prefix}:pending:${d}`, lock: `${prefix}:lock:${d}` });
afterAll(async () => {
  const found = await redis.keys(`${prefix}:*`);
  if (found.length) await redis.del(...found);
  redis.disconnect();
});

describe('destination token bucket and lock', () => {
  it('paces a destination: a burst of its size, then waits about one interval', async () => {
    const k = keys('paced');
    const pace = { max: 2, perMs: 1000 };
    const results = [];
    for (let i = 0; i < 3; i++) {
      const r = await acquireDestination(redis, k, pace, `job${i}`, 5000);
      results.push(r);
      if (r === 0) await releaseDestination(redis, k.lock, `job${i}`);
    }
    expect(results.slice(0, 2)).toEqual([0, 0]);
    expect(results[2]).toBeGreaterThan(300);
    expect(results[2]).toBeLessThanOrEqual(500);
  });

  it('lets one job at a time work on a destination, and clears the waiting flag when granted', async () => {
    const k = keys('locked');
    const pace = { max: 100, perMs: 1000 };
    await redis.set(k.pending, 'jobA');
    expect(await acquireDestination(redis, k, pace, 'jobA', 5000)).toBe(0);
    expect(await redis.exists(k.pending)).toBe(0);
    expect(await acquireDestination(redis, k, pace, 'jobB', 5000)).toBe(LOCKED);
    expect(await acquireDestination(redis, k, pace, 'jobA', 5000)).toBe(0); // the holder may re-enter (a retried job)
    await releaseDestination(redis, k.lock, 'jobB'); // not the holder: no effect
    expect(await acquireDestination(redis, k, pace, 'jobB', 5000)).toBe(LOCKED);
    await releaseDestination(redis, k.lock, 'jobA');
    expect(await acquireDestination(redis, k, pace, 'jobB', 5000)).toBe(0);
  });

  it('frees the lock of a job that died once it expires', async () => {
    const k = keys('expired');
    const pace = { max: 100, perMs: 1000 };
    expect(await acquireDestination(redis, k, pace, 'dead-job', 100)).toBe(0);
    expect(await acquireDestination(redis, k, pace, 'next-job', 100)).toBe(LOCKED);
    await new Promise((r) => setTimeout(r, 150));
    expect(await acquireDestination(redis, k, pace, 'next-job', 100)).toBe(0);
  });
});
