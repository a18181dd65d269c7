/**
 * Statements the delivery pipeline runs thousands of times a second, built once. Drizzle builds a
 * query's text anew on every call (a tenth of the worker's CPU in `npm run bench`); a statement
 * here is written with drizzle's `sql` and the schema's columns as usual, turned into text once,
 * and sent to the driver as it is with its values.
 *
 * On Postgres each is a named prepared statement (named after its text): parsed and analyzed once
 * per connection instead of at every run, which was a fifth of Postgres' CPU at 100 changes/s
 * (perf, `npm run bench`). How it is planned is the connection's setting (db.ts): on the main pool
 * for each run's values (`plan_cache_mode = force_custom_plan`: left to choose, Postgres switches a
 * statement to a generic plan after five runs, chosen while the tables were small, a sequential
 * scan, and in `npm run bench` p99 went from 80 ms to 3.7 s within a minute); on the delivery
 * pipeline's pool (Database.pipeline) once per connection, with sequential scans ruled out where an
 * index serves and no parallel plans. PGlite runs them unnamed.
 */
import { createHash } from 'node:crypto';
import { fillPlaceholders, getTableColumns, sql, type SQL, type Table } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db, Tx } from './db.ts';

/** What node-postgres (Pool, PoolClient) and PGlite (instance, transaction) have in common. */
export interface DriverClient {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
  /** node-postgres' Pool only: a connection of one's own (PGlite has one connection). */
  connect?: () => Promise<DriverClient & { release(): void }>;
}

const dialect = new PgDialect();

/** The driver under a drizzle database or transaction. */
export function driverOf(db: Db | Tx): DriverClient {
  return (db as unknown as { session: { client: DriverClient } }).session.client;
}

/** A query's text and values, as the driver takes them. */
export function toQuery(query: SQL): { sql: string; params: unknown[] } {
  return dialect.sqlToQuery(query);
}

/**
 * A statement from `query`, whose values are `sql.placeholder(…)`s filled at each call, run on
 * the database or transaction given at that call (`db` runs in the ambient transaction of
 * `inTransaction` when there is one, else on the pool).
 */
export function sqlStatement<T>(query: SQL): (db: Db | Tx, values: Record<string, unknown>) => Promise<T[]> {
  const { sql: text, params } = toQuery(query);
  const name = statementName(text);
  return async (db, values) => {
    const client = driverOf(db);
    const args = fillPlaceholders(params, values);
    // node-postgres (a Pool, or a pool's client inside a transaction) has `connect`; PGlite has not.
    if (typeof client.connect === 'function') return (await (client as unknown as NamedQuery).query({ name, text, values: args })).rows as T[];
    return (await client.query(text, args)).rows as T[];
  };
}

/** node-postgres' query with a name: prepared on each connection the first time it runs there. */
interface NamedQuery {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** The prepared statement's name: the same text, the same name, however many instances build it. */
export function statementName(text: string): string {
  return `chitty_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
}

/** {@link sqlStatement} always run on `db`. */
export function statement<T>(db: Db, query: SQL): (values: Record<string, unknown>) => Promise<T[]> {
  const run = sqlStatement<T>(query);
  return (values) => run(db, values);
}

/**
 * {@link statement} for `select * from table where …`: rows as drizzle's `select()` gives them
 * (each column under its property name, through the column's own mapping from the driver's value,
 * e.g. timestamps as Dates), without drizzle building the query on every call.
 */
export function selectStatement<T extends Table>(db: Db, table: T, where: SQL): (values: Record<string, unknown>) => Promise<T['$inferSelect'][]> {
  const columns = Object.entries(getTableColumns(table));
  const run = statement<Record<string, unknown>>(
    db,
    sql`select ${sql.join(
      columns.map(([key, column]) => sql`${column} as ${sql.identifier(key)}`),
      sql`, `,
    )} from ${table} where ${where}`,
  );
  return async (values) =>
    (await run(values)).map((raw) => {
      const row: Record<string, unknown> = {};
      for (const [key, column] of columns) {
        const value = raw[key];
        row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
      }
      return row as T['$inferSelect'];
    });
}
