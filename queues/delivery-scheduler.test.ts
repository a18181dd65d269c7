import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DESTINATION_CHANNELS, type DestinationChannel } from '../src/core/subscription-store.ts';
import { dropRedisPrefix } from '../test/support/gateway.ts';
import { DeliveryScheduler, type DeliveryJobData } from './delivery-scheduler.ts';
import { deliveryTag, dirtyKey, lockKey, pendingKey } from './names.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl);
const prefix = `{sched-${randomUUID().slice(0, 8)}}`;
afterAll(async () => {
  await dropRedisPrefix(prefix, redisUrl);
  redis.disconnect();
});

/** Queues that only record the jobs added to them. */
function recordingQueues() {
  const added: { channel: DestinationChannel; id: string | undefined; delay: number | undefined }[] = [];
  const queues = Object.fromEntries(
    DESTINATION_CHANNELS.map((channel) => [
      channel,
      { addBulk: async (jobs: { opts?: { jobId?: string; delay?: number } }[]) => void added.push(...jobs.map((j) => ({ channel, id: j.opts?.jobId, delay: j.opts?.delay }))) },
    ]),
  ) as unknown as Record<DestinationChannel, Queue<DeliveryJobData>>;
  return { queues, added };
}

// One job waiting per destination at most, none for a destination a job holds (flagged instead),
// every destination of a channel looked at in one script call.
describe('DeliveryScheduler', () => {
  const windows = Object.fromEntries(DESTINATION_CHANNELS.map((c) => [c, 25])) as Record<DestinationChannel, number>;
  const tag = deliveryTag(prefix, 'webhook');

  it('adds a job for a free destination, none for one with a job waiting, and flags a held one', async () => {
    const { queues, added } = recordingQueues();
    const scheduler = new DeliveryScheduler(redis, prefix, queues, windows);
    await redis.set(pendingKey(tag, 'waiting'), 'earlier-job');
    await redis.set(lockKey(tag, 'held'), 'holder');
    const n = await scheduler.schedule([
      { channel: 'webhook', destinationKey: 'free', messageId: 'm1' },
      { channel: 'webhook', destinationKey: 'waiting', messageId: 'm1' },
      { channel: 'webhook', destinationKey: 'held', messageId: 'm1' },
      { channel: 'webhook', destinationKey: 'free', messageId: 'm2' },
      { channel: 'slack', destinationKey: 'slack-free', messageId: 'm1' },
    ]);
    expect(n).toBe(2);
    expect(added).toEqual([
      { channel: 'webhook', id: 'm2__free', delay: 25 },
      { channel: 'slack', id: 'm1__slack-free', delay: 25 },
    ]);
    expect(await redis.get(pendingKey(tag, 'free'))).toBe('m2__free');
    expect(await redis.get(pendingKey(tag, 'waiting'))).toBe('earlier-job');
    expect(await redis.exists(dirtyKey(tag, 'held'), pendingKey(tag, 'held'))).toBe(1);
    expect(await redis.exists(dirtyKey(tag, 'free'), dirtyKey(tag, 'waiting'))).toBe(0);
    expect(await redis.pttl(pendingKey(tag, 'free'))).toBeGreaterThan(60_000);
  });

  it('forced, adds the job whatever waits or holds, under an id that says why', async () => {
    const { queues, added } = recordingQueues();
    const scheduler = new DeliveryScheduler(redis, prefix, queues, windows);
    const n = await scheduler.schedule(
      [
        { channel: 'webhook', destinationKey: 'waiting', messageId: 'm3' },
        { channel: 'webhook', destinationKey: 'held', messageId: 'm3' },
      ],
      { force: 'more', delayMs: 0 },
    );
    expect(n).toBe(2);
    expect(added.map((a) => [a.id, a.delay])).toEqual([
      ['m3__waiting__more', 0],
      ['m3__held__more', 0],
    ]);
    expect(await redis.get(pendingKey(tag, 'waiting'))).toBe('m3__waiting__more');
  });

  it('looks at more destinations than one script call takes', async () => {
    const { queues, added } = recordingQueues();
    const scheduler = new DeliveryScheduler(redis, prefix, queues, windows);
    const items = Array.from({ length: 1201 }, (_, i) => ({ channel: 'webhook' as const, destinationKey: `many-${i}`, messageId: 'm4' }));
    expect(await scheduler.schedule(items)).toBe(1201);
    expect(new Set(added.map((a) => a.id)).size).toBe(1201);
    expect(await scheduler.schedule(items)).toBe(0);
  });
});
