import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const DB_KINDS = ['pglite', 'postgres'] as const;
export type DbKind = (typeof DB_KINDS)[number];

/** A fresh database: in-memory PGlite, or a private schema in the test Postgres dropped on close. */
export async function openTestDatabase(kind: DbKind): Promise<Database & { schema?: string }> {
  if (kind === 'pglite') return openDatabase({ databaseUrl: undefined, databaseSchema: undefined, dataDir: 'memory://' });
  const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const db = await openDatabase({ databaseUrl: TEST_DATABASE_URL, databaseSchema: schema, dataDir: 'memory://' });
  return {
    ...db,
    schema,
    async close() {
      await db.close();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    },
  };
}
