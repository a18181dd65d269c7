import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESTINATION_CHANNELS, type DestinationChannel } from '../src/core/subscription-store.ts';
import { dropRedisPrefix } from '../test/support/gateway.ts';
import { MAX_BATCH, nextBatch, type ClaimedDelivery, type DeliveryLedger } from './delivery-ledger.ts';
import type { DeliveryJobData, DeliveryScheduler } from './delivery-scheduler.ts';
import { DeliveryProcessor, DRAIN_ROUNDS } from './delivery-worker.ts';
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
  it('claims before sending, re-sends the dead worker’s batch with the same delivery id, then sends the rest in the same job', async () => {
    const waiting = [
      { ...row('d1', 'd1+1', 1), messageId: 'm1', address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: '{"id":"m1"}' },
      { ...row('d2', 'd1+1', 1), messageId: 'm2', address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: '{"id":"m2"}' },
      { ...row('d3'), messageId: 'm3', address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: '{"id":"m3"}' },
    ] as unknown as ClaimedDelivery[];
    const calls: string[] = [];
    const ledger = {
      waiting: async () => waiting.filter((r) => !calls.some((c) => c.startsWith('sent ') && c.split(' ')[1]!.split(',').includes(r.id))),
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
    // d3 goes in the next request, from the same job (it still holds the destination): nothing to schedule.
    expect(calls).toEqual(['claim d1,d2 d1+1', 'send 2 d1+1', 'sent d1,d2 d1+1', 'claim d3 d3', 'send 1 d3', 'sent d3 d3']);
    expect(scheduled).toHaveLength(0);
  });

  it('a backlog drains in one job for DRAIN_ROUNDS batches, then a new job takes over', async () => {
    const backlog = Array.from({ length: MAX_BATCH * (DRAIN_ROUNDS + 1) }, (_, i) => ({
      ...row(`r${String(i).padStart(5, '0')}`),
      messageId: `m${i}`,
      address: 'https://example.test/hook',
      thread: null,
      createdAt: new Date(),
      messageJson: '{}',
    })) as unknown as ClaimedDelivery[];
    const done = new Set<string>();
    let sends = 0;
    const ledger = {
      waiting: async () => backlog.filter((r) => !done.has(r.id)).slice(0, MAX_BATCH),
      claim: async () => undefined,
      markSent: async (ids: string[]) => {
        for (const id of ids) done.add(id);
      },
      markFailed: async () => undefined,
    } as unknown as DeliveryLedger;
    const scheduled: unknown[] = [];
    const scheduler = { schedule: async (items: unknown[], opts: unknown) => void scheduled.push({ items, opts }) } as unknown as DeliveryScheduler;
    const counting: DeliverySender = {
      send: async () => {
        sends++;
        return { providerMessageId: null };
      },
    };
    const senders = Object.fromEntries(DESTINATION_CHANNELS.map((ch) => [ch, ch === 'webhook' ? counting : new UnconfiguredSender(ch)])) as Record<DestinationChannel, DeliverySender>;
    const processor = new DeliveryProcessor(redis, prefix, ledger, scheduler, senders, { ...DEFAULT_PACE, webhook: { max: 1000, perMs: 1000 } }, pino({ level: 'silent' }));
    const job = { id: `job-${randomUUID()}`, data: { channel: 'webhook', destinationKey: randomUUID() }, opts: { attempts: 8 }, attemptsMade: 0 } as unknown as Job<DeliveryJobData>;
    const out = await processor.process(job, 'token');
    expect(sends).toBe(DRAIN_ROUNDS);
    expect(out.sent).toBe(MAX_BATCH * DRAIN_ROUNDS);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toMatchObject({ opts: { delayMs: 0, force: 'more' } });
  });
});
