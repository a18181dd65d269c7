/**
 * Opens the database: embedded PGlite under DATA_DIR when DATABASE_URL is unset (src/db-pglite.ts,
 * loaded only then), real Postgres when it is set. Same schema, same migrations (applied at start).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from '../drizzle/schema.ts';
import { ThrottledErrorLog } from './error-log.ts';
import type { Logger } from './log.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  /** Joins the ambient transaction of {@link inTransaction} when there is one. */
  db: Db;
  /** The pool itself, never an ambient transaction. */
  root: Db;
  /**
   * Where the delivery pipeline's built-once statements run (db-statement.ts `statement`; the
   * ledger, relay and fan-out). On Postgres, connections of their own (at most 10), each planning
   * a statement once (a generic plan) with sequential scans ruled out where an index serves and no
   * parallel plans: planning was a third of Postgres' time on this path. Embedded PGlite: the same
   * as `db`.
   */
  pipeline: Db;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
  ping(): Promise<void>;
  /**
   * Postgres only: the channel name committed outbox rows are announced on (per schema), and a
   * way to hear it from other processes. Embedded PGlite serves one process: nothing to hear.
   */
  outboxChannel?: string;
  listen?(channel: string, onNotify: () => void, logger?: Logger): Promise<() => Promise<void>>;
}

/** The rows of a raw `db.execute(sql…)` result (node-postgres and PGlite both return `{ rows }`). */
export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? (result as T[])) as T[];
}

/** The transaction a unit of work runs in, and what to do once it has committed. */
interface Ambient {
  tx: Tx;
  afterCommit: (() => void)[];
}

const ambient = new AsyncLocalStorage<Ambient>();

/**
 * The database handle every store holds: it runs each query in the ambient transaction of
 * {@link inTransaction} when there is one, else on the pool. So a command's hub changes, its
 * conversation state and its inbound record commit together without every store passing `tx` on.
 */
export function ambientAware(root: Db): Db {
  return new Proxy(root, {
    get(target, prop) {
      const current = ambient.getStore()?.tx ?? target;
      const value = Reflect.get(current, prop, current) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
  });
}

/**
 * Run `fn` in one transaction that every query made through `database.db` inside it joins
 * (a nested `db.transaction` becomes a savepoint). Work registered with {@link afterCommit}
 * runs once it has committed, and not at all if it rolls back.
 */
export async function inTransaction<T>(database: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const outer = ambient.getStore();
  if (outer) return outer.tx.transaction(fn);
  const afterCommitted: (() => void)[] = [];
  const result = await database.root.transaction((tx) => ambient.run({ tx, afterCommit: afterCommitted }, () => fn(tx)));
  for (const f of afterCommitted) f();
  return result;
}

/** Run `f` once the ambient transaction commits (at once when there is none). */
export function afterCommit(f: () => void): void {
  const a = ambient.getStore();
  if (a) a.afterCommit.push(f);
  else f();
}

/** The drizzle migrations, applied at every start (append-only). */
export const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../drizzle/migrations');

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  databaseSchema: string | undefined;
  dataDir: string;
}

export async function openDatabase(opts: DatabaseOptions, logger?: Logger): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.databaseSchema, logger) : (await import('./db-pglite.ts')).openPglite(opts.dataDir);
}

