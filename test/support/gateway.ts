/** A whole gateway on a random port for integration tests: PGlite in memory or a private Postgres schema. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config.ts';
import { createRedis, primaries } from '../../src/redis/client.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/app.ts';
import { rowsOf } from '../../src/db.ts';
import { TEST_DATABASE_URL, type DbKind } from './database.ts';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface TestGateway extends Gateway {
  /** fetch against the gateway with the token (unless `token: null`). */
  call(
    method: string,
    path: string,
    body?: unknown,
    opts?: { token?: string | null; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; json: any; text: string; headers: Headers }>;
  /** Row counts of every table that a write touches, to prove a request changed nothing. */
  counts(): Promise<Record<string, number>>;
}

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Delete every Redis key of a prefix (a test's queues, flags and buckets): `{p}:…` and the keys
 * under the tags derived from it, `{p:fanout}:…` (queues/names.ts queueTag). On a cluster
 * (`redis+cluster://`), on every master.
 */
export async function dropRedisPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  // Fails fast when that Redis is gone (a test may have stopped its throwaway server already).
  const r = createRedis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 2000 });
  r.on('error', () => {});
  try {
    await r.ping(); // a cluster knows its masters from then on
    const inner = /^\{(.+)\}$/.exec(prefix)?.[1];
    const patterns = inner === undefined ? [`${prefix}:*`, `{${prefix}:*`] : [`${prefix}:*`, `{${inner}:*`];
    for (const node of primaries(r)) {
      for (const match of patterns) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
          cursor = next;
          // One DEL per key: keys of different tags may sit in different slots.
          if (keys.length) await Promise.all(keys.map((k) => node.del(k)));
        } while (cursor !== '0');
      }
    }
  } finally {
    r.disconnect();
  }
}

export async function startTestGateway(kind: DbKind = 'pglite', env: Record<string, string> = {}, opts: GatewayOptions = {}): Promise<TestGateway> {
  const prefix = `{t${randomUUID().slice(0, 8)}}`;
  const schema = kind === 'postgres' ? `t_${randomUUID().replaceAll('-', '').slice(0, 16)}` : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: 'memory://',
    CHITTY_API_TOKEN: TEST_TOKEN,
    REDIS_URL: TEST_REDIS_URL,
    CHITTY_QUEUE_PREFIX: prefix,
    CHITTY_WEBHOOK_SECRET: 'test-webhook-secret',
    ...(schema ? { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema } : {}),
    ...env,
  });
  const gw = await startGateway(config, opts);
  const close = gw.close;
  return {
    ...gw,
    async close() {
      await close();
      // Nothing to drop when the test stopped that Redis already.
      const drop = () => dropRedisPrefix(prefix, config.redisUrl).catch(() => undefined);
      await drop();
      // BullMQ may still write a queue's meta key as its connection settles: sweep once more.
      await new Promise((r) => setTimeout(r, 200));
      await drop();
      if (schema) {
        const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await client.connect();
        await client.query(`drop schema if exists "${schema}" cascade`);
        await client.end();
      }
    },
    async call(method, path, body, opts = {}) {
      const token = opts.token === undefined ? TEST_TOKEN : opts.token;
      const res = await fetch(`${gw.url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        ...(opts.raw !== undefined ? { body: opts.raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text, headers: res.headers };
    },
    async counts() {
      const r = await gw.database.db.execute(sql`select
        (select count(*) from events)::int as events, (select count(*) from outbox)::int as outbox,
        (select count(*) from todos)::int as todos, (select count(*) from projects)::int as projects,
        (select count(*) from sessions)::int as sessions, (select count(*) from conflicts)::int as conflicts,
        (select coalesce(max(updated_at)::text, '') from todos) as todos_updated`);
      return rowsOf<Record<string, number>>(r)[0]!;
    },
  };
}
