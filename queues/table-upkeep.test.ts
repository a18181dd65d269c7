import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../drizzle/schema.ts';
import type { Database } from '../src/db.ts';
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
    expect(await upkeep().run()).not.toContain('deliveries');
    expect(await deadDeliveries(0)).toBeGreaterThanOrEqual(300);
  }, 30_000);

  it('vacuums a queue table once its dead rows pass the threshold', async () => {
    await enqueueAndSend(1000, 600);
    expect(await deadDeliveries(900)).toBeGreaterThanOrEqual(900);
    expect(await upkeep().run()).toContain('deliveries');
    expect(await deadDeliveries(0)).toBe(0);
  }, 30_000);
});
