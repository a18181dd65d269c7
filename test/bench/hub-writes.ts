/**
 * The bench's "hubWrites" section: changes committed per second through `Hub` alone (the real
 * commit path, src/hub/commit.ts: entity row, event, outbox row, NOTIFY, in one transaction per
 * change), against plain INSERTs of exactly the rows it wrote, at the same concurrency, into
 * copies of the tables (same columns, indexes and defaults): one statement per change (the
 * physical limit of one transaction per change), and 1,000 changes per statement (the limit of
 * batching across changes).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/db.ts';
import { Hub } from '../../src/hub/hub.ts';

const round = (x: number) => Math.round(x * 10) / 10;

/** Run `n` tasks with `concurrency` at once; returns seconds taken. */
async function timed(n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return (performance.now() - t0) / 1000;
}

export async function hubWrites(database: Database, url: string, schemaName: string, changes: number, concurrency: number) {
  const hub = new Hub(database, `bench-${randomUUID().slice(0, 6)}`);
  const projectId = `CHITTY-PROJ-HUB-${randomUUID().slice(0, 6)}`;
  const ids: string[] = [];
  const hubSeconds = await timed(changes, concurrency, async (i) => {
    ids.push((await hub.create('todos', { content: `Hub bench ${i}`, projectId, priority: 'medium' })).chittyId as string);
  });

  const pool = new pg.Pool({ connectionString: url, max: concurrency, options: `-c search_path="${schemaName}"` });
  try {
    const tables = ['todos', 'events', 'outbox'];
    for (const t of tables) await pool.query(`create table "plain_${t}" (like "${t}" including all)`);
    // The rows the hub wrote, one JSON per change: entity row, its event, its outbox row(s).
    const { rows } = await pool.query<{ entity: unknown; event: unknown; outbox: unknown }>(
      `select row_to_json(t) as entity,
         (select row_to_json(e) from events e where e.entity_id = t.id limit 1) as event,
         (select json_agg(o) from outbox o where o.entity_id = t.id) as outbox
       from todos t where t.id = any($1)`,
      [ids],
    );
    // The same rows into the copies: one statement per change, then one per 1,000 changes.
    const insertPlain = (c: typeof rows) =>
      pool.query(
        `with a as (insert into plain_todos select * from json_populate_recordset(null::plain_todos, $1)),
              b as (insert into plain_events select * from json_populate_recordset(null::plain_events, $2))
         insert into plain_outbox select * from json_populate_recordset(null::plain_outbox, $3)`,
        [JSON.stringify(c.map((r) => r.entity)), JSON.stringify(c.map((r) => r.event)), JSON.stringify(c.flatMap((r) => r.outbox as unknown[]))],
      );
    const perChangeSeconds = await timed(rows.length, concurrency, (i) => insertPlain([rows[i]!]));
    for (const t of tables) await pool.query(`truncate "plain_${t}"`);
    const chunks: (typeof rows)[] = [];
    for (let i = 0; i < rows.length; i += 1000) chunks.push(rows.slice(i, i + 1000));
    const batchedSeconds = await timed(chunks.length, concurrency, (i) => insertPlain(chunks[i]!));
    for (const t of tables) await pool.query(`drop table "plain_${t}"`);
    // These changes have no subscribers: mark them relayed so the pipeline sections start clean.
    await pool.query(`update outbox set dispatched_at = now(), fanned_out_at = now() where dispatched_at is null`);
    const hubPerSecond = Math.round(changes / hubSeconds);
    const plainPerSecond = Math.round(rows.length / perChangeSeconds);
    return {
      changes,
      concurrency,
      hub: { seconds: round(hubSeconds), changesPerSecond: hubPerSecond },
      plainInsertPerChange: { seconds: round(perChangeSeconds), changesPerSecond: plainPerSecond },
      plainInsertBatched1000: { seconds: round(batchedSeconds), changesPerSecond: Math.round(rows.length / batchedSeconds) },
      ratioToPlainInsert: Number((hubPerSecond / plainPerSecond).toFixed(2)),
      note: 'Hub.create of a todo (one transaction each: entity row, event, outbox row, NOTIFY) vs the same rows INSERTed into copies of the tables, one statement per change, and 1,000 changes per statement',
    };
  } finally {
    await pool.end();
  }
}
