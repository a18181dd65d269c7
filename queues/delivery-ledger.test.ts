import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESTINATION_CHANNELS, type DestinationChannel } from '../src/core/subscription-store.ts';
import { dropRedisPrefix } from '../test/support/gateway.ts';
import { nextBatch, type ClaimedDelivery, type DeliveryLedger } from './delivery-ledger.ts';
import type { DeliveryJobData, DeliveryScheduler } from './delivery-scheduler.ts';
import { DeliveryProcessor } from './delivery-worker.ts';
import { DEFAULT_PACE } from './names.ts';
import { UnconfiguredSender, type DeliveryBatch, type DeliverySender } from './senders.ts';

const row = (id: string, batchId: string | null = null, sends = 0, attempts = 0) => ({ id, batchId, sends, attempts });

describe('nextBatch', () => {
  it('unclaimed rows form a new batch named by the first row', () => {
    expect(nextBatch([row('a'), row('b'), row('c')])).toEqual({ rows: [row('a'), row('b'), row('c')], batchId: 'a+2', resend: false });
    expect(nextBatch([row('a')])).toEqual({ rows: [row('a')], batchId: 'a', resend: false });
    expect(nextBatch([])).toEqual({ rows: [], batchId: '', resend: false });
  });

  it('a batch claimed by a worker that died goes again alone, under its own id', () => {
    const rows = [row('a', 'a+1', 1), row('b', 'a+1', 1), row('c')];
    expect(nextBatch(rows)).toEqual({ rows: [row('a', 'a+1', 1), row('b', 'a+1', 1)], batchId: 'a+1', resend: true });
  });

  it('a failed batch (its outcome written) is retried under its id, not counted as a re-send', () => {
    expect(nextBatch([row('a', 'a', 1, 1), row('b')])).toEqual({ rows: [row('a', 'a', 1, 1)], batchId: 'a', resend: false });
  });

  it('new rows stop before a claimed batch (it goes next, as it was)', () => {
    expect(nextBatch([row('a'), row('b', 'b+1', 1), row('c', 'b+1', 1)])).toEqual({ rows: [row('a')], batchId: 'a', resend: false });
  });
});

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let redis: Redis;
const prefix = `{test-${randomUUID()}}`;
beforeAll(() => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await dropRedisPrefix(prefix, redisUrl);
  redis.disconnect();
});

describe('DeliveryProcessor after a worker died mid-send', () => {
  it('claims before sending, re-sends the dead worker’s batch with the same delivery id, then schedules the rest', async () => {
    const waiting = [
      { ...row('d1', 'd1+1', 1), messageId: 'm1', address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: '{"id":"m1"}' },
      { ...row('d2', 'd1+1', 1), messageId: 'm2', address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: '{"id":"m2"}' },
      { ...row('d3'), messageId: 'm3', address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: '{"id":"m3"}' },
    ] as unknown as ClaimedDelivery[];
    const calls: string[] = [];
    const ledger = {
      waiting: async () => waiting,
      claim: async (ids: string[], batchId: string) => void calls.push(`claim ${ids.join(',')} ${batchId}`),
      markSent: async (ids: string[], _p: unknown, batchId: string) => void calls.push(`sent ${ids.join(',')} ${batchId}`),
      markFailed: async () => undefined,
    } as unknown as DeliveryLedger;
    const scheduled: unknown[] = [];
    const scheduler = { schedule: async (items: unknown[], opts: unknown) => void scheduled.push({ items, opts }) } as unknown as DeliveryScheduler;
    const recording: DeliverySender = {
      send: async (b: DeliveryBatch) => {
        calls.push(`send ${b.messagesJson.length} ${b.batchId}`);
        return { providerMessageId: null };
      },
    };
    const senders = Object.fromEntries(DESTINATION_CHANNELS.map((ch) => [ch, ch === 'webhook' ? recording : new UnconfiguredSender(ch)])) as Record<DestinationChannel, DeliverySender>;
    const processor = new DeliveryProcessor(redis, prefix, ledger, scheduler, senders, DEFAULT_PACE, pino({ level: 'silent' }));
    const job = { id: `job-${randomUUID()}`, data: { channel: 'webhook', destinationKey: randomUUID() }, opts: { attempts: 8 }, attemptsMade: 0 } as unknown as Job<DeliveryJobData>;
    await processor.process(job, 'token');
    expect(calls).toEqual(['claim d1,d2 d1+1', 'send 2 d1+1', 'sent d1,d2 d1+1']);
    // d3 was left for the next request: a job is scheduled at once.
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toMatchObject({ opts: { delayMs: 0, force: 'more' } });
  });
});
