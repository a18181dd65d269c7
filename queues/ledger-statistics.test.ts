import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Database } from '../src/db.ts';
import { openTestDatabase } from '../test/support/database.ts';
import { ANALYZE_AFTER_ROWS, DeliveryLedger } from './delivery-ledger.ts';

// A backlog that grows faster than autovacuum looks must not be planned with the empty table's statistics.
describe('DeliveryLedger statistics (postgres)', () => {
  let database: Database & { schema?: string };
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
  });
  afterAll(async () => {
    await database?.close();
  });

  const analyzedAt = async () =>
    rowsOf<{ at: Date | null }>(await database.db.execute(sql`select last_analyze as at from pg_stat_user_tables where schemaname = ${database.schema!} and relname = 'deliveries'`))[0]?.at ?? null;

  it(`has the table analyzed once ${ANALYZE_AFTER_ROWS} rows were added`, async () => {
    const ledger = new DeliveryLedger(database.db);
    const rows = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        id: `d${from + i}`,
        messageId: `m${from + i}`,
        subscriptionId: 's1',
        channel: 'webhook',
        destinationKey: 'D1',
        address: 'https://example.test/hook',
        thread: null,
        domain: 'todos',
        entityId: null,
        status: 'queued' as const,
      }));
    await ledger.enqueue(rows(0, ANALYZE_AFTER_ROWS - 1));
    await new Promise((r) => setTimeout(r, 300));
    expect(await analyzedAt()).toBeNull();
    await ledger.enqueue(rows(ANALYZE_AFTER_ROWS, 1));
    let at = await analyzedAt();
    for (let i = 0; i < 100 && at === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      at = await analyzedAt();
    }
    expect(at).not.toBeNull();
  });
});
