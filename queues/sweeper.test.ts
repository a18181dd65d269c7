/**
 * The sweeper against real Postgres and Redis: the retention prune (what goes, what stays) and the
 * batched check of lost delivery jobs.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../drizzle/schema.ts';
import { rowsOf } from '../src/db.ts';
import { DESTINATION_CHANNELS, type DestinationChannel } from '../src/core/subscription-store.ts';
import { openTestDatabase } from '../test/support/database.ts';
import { dropRedisPrefix, TEST_REDIS_URL } from '../test/support/gateway.ts';
import { DeliveryLedger } from './delivery-ledger.ts';
import { DeliveryScheduler, type DeliveryJobData } from './delivery-scheduler.ts';
import { deliveryQueueName, deliveryTag, pendingKey, queueTag } from './names.ts';
import { DEFAULT_SWEEPER, Sweeper } from './sweeper.ts';

const HOUR = 3_600_000;
const RETENTION = 168 * HOUR;
const logger = pino({ level: 'silent' });

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let redis: Redis;
let queues: Record<DestinationChannel, Queue<DeliveryJobData>>;
let ledger: DeliveryLedger;
let scheduler: DeliveryScheduler;
const prefix = `{t${randomUUID().slice(0, 8)}}`;

beforeAll(async () => {
  database = await openTestDatabase('postgres');
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  queues = Object.fromEntries(
    DESTINATION_CHANNELS.map((ch) => [ch, new Queue<DeliveryJobData>(deliveryQueueName(ch), { connection: redis, prefix: queueTag(prefix, deliveryQueueName(ch)) })]),
  ) as Record<DestinationChannel, Queue<DeliveryJobData>>;
  ledger = new DeliveryLedger(database.db);
  scheduler = new DeliveryScheduler(redis, prefix, queues, Object.fromEntries(DESTINATION_CHANNELS.map((ch) => [ch, 0])) as Record<DestinationChannel, number>);
});
afterAll(async () => {
  await Promise.allSettled(Object.values(queues ?? {}).map((q) => q.close()));
  redis?.disconnect();
  await dropRedisPrefix(prefix);
  await database?.close();
});

function sweeper(opts: Partial<typeof DEFAULT_SWEEPER> = {}): Sweeper {
  return new Sweeper(database.db, redis, prefix, ledger, scheduler, queues, logger, { ...DEFAULT_SWEEPER, retentionMs: RETENTION, ...opts });
}

const ago = (ms: number) => new Date(Date.now() - ms);

async function outboxRow(id: string, at: { created: Date; dispatched?: Date | null; fannedOut?: Date | null }) {
  await database.db.insert(schema.outbox).values({
    id,
    domain: 'todos',
    entityId: `e-${id}`,
    message: { id },
    createdAt: at.created,
    dispatchedAt: at.dispatched === undefined ? at.created : at.dispatched,
    fannedOutAt: at.fannedOut === undefined ? at.created : at.fannedOut,
  });
}

async function delivery(messageId: string, n: number, status: 'queued' | 'sent' | 'failed' | 'dead', at: Date) {
  await database.db.insert(schema.deliveries).values({
    id: `${messageId}__s${n}`,
    messageId,
    subscriptionId: `s${n}`,
    channel: 'webhook',
    destinationKey: `dest${n}`,
    address: `https://example.test/${n}`,
    domain: 'todos',
    status,
    createdAt: at,
    updatedAt: at,
    sentAt: status === 'sent' ? at : null,
  });
}

async function ids(table: 'outbox' | 'deliveries'): Promise<string[]> {
  const r = await database.db.execute(sql.raw(`select id from ${table} order by id`));
  return rowsOf<{ id: string }>(r).map((x) => x.id);
}

describe('sweeper', () => {
  it('prunes sent deliveries and delivered outbox rows past the retention, in batches, and keeps the rest', async () => {
    const old = ago(RETENTION + 5 * HOUR);
    const recent = ago(RETENTION - 5 * HOUR);
    // Old and all sent: the message and its deliveries go (7 rows: several batches of 2).
    await outboxRow('m-old-sent', { created: old });
    for (let n = 1; n <= 7; n++) await delivery('m-old-sent', n, 'sent', old);
    // Old, no subscriber at all: goes.
    await outboxRow('m-old-none', { created: old });
    // Old but one delivery still waiting / failed / dead: the message stays (it is still needed), sent rows go.
    await outboxRow('m-old-waiting', { created: old });
    await delivery('m-old-waiting', 1, 'sent', old);
    await delivery('m-old-waiting', 2, 'queued', old);
    await outboxRow('m-old-failed', { created: old });
    await delivery('m-old-failed', 1, 'failed', old);
    await outboxRow('m-old-dead', { created: old });
    await delivery('m-old-dead', 1, 'dead', old);
    // Old but never fanned out (dispatched or not): stays.
    await outboxRow('m-old-dispatched', { created: old, fannedOut: null });
    await outboxRow('m-old-undispatched', { created: old, dispatched: null, fannedOut: null });
    // Recent: everything stays.
    await outboxRow('m-recent', { created: recent });
    await delivery('m-recent', 1, 'sent', recent);
    // Created long ago but fanned out and sent recently (it waited for Redis): stays.
    await outboxRow('m-late', { created: old, fannedOut: recent });
    await delivery('m-late', 1, 'sent', recent);

    const s = sweeper({ pruneBatch: 2, pruneStatementsPerSweep: 100 });
    expect(await s.prune(ago(RETENTION))).toEqual({ deliveries: 8, outbox: 2 });
    expect(await ids('outbox')).toEqual(['m-late', 'm-old-dead', 'm-old-dispatched', 'm-old-failed', 'm-old-undispatched', 'm-old-waiting', 'm-recent']);
    expect(await ids('deliveries')).toEqual(['m-late__s1', 'm-old-dead__s1', 'm-old-failed__s1', 'm-old-waiting__s2', 'm-recent__s1']);
    // Once the waiting delivery is sent and ages past the retention, its message goes too.
    await database.db.execute(sql`update deliveries set status = 'sent', sent_at = ${ago(RETENTION + HOUR).toISOString()} where id = 'm-old-waiting__s2'`);
    expect(await s.prune(ago(RETENTION))).toEqual({ deliveries: 1, outbox: 1 });
    expect(await ids('outbox')).not.toContain('m-old-waiting');
  });

  it('stops after pruneStatementsPerSweep batches and finishes on the next sweep', async () => {
    const old = ago(RETENTION + HOUR);
    await outboxRow('m-many', { created: old });
    for (let n = 1; n <= 5; n++) await delivery('m-many', n, 'sent', old);
    const s = sweeper({ pruneBatch: 2, pruneStatementsPerSweep: 2 });
    // Its outbox row goes in the first sweep: every delivery of it is sent (none needs the message).
    expect(await s.prune(ago(RETENTION))).toEqual({ deliveries: 4, outbox: 1 });
    expect(await s.prune(ago(RETENTION))).toEqual({ deliveries: 1, outbox: 0 });
  });

  it("reschedules only destinations whose job is gone or finished, reading every job's state at once", async () => {
    await database.db.execute(sql`delete from deliveries`); // only this test's destinations are stuck
    const old = ago(60_000);
    await outboxRow('m-stuck', { created: old });
    const dests = ['live-delayed', 'live-waiting', 'gone', 'finished', 'no-flag'];
    for (const [i, d] of dests.entries()) {
      await database.db.insert(schema.deliveries).values({
        id: `m-stuck__${d}`,
        messageId: 'm-stuck',
        subscriptionId: d,
        channel: i % 2 ? 'webhook' : 'email',
        destinationKey: d,
        address: d,
        domain: 'todos',
        status: 'queued',
        createdAt: old,
        updatedAt: old,
      });
    }
    const channelOf = (d: string): DestinationChannel => (dests.indexOf(d) % 2 ? 'webhook' : 'email');
    const flag = (d: string) => pendingKey(deliveryTag(prefix, channelOf(d)), d); // under its channel queue's tag
    const q = (d: string) => queues[channelOf(d)];
    await q('live-delayed').add('deliver', { channel: 'email', destinationKey: 'live-delayed' }, { jobId: 'j-delayed', delay: 600_000 });
    await q('live-waiting').pause(); // nothing takes it: stays waiting
    await q('live-waiting').add('deliver', { channel: 'webhook', destinationKey: 'live-waiting' }, { jobId: 'j-waiting' });
    const finished = await q('finished').add('deliver', { channel: 'webhook', destinationKey: 'finished' }, { jobId: 'j-finished', delay: 600_000 });
    await finished.remove();
    for (const [d, job] of [
      ['live-delayed', 'j-delayed'],
      ['live-waiting', 'j-waiting'],
      ['gone', 'j-never-added'],
      ['finished', 'j-finished'],
    ])
      await redis.set(flag(d!), job!);

    const countsOf = (ch: DestinationChannel) => queues[ch].getJobCounts('waiting', 'delayed');
    const counts = { email: await countsOf('email'), webhook: await countsOf('webhook') };
    const r = await sweeper({ deliveryTimeoutMs: 30_000 }).sweep();
    expect(r.rescheduled).toBe(3); // gone, finished, no-flag
    const after = { email: await countsOf('email'), webhook: await countsOf('webhook') };
    const added = (ch: 'email' | 'webhook') => Object.values(after[ch]).reduce((a, b) => a + b, 0) - Object.values(counts[ch]).reduce((a, b) => a + b, 0);
    expect(added('email')).toBe(2); // gone, no-flag
    expect(added('webhook')).toBe(1); // finished
    for (const d of ['gone', 'finished', 'no-flag']) expect(await redis.get(flag(d))).toMatch(/^m-stuck__/);
    expect(await redis.get(flag('live-delayed'))).toBe('j-delayed');
    expect(await redis.get(flag('live-waiting'))).toBe('j-waiting');
  });
});
