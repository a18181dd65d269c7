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
    await client?.query('reset min_parallel_index_scan_size; reset min_parallel_table_scan_size; reset parallel_setup_cost; reset parallel_tuple_cost');
    client?.release();
    await database?.close();
  });

  it('are planned once per connection, with a generic plan, and never JIT-compiled', async () => {
    expect((await client.query('show plan_cache_mode')).rows[0]?.plan_cache_mode).toBe('force_generic_plan');
    expect((await client.query('show jit')).rows[0]?.jit).toBe('off');
    // Everything else keeps a plan made for each run's values, also without JIT.
    const other = (await driverOf(database.root).connect!()) as unknown as PoolClient;
    try {
      expect((await other.query('show plan_cache_mode')).rows[0]?.plan_cache_mode).toBe('force_custom_plan');
      expect((await other.query('show jit')).rows[0]?.jit).toBe('off');
    } finally {
      other.release();
    }
  });

  /** Each statement's generic plan as this connection makes it now. */
  async function plans(): Promise<[string, string][]> {
    const queries = { ...ledgerQueries(), relayTake: relayTakeQuery(), subscriptionsForScopes: sql`select * from ${schema.subscriptions} where ${forScopesWhere()}` };
    const out: [string, string][] = [];
    for (const [name, query] of Object.entries(queries)) {
      const { sql: text, params } = toQuery(query);
      const prepared = `plan_${name.toLowerCase()}`;
      await client.query(`prepare ${prepared} as ${text}`);
      const plan = (await client.query(`explain execute ${prepared}(${params.map(() => 'null').join(', ')})`)).rows.map((r) => String(r['QUERY PLAN'])).join('\n');
      await client.query(`deallocate ${prepared}`);
      out.push([name, plan]);
    }
    return out;
  }

  /** Nothing a statement on the delivery path may do, whatever the tables hold. */
  function expectIndexBound(name: string, plan: string): void {
    expect(plan, `${name}:\n${plan}`).not.toMatch(/Seq Scan on (deliveries|outbox|delivery_claims|subscriptions)\b/);
    // Nor by an index of every row in some state (not yet fanned out, say) to find a few by id.
    expect(plan, `${name}:\n${plan}`).not.toMatch(/outbox_unfanned_idx|outbox_fanned_out_idx|deliveries_waiting_age_idx|deliveries_sent_idx/);
    // Nor in parallel: each run would start worker processes.
    expect(plan, `${name}:\n${plan}`).not.toMatch(/Gather|Parallel/);
  }

  it('find their rows by index, planned on empty tables and on a ledger of 50,000 rows', async () => {
    for (const [name, plan] of await plans()) expectIndexBound(name, plan);
    // One destination with a backlog and as many rows sent, an outbox mostly fanned out: then planned again.
    await client.query(`insert into outbox (id, domain, message, dispatched_at, fanned_out_at)
      select 'm' || i, 'todos', '{}'::jsonb, now(), case when i % 10 = 0 then null else now() end from generate_series(1, 50000) as i`);
    await client.query(`insert into deliveries (id, message_id, subscription_id, channel, destination_key, address, domain, status, sent_at)
      select 'd' || i, 'm' || i, 's1', 'webhook', 'webhook:big', 'https://example.test/hook', 'todos',
        case when i % 2 = 0 then 'queued' else 'sent' end, case when i % 2 = 0 then null else now() end from generate_series(1, 50000) as i`);
    await client.query('analyze outbox; analyze deliveries');
    // Parallel plans made as cheap as they get, as on a table of millions of rows.
    await client.query('set min_parallel_index_scan_size = 0; set min_parallel_table_scan_size = 0; set parallel_setup_cost = 0; set parallel_tuple_cost = 0');
    const big = await plans();
    for (const [name, plan] of big) expectIndexBound(name, plan);
    // The batch reads go down the index in sending order and stop at the batch's end.
    for (const [name, plan] of big.filter(([n]) => /waiting/i.test(n))) expect(plan, `${name}:\n${plan}`).toMatch(/Index Scan using deliveries_waiting_order_idx/);
  });
});
