import { randomUUID } from 'node:crypto';
import { UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderValidationError } from '../renderers/errors.ts';
import { NetworkError, ServerError, ValidationError } from '../src/core/channel-errors.ts';
import { DESTINATION_CHANNELS, type DestinationChannel } from '../src/core/subscription-store.ts';
import { MAX_BATCH, type ClaimedDelivery, type DeliveryLedger, type SentBatch, type SentOutcome } from './delivery-ledger.ts';
import type { DeliveryJobData, DeliveryScheduler } from './delivery-scheduler.ts';
import { DeliveryProcessor, DRAIN_ROUNDS } from './delivery-worker.ts';
import { answeredKey, DEFAULT_PACE, deliveryTag, dirtyKey, LEAVING, lockKey } from './names.ts';
import { UnconfiguredSender, type DeliveryBatch, type DeliverySender } from './senders.ts';
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

/** Every channel unconfigured but `channel`, which sends with `sender`. */
const sendersWith = (channel: DestinationChannel, sender: DeliverySender | undefined) =>
  Object.fromEntries(DESTINATION_CHANNELS.map((ch) => [ch, ch === channel && sender ? sender : new UnconfiguredSender(ch)])) as Record<DestinationChannel, DeliverySender>;
const processorWith = (ledger: DeliveryLedger, scheduler: DeliveryScheduler, senders: Record<DestinationChannel, DeliverySender>, paces = DEFAULT_PACE) =>
  new DeliveryProcessor(redis, prefix, ledger, scheduler, senders, paces, pino({ level: 'silent' }));
/** A delivery job for a fresh destination, on its first of 8 attempts. */
const firstAttempt = (channel: DestinationChannel = 'webhook') =>
  ({ id: `job-${randomUUID()}`, data: { channel, destinationKey: randomUUID() }, opts: { attempts: 8 }, attemptsMade: 0 }) as unknown as Job<DeliveryJobData>;
/** Rows as `DeliveryLedger.waiting` returns them. */
const row = (id: string, batchId: string | null = null, sends = 0, attempts = 0) => ({ id, batchId, sends, attempts });
/** A waiting row of one destination, as the ledger hands it to the processor. */
const waitingRow = (id: string, i = 0) =>
  ({ ...row(id), messageId: `m-${i}-${id}`, address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: `{"id":"${id}"}` }) as unknown as ClaimedDelivery;
/** `n` waiting rows, oldest first. */
const backlogOf = (n: number) => Array.from({ length: n }, (_, i) => waitingRow(`r${String(i).padStart(5, '0')}`, i));
/**
 * A ledger over `rows` (which may grow): `waiting` gives the unsent ones up to its limit; reads,
 * claims and outcomes are recorded in `calls`. `outcomeMs`: a `sent` write takes that long, and its
 * end is recorded too.
 */
function ledgerOver(rows: ClaimedDelivery[], outcomeMs = 0, claimsOnRead?: (rows: ClaimedDelivery[]) => string | undefined) {
  const sent = new Set<string>();
  const calls: string[] = [];
  const waiting = (limit = MAX_BATCH) => rows.filter((r) => !sent.has(r.id)).slice(0, limit);
  const ledger = {
    waiting: async (_d: string, limit = MAX_BATCH) => {
      calls.push('read');
      return waiting(limit);
    },
    // As the real one: the read claims a fresh batch when `claimsOnRead` names it (by default it claims nothing).
    takeWaiting: async (_d: string, _max: number, last?: SentOutcome) => {
      // As the real one: the last request's outcome, when given, is written first (the same statement).
      for (const id of last?.batch.ids ?? []) sent.add(id);
      const read = waiting();
      const claimed = read.length ? claimsOnRead?.(read) : undefined;
      calls.push(`${last ? `sent ${last.batch.ids.length} + ` : ''}${claimed === undefined ? 'read' : `read+claim ${claimed}`}`);
      return { rows: read, claimed };
    },
    unclaim: async (batchId: string) => void calls.push(`unclaim ${batchId}`),
    waitingAfter: async (_d: string, afterId: string, limit = MAX_BATCH) => {
      calls.push('read after');
      return rows.filter((r) => !sent.has(r.id) && r.id > afterId).slice(0, limit);
    },
    claim: async ({ ids }: SentBatch) => void calls.push(`claim ${ids.length}`),
    markSent: async ({ ids }: SentBatch) => {
      calls.push(`sent ${ids.length}`);
      if (outcomeMs > 0) await new Promise((r) => setTimeout(r, outcomeMs));
      for (const id of ids) sent.add(id);
      if (outcomeMs > 0) calls.push(`sent ${ids.length} written`);
    },
    markFailed: async () => undefined,
  } as unknown as DeliveryLedger;
  return { ledger, calls };
}
/** A scheduler that only records what it was asked to schedule. */
function recordingScheduler() {
  const scheduled: { items: unknown[]; opts: unknown }[] = [];
  const scheduler = { schedule: async (items: unknown[], opts: unknown) => void scheduled.push({ items, opts }) } as unknown as DeliveryScheduler;
  return { scheduler, scheduled };
}
/** Webhook pace high enough that a backlog never waits for a token. */
const FAST_WEBHOOKS = { ...DEFAULT_PACE, webhook: { max: 1000, perMs: 1000 } };

