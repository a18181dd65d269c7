import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Database } from '../src/db.ts';
import { openTestDatabase } from '../test/support/database.ts';
import { ANALYZE_AFTER_ROWS, ANALYZE_GROWTH_SHARE, DeliveryLedger } from './delivery-ledger.ts';

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
    rowsOf<{ at: string | null }>(await database.db.execute(sql`select last_analyze::text as at from pg_stat_user_tables where schemaname = ${database.schema!} and relname = 'deliveries'`))[0]?.at ??
    null;

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
  /** The next analyze's time once it differs from `before` (null when none came within 5 s). */
  const analyzedAfter = async (before: string | null) => {
    for (let i = 0; i < 100; i++) {
      const at = await analyzedAt();
      if (at !== null && at !== before) return at;
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  };

  it(`has the table analyzed once ${ANALYZE_AFTER_ROWS} rows were added`, async () => {
    const ledger = new DeliveryLedger(database.db);
    await ledger.enqueue(rows(0, ANALYZE_AFTER_ROWS - 1));
    await new Promise((r) => setTimeout(r, 300));
    expect(await analyzedAt()).toBeNull();
    await ledger.enqueue(rows(ANALYZE_AFTER_ROWS, 1));
    expect(await analyzedAfter(null)).not.toBeNull();
  });

  // An analyze samples the same rows at any size: a big table is analyzed again only once it grew by a share of itself.
  it(`waits for ${ANALYZE_GROWTH_SHARE * 100} % growth of a big table before the next analyze`, async () => {
    await database.db.execute(sql`insert into deliveries (id, message_id, subscription_id, channel, destination_key, address, domain, status)
      select 'big' || g, 'm' || g, 's1', 'webhook', 'D2', 'https://example.test/hook', 'todos', 'sent' from generate_series(1, 60000) g`);
    const ledger = new DeliveryLedger(database.db, { analyzeMinIntervalMs: 0 });
    const first = await analyzedAt();
    await ledger.enqueue(rows(100_000, ANALYZE_AFTER_ROWS));
    const second = await analyzedAfter(first);
    expect(second).not.toBeNull();
    for (let i = 0; i < 100 && ledger.rowsBeforeNextAnalyze === ANALYZE_AFTER_ROWS; i++) await new Promise((r) => setTimeout(r, 50));
    // About 100,000 rows at that analyze (the first test's 20,000, these 60,000 and 20,000).
    expect(ledger.rowsBeforeNextAnalyze).toBeGreaterThan(45_000);
    await ledger.enqueue(rows(200_000, ANALYZE_AFTER_ROWS));
    await new Promise((r) => setTimeout(r, 500));
    expect(await analyzedAt()).toBe(second);
    await ledger.enqueue(rows(300_000, ledger.rowsBeforeNextAnalyze - ANALYZE_AFTER_ROWS));
    expect(await analyzedAfter(second)).not.toBeNull();
  }, 30_000);
});
