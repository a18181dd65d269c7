import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../drizzle/schema.ts';
import { DB_KINDS, openTestDatabase } from '../test/support/database.ts';
import { inTransaction, rowsOf, type Database } from './db.ts';
import { selectStatement, statement, statementName, toQuery } from './db-statement.ts';

describe.each(DB_KINDS)('statement (%s)', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('runs with each call’s values, again and again, and joins the ambient transaction', async () => {
    const o = schema.outbox;
    const insert = statement<{ id: string }>(
      database.db,
      sql`insert into ${o} (id, domain, entity_id, message) values (${sql.placeholder('id')}, 'todos', ${sql.placeholder('entity')}, ${sql.placeholder('message')}::jsonb) returning id`,
    );
    const byIds = statement<{ id: string; entity_id: string }>(database.db, sql`select id, entity_id from ${o} where ${o.id} = any(${sql.placeholder('ids')}::text[]) order by id`);
    for (const i of [1, 2, 3]) expect(await insert({ id: `m${i}`, entity: `e${i}`, message: JSON.stringify({ i }) })).toEqual([{ id: `m${i}` }]);
    expect(await byIds({ ids: ['m1', 'm3', 'nope'] })).toEqual([
      { id: 'm1', entity_id: 'e1' },
      { id: 'm3', entity_id: 'e3' },
    ]);
    // Inside inTransaction it runs in that transaction: rolled back with it.
    await expect(
      inTransaction(database, async () => {
        await insert({ id: 'm4', entity: 'e4', message: '{}' });
        expect(await byIds({ ids: ['m4'] })).toHaveLength(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await byIds({ ids: ['m4'] })).toEqual([]);
  });

  it('selects rows as drizzle’s select() gives them: property names, Dates, parsed JSON, booleans and nulls', async () => {
    const t = schema.subscriptions;
    await database.db.insert(t).values([
      { id: 's1', channel: 'webhook', address: 'https://example.test/a', scope: 'P1', domains: ['todos'], paused: true, disabledAt: new Date('2026-01-02T03:04:05.678Z'), secret: 'whsec_x' },
      { id: 's2', channel: 'slack', address: 'C1', scope: 'P1', domains: [], model: 'claude' },
    ]);
    const byScope = selectStatement(database.db, t, sql`${t.scope} = any(${sql.placeholder('scopes')}::text[])`);
    const mine = await byScope({ scopes: ['P1'] });
    const drizzles = await database.db
      .select()
      .from(t)
      .where(inArray(t.scope, ['P1']));
    const byId = <R extends { id: string }>(rows: R[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(mine)).toEqual(byId(drizzles));
    expect(byId(mine)[0]!.disabledAt).toEqual(new Date('2026-01-02T03:04:05.678Z'));
    expect(byId(mine)[0]!.domains).toEqual(['todos']);
  });
});

// Parsed once per connection, planned for each run's values: never a generic plan, which Postgres
// would choose after five runs with the statistics of the moment (a sequential scan of a small table).
describe('statement on Postgres', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase('postgres');
  });
  afterAll(async () => {
    await database?.close();
  });

  it('is a named prepared statement with a custom plan at every run', async () => {
    const o = schema.outbox;
    const query = sql`select count(*)::int as n from ${o} where ${o.id} = any(${sql.placeholder('ids')}::text[])`;
    const count = statement<{ n: number }>(database.db, query);
    const name = statementName(toQuery(query).sql);
    const seen = await inTransaction(database, async () => {
      for (let i = 0; i < 8; i++) expect(await count({ ids: [`x${i}`] })).toEqual([{ n: 0 }]);
      // The same connection (the transaction's): what it prepared, and how it planned it.
      return {
        mode: rowsOf<{ plan_cache_mode: string }>(await database.db.execute(sql`show plan_cache_mode`))[0]?.plan_cache_mode,
        prepared: rowsOf<{ generic: number; custom: number }>(
          await database.db.execute(sql`select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name = ${name}`),
        ),
      };
    });
    expect(seen.mode).toBe('force_custom_plan');
    expect(seen.prepared).toEqual([{ generic: 0, custom: 8 }]);
  });
});