async function deliverThrowing(err: unknown, channel: DestinationChannel = 'webhook') {
  const marked: Array<{ ids: string[]; error: string; status: string; dead: string[] }> = [];
  const ledger = {
    takeWaiting: async () => ({ rows: [{ id: 'd1', messageId: 'm1', address: 'https://example.test/hook', thread: null, messageJson: '{}' }], claimed: undefined }),
    claim: async () => undefined,
    markSent: async () => undefined,
    markFailed: async ({ ids }: SentBatch, error: string, status: string, dead: string[] = []) => void marked.push({ ids, error, status, dead }),
  } as unknown as DeliveryLedger;
  const scheduler = { schedule: async () => undefined } as unknown as DeliveryScheduler;
  const throwing: DeliverySender = { send: async () => Promise.reject(err) };
  const thrown = await processorWith(ledger, scheduler, sendersWith(channel, err !== undefined ? throwing : undefined))
    .process(firstAttempt(channel), 'token')
    .then(
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
    expect(marked).toEqual([{ ids: ['d1'], error: (err as Error).message, status: 'dead', dead: ['d1'] }]);
    expect(thrown).toBeInstanceOf(UnrecoverableError);
  });

  it.each([
    ['NetworkError', new NetworkError('timeout', 'webhook')],
    ['ServerError', new ServerError('502', 'webhook')],
    ['an unwrapped ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ])('%s is retried', async (_name, err) => {
    const { marked, thrown } = await deliverThrowing(err);
    expect(marked).toEqual([{ ids: ['d1'], error: (err as Error).message, status: 'failed', dead: [] }]);
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

describe('DeliveryProcessor after a worker died mid-send', () => {
  /** d1 and d2 claimed as batch d1+1 by a worker that died without an outcome, d3 new; the ledger and sender record their calls. */
  function afterDeadWorker() {
    const waiting = [
      { ...row('d1', 'd1+1', 1), messageId: 'm1', address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: '{"id":"m1"}' },
      { ...row('d2', 'd1+1', 1), messageId: 'm2', address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: '{"id":"m2"}' },
      { ...row('d3'), messageId: 'm3', address: 'https://example.test/hook', thread: null, createdAt: new Date(), messageJson: '{"id":"m3"}' },
    ] as unknown as ClaimedDelivery[];
    const calls: string[] = [];
    const ledger = {
      takeWaiting: async () => ({ rows: waiting.filter((r) => !calls.some((c) => c.startsWith('sent ') && c.split(' ')[1]!.split(',').includes(r.id))), claimed: undefined }),
      claim: async ({ ids, batchId }: SentBatch, lastLeft = true) => void calls.push(`claim ${ids.join(',')} ${batchId}${lastLeft ? '' : ' (its last request never left)'}`),
      markSent: async ({ ids, batchId }: SentBatch, providerMessageId: string | null) => void calls.push(`sent ${ids.join(',')} ${batchId} ${providerMessageId}`),
      markFailed: async () => undefined,
    } as unknown as DeliveryLedger;
    const sender: DeliverySender = {
      send: async (b: DeliveryBatch) => {
        calls.push(`send ${b.messagesJson.length} ${b.batchId}`);
        return { providerMessageId: `p-${b.batchId}` };
      },
    };
    return { calls, ledger, sender };
  }

  it('claims before sending, re-sends the dead worker’s batch with the same delivery id, then sends the rest in the same job', async () => {
    const { calls, ledger, sender } = afterDeadWorker();
    const scheduled: unknown[] = [];
    const scheduler = { schedule: async (items: unknown[], opts: unknown) => void scheduled.push({ items, opts }) } as unknown as DeliveryScheduler;
    const tag = deliveryTag(prefix, 'webhook');
    await redis.set(answeredKey(tag, 'd1+1'), LEAVING, 'PX', 60_000); // its request had left, no answer read
    await processorWith(ledger, scheduler, sendersWith('webhook', sender)).process(firstAttempt(), 'token');
    // d3 goes in the next request, from the same job (it still holds the destination): nothing to schedule.
    expect(calls).toEqual(['claim d1,d2 d1+1', 'send 2 d1+1', 'sent d1,d2 d1+1 p-d1+1', 'claim d3 d3', 'send 1 d3', 'sent d3 d3 p-d3']);
    expect(scheduled).toHaveLength(0);
  });

  it('sends a dead worker’s batch whose request never left (no mark) without counting a second send', async () => {
    const { calls, ledger, sender } = afterDeadWorker();
    const scheduler = { schedule: async () => undefined } as unknown as DeliveryScheduler;
    await processorWith(ledger, scheduler, sendersWith('webhook', sender)).process(firstAttempt(), 'token');
    expect(calls.slice(0, 2)).toEqual(['claim d1,d2 d1+1 (its last request never left)', 'send 2 d1+1']);
  });

  /**
   * The job after a dead worker, with a sender that reads each batch's mark in Redis as it starts
   * (and, when it `marksLeaving`, calls `leaving` and reads the mark again): the marks it saw.
   */
  async function marksSeenBySender(marksLeaving: boolean): Promise<(string | null)[]> {
    const { ledger } = afterDeadWorker();
    const scheduler = { schedule: async () => undefined } as unknown as DeliveryScheduler;
    const tag = deliveryTag(prefix, 'webhook');
    const seen: (string | null)[] = [];
    const sender: DeliverySender = {
      marksLeaving,
      send: async (b: DeliveryBatch) => {
        seen.push(await redis.get(answeredKey(tag, b.batchId)));
        if (marksLeaving) {
          b.leaving?.();
          seen.push(await redis.get(answeredKey(tag, b.batchId)));
        }
        return { providerMessageId: 'p-1' };
      },
    };
    await processorWith(ledger, scheduler, sendersWith('webhook', sender)).process(firstAttempt(), 'token');
    return seen;
  }

  it('marks each request as leaving in Redis before its sender runs', async () => {
    expect(await marksSeenBySender(false)).toEqual([LEAVING, LEAVING]);
  });

  it('leaves the mark to a sender that marks its requests itself, just before they go', async () => {
    expect(await marksSeenBySender(true)).toEqual([null, LEAVING, null, LEAVING]);
  });

  it('does not send a dead worker’s batch again when the receiver’s answer was noted before it died', async () => {
    const { calls, ledger, sender } = afterDeadWorker();
    const scheduler = { schedule: async () => undefined } as unknown as DeliveryScheduler;
    const tag = deliveryTag(prefix, 'webhook');
    await redis.set(answeredKey(tag, 'd1+1'), 'p-7', 'PX', 60_000); // the dead worker got the answer, not the ledger
    await processorWith(ledger, scheduler, sendersWith('webhook', sender)).process(firstAttempt(), 'token');
    expect(calls).toEqual(['sent d1,d2 d1+1 p-7', 'claim d3 d3', 'send 1 d3', 'sent d3 d3 p-d3']);
    // Each note is dropped once the ledger has the outcome.
    expect(await redis.exists(answeredKey(tag, 'd1+1'), answeredKey(tag, 'd3'))).toBe(0);
  });

  it('a dead worker’s batch goes again whole, under its id, even when rows committed late push part of it past one read', async () => {
    // b0 … b299 were claimed as one request; 250 rows stamped earlier but committed later sit among them.
    const claimed = (i: number) => ({ ...waitingRow(`b${String(i).padStart(3, '0')}`, i), batchId: 'b000+299', sends: 1 }) as ClaimedDelivery;
    const rows = [claimed(0), ...Array.from({ length: 250 }, (_, i) => waitingRow(`i${String(i).padStart(3, '0')}`, 1000 + i)), ...Array.from({ length: 299 }, (_, i) => claimed(i + 1))];
    const { ledger } = ledgerOver(rows);
    const { scheduler } = recordingScheduler();
    const requests: Array<[string, number]> = [];
    const sender: DeliverySender = {
      send: async (b: DeliveryBatch) => {
        requests.push([b.batchId, b.messagesJson.length]);
        return { providerMessageId: null };
      },
    };
    await processorWith(ledger, scheduler, sendersWith('webhook', sender), FAST_WEBHOOKS).process(firstAttempt(), 'token');
    expect(requests[0]).toEqual(['b000+299', 300]);
    expect(requests.filter(([id]) => id === 'b000+299')).toHaveLength(1);
  });

  it('a backlog drains in one job for DRAIN_ROUNDS batches, then a new job takes over', async () => {
    const { ledger } = ledgerOver(backlogOf(MAX_BATCH * (DRAIN_ROUNDS + 1)));
    const { scheduler, scheduled } = recordingScheduler();
    let sends = 0;
    const counting: DeliverySender = {
      send: async () => {
        sends++;
        return { providerMessageId: null };
      },
    };
    const out = await processorWith(ledger, scheduler, sendersWith('webhook', counting), FAST_WEBHOOKS).process(firstAttempt(), 'token');
    expect(sends).toBe(DRAIN_ROUNDS);
    expect(out.sent).toBe(MAX_BATCH * DRAIN_ROUNDS);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toMatchObject({ opts: { delayMs: 0, force: 'more' } });
  });
});

describe('DeliveryProcessor while another job holds the destination', () => {
  it('a job that finds it held ends at once; the holder sends its changes before it lets go', async () => {
    const waiting: ClaimedDelivery[] = [waitingRow('d1')];
    const { ledger, calls } = ledgerOver(waiting);
    const { scheduler, scheduled } = recordingScheduler();
    const holder = firstAttempt();
    const late = { ...holder, id: `job-${randomUUID()}` } as unknown as Job<DeliveryJobData>;
    let lateOutcome: unknown;
    const requests: string[] = [];
    const processor = processorWith(ledger, scheduler, {
      ...sendersWith('webhook', undefined),
      webhook: {
        send: async (b: DeliveryBatch) => {
          requests.push(b.batchId);
          if (requests.length === 1) {
            // A change arrives during the first send, and its job starts while the holder sends.
            waiting.push(waitingRow('d2'));
            lateOutcome = await processor.process(late, 'token');
          }
          return { providerMessageId: null };
        },
      },
    });
    const out = await processor.process(holder, 'token');
    expect(lateOutcome).toEqual({ sent: 0, handedOver: true });
    expect(requests).toEqual(['d1', 'd2']); // d2 went from the holder, right after d1
    // Between the two requests, one statement: d1's outcome written by the read that found d2.
    expect(calls).toEqual(['read', 'claim 1', 'sent 1 + read', 'claim 1', 'sent 1']);
    expect(out.sent).toBe(2);
    expect(scheduled).toHaveLength(0);
    const tag = deliveryTag(prefix, 'webhook');
    expect(await redis.exists(lockKey(tag, holder.data.destinationKey), dirtyKey(tag, holder.data.destinationKey))).toBe(0);
  });
});

describe('DeliveryProcessor with a read that claims', () => {
  const recordingSender = (calls: string[]): DeliverySender => ({
    send: async (b: DeliveryBatch) => {
      calls.push(`send ${b.batchId}`);
      return { providerMessageId: null };
    },
  });

  it('sends the batch the read claimed without claiming it again', async () => {
    const { ledger, calls } = ledgerOver([waitingRow('d1'), waitingRow('d2')], 0, (rows) => `${rows[0]!.id}+${rows.length - 1}`);
    const out = await processorWith(ledger, recordingScheduler().scheduler, sendersWith('webhook', recordingSender(calls))).process(firstAttempt(), 'token');
    expect(out).toEqual({ sent: 2, batchId: 'd1+1' });
    expect(calls).toEqual(['read+claim d1+1', 'send d1+1', 'sent 2']);
  });

  it('gives back a claim that is not the batch it sends, and claims that batch', async () => {
    const { ledger, calls } = ledgerOver([waitingRow('d1'), waitingRow('d2')], 0, () => 'other');
    const out = await processorWith(ledger, recordingScheduler().scheduler, sendersWith('webhook', recordingSender(calls))).process(firstAttempt(), 'token');
    expect(out).toEqual({ sent: 2, batchId: 'd1+1' });
    expect(calls).toEqual(['read+claim other', 'unclaim other', 'claim 2', 'send d1+1', 'sent 2']);
  });
});

describe('DeliveryProcessor on a backlog', () => {
  it('reads the next batch while the current one is sent, and writes its outcome while the next is sent', async () => {
    const { ledger, calls } = ledgerOver(backlogOf(MAX_BATCH + 3), 20);
    const { scheduler } = recordingScheduler();
    const sender: DeliverySender = {
      send: async () => {
        calls.push('send');
        await new Promise((r) => setTimeout(r, 5));
        return { providerMessageId: null };
      },
    };
    const out = await processorWith(ledger, scheduler, sendersWith('webhook', sender), FAST_WEBHOOKS).process(firstAttempt(), 'token');
    expect(out.sent).toBe(MAX_BATCH + 3);
    // The second batch was read (the rows after the first) as the first went out, and not read again after;
    // the first's outcome was written while the second was claimed and sent, and before the second's.
    expect(calls).toEqual(['read', `claim ${MAX_BATCH}`, 'read after', 'send', `sent ${MAX_BATCH}`, 'claim 3', 'send', `sent ${MAX_BATCH} written`, 'sent 3', 'sent 3 written']);
  });

  it('a row committed late, ordered before the batch being sent, is still sent before the job lets go', async () => {
    // A concurrent fan-out commits rows stamped earlier than rows already read: the read-ahead (by
    // position) never sees them; the destination's dirty flag must survive until the job looks again.
    const backlog = backlogOf(MAX_BATCH + 3);
    const { ledger } = ledgerOver(backlog);
    const { scheduler, scheduled } = recordingScheduler();
    const job = firstAttempt();
    const tag = deliveryTag(prefix, 'webhook');
    const sentIds: string[] = [];
    const sender: DeliverySender = {
      send: async (b: DeliveryBatch) => {
        const ids = b.messagesJson.map((m) => (JSON.parse(m) as { id: string }).id);
        if (sentIds.length === 0) {
          backlog.splice(1, 0, waitingRow('r00000-late'));
          await redis.set(dirtyKey(tag, job.data.destinationKey), '1', 'PX', 60_000); // what the scheduler does for a held destination
        }
        sentIds.push(...ids);
        return { providerMessageId: null };
      },
    };
    const out = await processorWith(ledger, scheduler, sendersWith('webhook', sender), FAST_WEBHOOKS).process(job, 'token');
    expect(sentIds).toContain('r00000-late');
    expect(out.sent).toBe(MAX_BATCH + 4);
    expect(scheduled).toHaveLength(0);
  });

  it('an outcome that cannot be written fails the job after the next send, and leaves the answer noted for the next job', async () => {
    const { ledger, calls } = ledgerOver(backlogOf(MAX_BATCH + 3));
    ledger.markSent = async ({ ids }: SentBatch) => {
      calls.push(`sent ${ids.length}`);
      throw new Error('connection terminated');
    };
    const { scheduler } = recordingScheduler();
    const batches: string[] = [];
    const sender: DeliverySender = {
      send: async (b: DeliveryBatch) => {
        batches.push(b.batchId);
        return { providerMessageId: `p-${b.batchId}` };
      },
    };
    const job = firstAttempt();
    await expect(processorWith(ledger, scheduler, sendersWith('webhook', sender), FAST_WEBHOOKS).process(job, 'token')).rejects.toThrow('connection terminated');
    // The second batch went out while the first's outcome was being written; the job stopped there.
    expect(calls).toEqual(['read', `claim ${MAX_BATCH}`, 'read after', `sent ${MAX_BATCH}`, 'claim 3']);
    // Both answers stay noted: the next job writes their outcomes from the notes instead of sending again.
    const tag = deliveryTag(prefix, 'webhook');
    expect(await redis.mget(...batches.map((b) => answeredKey(tag, b)))).toEqual(batches.map((b) => `p-${b}`));
    // And the destination was let go.
    expect(await redis.exists(lockKey(tag, job.data.destinationKey))).toBe(0);
  });

  it('a read that was to write the last outcome and fails leaves that answer noted, and sends nothing more', async () => {
    const waiting: ClaimedDelivery[] = [waitingRow('e1')];
    const { ledger, calls } = ledgerOver(waiting);
    const take = ledger.takeWaiting.bind(ledger);
    ledger.takeWaiting = async (d: string, max: number, last?: SentOutcome) => {
      if (last) throw new Error('connection terminated');
      return take(d, max);
    };
    const { scheduler } = recordingScheduler();
    const job = firstAttempt();
    const tag = deliveryTag(prefix, 'webhook');
    const batches: string[] = [];
    const sender: DeliverySender = {
      send: async (b: DeliveryBatch) => {
        batches.push(b.batchId);
        waiting.push(waitingRow(`e${batches.length + 1}`)); // a change arrives while it is out: the holder goes on
        await redis.set(dirtyKey(tag, job.data.destinationKey), '1', 'PX', 60_000);
        return { providerMessageId: `p-${b.batchId}` };
      },
    };
    await expect(processorWith(ledger, scheduler, sendersWith('webhook', sender), FAST_WEBHOOKS).process(job, 'token')).rejects.toThrow('connection terminated');
    expect(batches).toEqual(['e1']);
    // The outcome was neither written on its own nor by the read: the answer stays noted for the next job.
    expect(calls).toEqual(['read', 'claim 1']);
    expect(await redis.get(answeredKey(tag, 'e1'))).toBe('p-e1');
    expect(await redis.exists(lockKey(tag, job.data.destinationKey))).toBe(0);
  });
});
