import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../drizzle/schema.ts';
import { forScopesWhere } from '../src/core/subscription-store.ts';
import type { Database } from '../src/db.ts';
import { driverOf, toQuery } from '../src/db-statement.ts';
import { openTestDatabase } from '../test/support/database.ts';
import { ledgerQueries } from './ledger-statements.ts';
import { relayTakeQuery } from './outbox-relay.ts';

interface PoolClient {
  query(text: string): Promise<{ rows: Record<string, unknown>[] }>;
  release(): void;
}

// The delivery path's statements are planned once per connection (Database.pipeline): the plan is
// made with the tables as they are then, often empty at start, and kept while they grow to
// hundreds of thousands of rows. A sequential scan chosen then would read the whole table at every
// run later (what a generic plan did with Postgres choosing the plans: p99 went to 3.7 s).
describe('the delivery pipeline’s statements on Postgres', () => {
  let database: Database;
  let client: PoolClient;
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    client = (await driverOf(database.pipeline).connect!()) as unknown as PoolClient;
  });
  afterAll(async () => {
    client?.release();
    await database?.close();
  });

  it('are planned once per connection, with a generic plan', async () => {
    expect((await client.query('show plan_cache_mode')).rows[0]?.plan_cache_mode).toBe('force_generic_plan');
    // Everything else keeps a plan made for each run's values.
    const other = (await driverOf(database.root).connect!()) as unknown as PoolClient;
    try {
      expect((await other.query('show plan_cache_mode')).rows[0]?.plan_cache_mode).toBe('force_custom_plan');
    } finally {
      other.release();
    }
  });

  it('find their rows by index, even planned on empty tables', async () => {
    const queries = { ...ledgerQueries(), relayTake: relayTakeQuery(), subscriptionsForScopes: sql`select * from ${schema.subscriptions} where ${forScopesWhere()}` };
    for (const [name, query] of Object.entries(queries)) {
      const { sql: text, params } = toQuery(query);
      const prepared = `plan_${name.toLowerCase()}`;
      await client.query(`prepare ${prepared} as ${text}`);
      const plan = (await client.query(`explain execute ${prepared}(${params.map(() => 'null').join(', ')})`)).rows.map((r) => String(r['QUERY PLAN'])).join('\n');
      expect(plan, `${name}:\n${plan}`).not.toMatch(/Seq Scan on (deliveries|outbox|delivery_claims|subscriptions)\b/);
      // Nor by an index of every row in some state (not yet fanned out, say) to find a few by id.
      expect(plan, `${name}:\n${plan}`).not.toMatch(/outbox_unfanned_idx|outbox_fanned_out_idx|deliveries_waiting_age_idx|deliveries_sent_idx/);
      await client.query(`deallocate ${prepared}`);
    }
  });
});