async function openPostgres(url: string, pgSchema: string | undefined, logger: Logger | undefined): Promise<Database> {
  const pg = (await import('pg')).default;
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const searchPath = pgSchema ? { options: `-c search_path=${pgSchema}` } : {};
  // Settings are SET on each new connection before it is used, rather than given as startup
  // options, which poolers such as PgBouncer refuse.
  const poolOf = (settings: string, max: number) =>
    new pg.Pool({
      connectionString: url,
      max,
      ...searchPath,
      onConnect: async (client: { query(text: string): Promise<unknown> }) => {
        await client.query(settings);
      },
    });
  // Both pools run without JIT compilation: Postgres compiles a statement whose estimated cost
  // passes jit_above_cost at every run, and none of the gateway's repays it. After a burst the
  // estimates of the ledger's statements grow past it (a generic plan's count of one destination's
  // rows is the table's average): in `npm run bench`, the read that writes the last outcome
  // took 90 ms a run instead of 0.3 (pg_stat_statements: 222 runs, 10,020 functions compiled,
  // 19.2 s of JIT) and the warm-up's p99 went from ~80 ms to 300–600.
  // Everything but the pipeline: a named prepared statement (db-statement.ts) is parsed once per
  // connection but planned for each run's values, never with a generic plan: left to choose,
  // Postgres switches to one after five runs, chosen with the statistics of the moment (a
  // sequential scan of a table then small), and the hub's own statements are not all index-bound.
  const pool = poolOf('set plan_cache_mode = force_custom_plan; set jit = off', 20);
  // The delivery pipeline's statements (ledger-statements.ts, the relay's, the fan-out's): each
  // planned once per connection, a generic plan, which can never be a sequential scan of a table
  // an index serves (enable_seqscan off: a sequential scan stays where nothing else can), nor a
  // parallel one (planned again on a big table, the read of a backlog's next batch started two
  // parallel workers, two new processes, at every run: 1 destination in a 200,000-change run went
  // from 8,175 to 3,559 deliveries/s). Each of them reads and writes a few rows by index, at any
  // table size. The pool opens its connections
  // as they are needed: a process that runs no pipeline (web) opens none; a worker at most 10 more
  // than before (each statement is one round trip; the 20 of the main pool were never all busy).
  const pipelinePool = poolOf('set plan_cache_mode = force_generic_plan; set enable_seqscan = off; set max_parallel_workers_per_gather = 0; set jit = off', 10);
  // An idle client that fails is dropped by the pool; say so (once a minute at most) instead of crashing.
  const idleErrors = logger && new ThrottledErrorLog(logger, 'idle Postgres client', 'the pool drops it and opens a new connection on the next query');
  pool.on('error', (err) => idleErrors?.report(err));
  pipelinePool.on('error', (err) => idleErrors?.report(err));
  const db = drizzle(pool, { schema });
  // One migrator at a time across processes (several web/worker processes may start together).
  const lockClient = await pool.connect();
  try {
    await lockClient.query(`select pg_advisory_lock(hashtext('chittychat:migrate'))`);
    if (pgSchema) await lockClient.query(`create schema if not exists "${pgSchema}"`);
    await migrate(drizzle(lockClient, { schema }), { migrationsFolder: MIGRATIONS, migrationsSchema: pgSchema ?? 'drizzle' });
  } finally {
    await lockClient.query(`select pg_advisory_unlock(hashtext('chittychat:migrate'))`).catch(() => {});
    lockClient.release();
  }
  return {
    db: ambientAware(db as unknown as Db),
    root: db as unknown as Db,
    pipeline: drizzle(pipelinePool, { schema }) as unknown as Db,
    kind: 'postgres',
    close: async () => void (await Promise.all([pool.end(), pipelinePool.end()])),
    ping: async () => void (await db.execute(sql`select 1`)),
    outboxChannel: `chitty_outbox_${pgSchema ?? 'public'}`,
    async listen(channel, onNotify, listenLogger) {
      // A dedicated connection that stays in LISTEN; reconnects after a drop, every second until it works.
      const errors =
        listenLogger &&
        new ThrottledErrorLog(listenLogger, `Postgres LISTEN ${channel}`, 'reconnecting in 1 s; the outbox relay polls meanwhile, so commits from other processes are relayed late, not lost');
      let client: InstanceType<typeof pg.Client> | undefined;
      let stopped = false;
      const retry = (): void => {
        if (stopped) return;
        setTimeout(() => {
          if (stopped) return;
          connect().then(
            () => errors?.recovered(),
            (err: unknown) => {
              errors?.report(err);
              retry();
            },
          );
        }, 1000);
      };
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: url, ...searchPath });
        c.on('notification', () => onNotify());
        c.on('error', (err) => errors?.report(err));
        try {
          await c.connect();
          await c.query(`listen "${channel}"`);
        } catch (err) {
          await c.end().catch(() => undefined);
          throw err;
        }
        c.on('end', () => {
          if (!stopped) retry();
        });
        client = c;
        onNotify(); // anything committed while we were not listening
      };
      await connect();
      return async () => {
        stopped = true;
        await client?.end().catch(() => undefined);
      };
    },
  };
}
