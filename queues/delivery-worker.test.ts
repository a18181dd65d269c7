import { randomUUID } from 'node:crypto';
import { UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderValidationError } from '../renderers/errors.ts';
import { NetworkError, ServerError, ValidationError } from '../src/core/channel-errors.ts';
import { DESTINATION_CHANNELS, type DestinationChannel } from '../src/core/subscription-store.ts';
import type { DeliveryLedger } from './delivery-ledger.ts';
import type { DeliveryJobData, DeliveryScheduler } from './delivery-scheduler.ts';
import { DeliveryProcessor } from './delivery-worker.ts';
import { DEFAULT_PACE } from './names.ts';
import { UnconfiguredSender, type DeliverySender } from './senders.ts';
import { dropRedisPrefix } from '../test/support/gateway.ts';

// The delivery worker's retry decision comes from classifyError: each thrown value → the row
// status the ledger records ('failed' = BullMQ retries, 'dead' = dead letter) and what is rethrown.

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let redis: Redis;
const prefix = `{test-${randomUUID()}}`;

beforeAll(() => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await dropRedisPrefix(prefix, redisUrl); // its keys are under tags derived from the prefix
  redis.disconnect();
});

async function deliverThrowing(err: unknown, channel: DestinationChannel = 'webhook') {
  const marked: Array<{ ids: string[]; error: string; status: string }> = [];
  const ledger = {
    waiting: async () => [{ id: 'd1', messageId: 'm1', address: 'https://example.test/hook', thread: null, messageJson: '{}' }],
    claim: async () => undefined,
    markSent: async () => undefined,
    markFailed: async (ids: string[], error: string, status: string) => void marked.push({ ids, error, status }),
  } as unknown as DeliveryLedger;
  const scheduler = { schedule: async () => undefined } as unknown as DeliveryScheduler;
  const throwing: DeliverySender = { send: async () => Promise.reject(err) };
  const senders = Object.fromEntries(DESTINATION_CHANNELS.map((ch) => [ch, ch === channel && err !== undefined ? throwing : new UnconfiguredSender(ch)])) as Record<DestinationChannel, DeliverySender>;
  const processor = new DeliveryProcessor(redis, prefix, ledger, scheduler, senders, DEFAULT_PACE, pino({ level: 'silent' }));
  const job = { id: `job-${randomUUID()}`, data: { channel, destinationKey: randomUUID() }, opts: { attempts: 8 }, attemptsMade: 0 } as unknown as Job<DeliveryJobData>;
  const thrown = await processor.process(job, 'token').then(
    () => undefined,
    (e: unknown) => e,
  );
  return { marked, thrown };
}

describe('DeliveryProcessor retry decision (first of 8 attempts)', () => {
  it.each([
    ['RenderValidationError (can never fit the channel)', new RenderValidationError('sms', 'SMS_SEGMENT', 'too long')],
    ['ValidationError', new ValidationError('400', 'webhook')],
    ['an unknown error (a bug)', new TypeError("Cannot read properties of undefined (reading 'text')")],
  ])('%s is dead-lettered at once', async (_name, err) => {
    const { marked, thrown } = await deliverThrowing(err);
    expect(marked).toEqual([{ ids: ['d1'], error: (err as Error).message, status: 'dead' }]);
    expect(thrown).toBeInstanceOf(UnrecoverableError);
  });

  it.each([
    ['NetworkError', new NetworkError('timeout', 'webhook')],
    ['ServerError', new ServerError('502', 'webhook')],
    ['an unwrapped ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ])('%s is retried', async (_name, err) => {
    const { marked, thrown } = await deliverThrowing(err);
    expect(marked).toEqual([{ ids: ['d1'], error: (err as Error).message, status: 'failed' }]);
    expect(thrown).not.toBeInstanceOf(UnrecoverableError);
    expect(thrown).toBe(err);
  });

  it('an unconfigured channel is dead-lettered with a reason that says how to replay it', async () => {
    const { marked, thrown } = await deliverThrowing(undefined, 'discord');
    expect(marked).toHaveLength(1);
    expect(marked[0]!.status).toBe('dead');
    expect(marked[0]!.error).toMatch(/No discord adapter is configured.*configure it and retry the dead letters/);
    expect(thrown).toBeInstanceOf(UnrecoverableError);
  });
});
