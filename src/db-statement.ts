/**
 * Statements the delivery pipeline runs thousands of times a second, built once. Drizzle builds a
 * query's text anew on every call (a tenth of the worker's CPU in `npm run bench`); a statement
 * here is written with drizzle's `sql` and the schema's columns as usual, turned into text once,
 * and sent to the driver as it is with its values. On Postgres it is a named prepared statement:
 * each connection parses and plans it once.
 */
import { fillPlaceholders, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db } from './db.ts';

/** What node-postgres (Pool, PoolClient) and PGlite (instance, transaction) have in common. */
interface DriverClient {
  query(query: string | { name: string; text: string; values: unknown[] }, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /** PGlite only: it takes no named statements. */
  exec?: unknown;
}

const dialect = new PgDialect();

/**
 * A statement named `name` (unique per text; it names the prepared statement on Postgres) from
 * `query`, whose values are `sql.placeholder(…)`s filled at each call. It runs where `db` runs
 * its queries: in the ambient transaction of `inTransaction` when there is one, else the pool.
 */
export function statement<T>(db: Db, name: string, query: SQL): (values: Record<string, unknown>) => Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return async (values) => {
    const client = (db as unknown as { session: { client: DriverClient } }).session.client;
    const filled = fillPlaceholders(params, values);
    const result = typeof client.exec === 'function' ? await client.query(text, filled) : await client.query({ name, text, values: filled });
    return result.rows as T[];
  };
}
