import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../drizzle/schema.ts';
import { rowsOf, type Database } from '../src/db.ts';
import { createLogger } from '../src/log.ts';
import { openTestDatabase } from '../test/support/database.ts';
import { DeliveryLedger } from './delivery-ledger.ts';
import { TableUpkeep } from './table-upkeep.ts';

// Sent deliveries leave dead rows (and dead entries in the waiting index) behind; autovacuum may be
// off, and PGlite has none: the upkeep vacuums the queue tables past a threshold, and only then.
describe.each(['postgres', 'pglite'] as const)('TableUpkeep (%s)', (kind) => {
  let database: Database;
  let ledger: DeliveryLedger;
  const upkeep = () => new TableUpkeep(database.db, createLogger('silent'), { minDeadRows: 500, deadShare: 0.05 });

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    ledger = new DeliveryLedger(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  const enqueueAndSend = async (from: number, n: number) => {
    const ids = Array.from({ length: n }, (_, i) => `d${from + i}`);
    await ledger.enqueue(
      ids.map((id) => ({ id, messageId: `m-${id}`, subscriptionId: 's1', channel: 'webhook', destinationKey: 'D1', address: 'https://example.test/hook', domain: 'todos', status: 'queued' })),
    );
    const d = schema.deliveries;
    await database.db.execute(sql`update ${d} set status = 'sent', sent_at = now() where ${d.status} = 'queued'`);
  };
  /** The deliveries table's dead rows once Postgres has counted at least `atLeast` (its statistics lag up to seconds). */
  const deadDeliveries = async (atLeast: number) => {
    for (let i = 0; ; i++) {
      const dead = (await upkeep().statistics()).find((s) => s.table === 'deliveries')?.deadRows ?? 0;
      if (dead >= atLeast || i >= 75) return dead;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('leaves a table with fewer dead rows than the threshold alone', async () => {
    await enqueueAndSend(0, 300);
    expect(await deadDeliveries(300)).toBeGreaterThanOrEqual(300);
    expect((await upkeep().run()).filter((t) => t.vacuumed).map((t) => t.table)).not.toContain('deliveries');
    expect(await deadDeliveries(0)).toBeGreaterThanOrEqual(300);
  }, 30_000);

  it('vacuums a queue table once its dead rows pass the threshold', async () => {
    await enqueueAndSend(1000, 600);
    expect(await deadDeliveries(900)).toBeGreaterThanOrEqual(900);
    expect((await upkeep().run()).filter((t) => t.vacuumed).map((t) => t.table)).toContain('deliveries');
    expect(await deadDeliveries(0)).toBe(0);
  }, 30_000);

  it('analyzes a queue table that was never analyzed once it changed by the threshold, and only then', async () => {
    const o = schema.outbox;
    const analyzed = async () => (await upkeep().statistics()).find((s) => s.table === 'outbox')?.analyzed;
    const addOutbox = (from: number, n: number) =>
      database.db.execute(sql`insert into ${o} (id, domain, entity_id, message, dispatched_at, fanned_out_at)
        select 'm-up-' || g, 'todos', 'e' || g, '{}'::jsonb, now(), now() from generate_series(${from}::int, ${from + n - 1}::int) g`);
    const changed = async (atLeast: number) => {
      for (let i = 0; ; i++) {
        const n = (await upkeep().statistics()).find((s) => s.table === 'outbox')?.changedSinceAnalyze ?? 0;
        if (n >= atLeast || i >= 75) return n;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await addOutbox(0, 300);
    expect(await changed(300)).toBeGreaterThanOrEqual(300);
    expect((await upkeep().run()).find((t) => t.table === 'outbox')).toBeUndefined();
    expect(await analyzed()).toBe(false);
    await addOutbox(300, 300);
    expect(await changed(600)).toBeGreaterThanOrEqual(600);
    expect((await upkeep().run()).find((t) => t.table === 'outbox')).toEqual({ table: 'outbox', vacuumed: false, analyzed: true });
    expect(await analyzed()).toBe(true);
    expect(await changed(0)).toBe(0);
  }, 30_000);
});

// A paced vacuum of a big table can take minutes; the process's connections cannot close while it
// runs, so stopping cancels it. Here the vacuum is a 20 s sleep in its place.
describe('TableUpkeep.stop (postgres)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
  });
  afterAll(async () => {
    await database?.close();
  });

  class SlowUpkeep extends TableUpkeep {
    calls = 0;
    protected override maintain(): Promise<void> {
      this.calls++;
      return super.maintain(sql`select pg_sleep(20)`);
    }
  }

  it('cancels the vacuum it is running and starts no other', async () => {
    const ledger = new DeliveryLedger(database.db);
    const ids = Array.from({ length: 600 }, (_, i) => `s${i}`);
    await ledger.enqueue(
      ids.map((id) => ({ id, messageId: `m-${id}`, subscriptionId: 's1', channel: 'webhook', destinationKey: 'D2', address: 'https://example.test/hook', domain: 'todos', status: 'queued' })),
    );
    await database.db.execute(sql`update ${schema.deliveries} set status = 'sent'`);
    await database.db.execute(sql`delete from ${schema.deliveries}`);
    const c = schema.deliveryClaims;
    await database.db.execute(sql`insert into ${c} (batch_id, destination_key, ids) select 'b' || g, 'D2', '{}' from generate_series(1, 200) g`);
    await database.db.execute(sql`delete from ${c}`); // two tables with dead rows: two vacuums due
    const upkeep = new SlowUpkeep(database.db, createLogger('silent'), { minDeadRows: 100, deadShare: 0 });
    for (let i = 0; i < 75 && (await upkeep.statistics()).filter((s) => s.deadRows >= 100).length < 2; i++) await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const running = upkeep.run();
    const sleeping = async () => rowsOf(await database.db.execute(sql`select 1 from pg_stat_activity where query like '%pg_sleep(20)%chitty-upkeep%' and pid <> pg_backend_pid()`)).length;
    while ((await sleeping()) === 0 && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(await sleeping()).toBe(1);
    await upkeep.stop();
    expect(await running).toEqual([]);
    expect(upkeep.calls).toBe(1);
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(await sleeping()).toBe(0);
  }, 30_000);
});
