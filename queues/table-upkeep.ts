/**
 * Vacuums the pipeline's queue tables (outbox, deliveries, delivery_claims) once enough of their
 * rows are dead, and has them analyzed when their statistics are missing or far behind. Every row passes through a partial index on its way (outbox_pending_idx,
 * deliveries_waiting_order_idx) and leaves it when it is dispatched or sent, but its entry stays
 * until a vacuum: the relay's read of pending rows and each delivery job's read of its waiting
 * rows walk over every row that ever passed (a bitmap scan never marks them dead). In
 * `npm run bench` without a vacuum, the relay's read visited 1,400 heap pages for no row after
 * 12,000 changes, and latency crept up run after run.
 *
 * Autovacuum cannot be relied on for this: it may be off (it is on this project's CI machine),
 * by default it waits until a fifth of a table is dead, and the embedded database (PGlite) has
 * none. So the sweeper runs {@link TableUpkeep.run} on each sweep.
 */
import { randomUUID } from 'node:crypto';
import { getTableName, sql, type SQL } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import { rowsOf, type Db } from '../src/db.ts';
import { driverOf, toQuery } from '../src/db-statement.ts';
import type { Logger } from '../src/log.ts';

/** The tables every change and delivery writes and then leaves behind. */
export const QUEUE_TABLES = [schema.outbox, schema.deliveries, schema.deliveryClaims];

export interface UpkeepOptions {
  /** A table is vacuumed once it has at least this many dead rows… */
  minDeadRows: number;
  /** …and they are at least this share of its live rows. */
  deadShare: number;
}

export const DEFAULT_UPKEEP: UpkeepOptions = { minDeadRows: 2000, deadShare: 0.05 };

/**
 * The gateway's own VACUUM and ANALYZE pace themselves as autovacuum does (`vacuum_cost_delay`,
 * ms of sleep per 200 cost units) instead of taking a core while deliveries flow. Set on the
 * statement's own connection only (a startup option would break poolers such as PgBouncer).
 */
export const VACUUM_COST_DELAY_MS = 2;

/**
 * Run a VACUUM or ANALYZE paced by {@link VACUUM_COST_DELAY_MS}, on a pool connection of its own.
 * PGlite (one in-process connection) runs it directly, unpaced.
 */
export async function runPaced(db: Db, statement: SQL): Promise<void> {
  const pool = driverOf(db);
  if (typeof pool.connect !== 'function') {
    await db.execute(statement);
    return;
  }
  const client = await pool.connect();
  try {
    await client.query(`set vacuum_cost_delay = ${VACUUM_COST_DELAY_MS}`, []);
    const { sql: text, params } = toQuery(statement);
    await client.query(text, params);
  } finally {
    await client.query('reset vacuum_cost_delay', []).catch(() => undefined);
    client.release();
  }
}

export interface TableStatistics {
  table: string;
  liveRows: number;
  deadRows: number;
  /** Rows inserted, updated or deleted since the table's statistics were last taken. */
  changedSinceAnalyze: number;
  /** Postgres has statistics of the table (it was analyzed, by anyone, at least once). */
  analyzed: boolean;
}

/** What {@link TableUpkeep.run} did to one table. */
export interface TableMaintained {
  table: string;
  vacuumed: boolean;
  analyzed: boolean;
}

export class TableUpkeep {
  /** Written into each statement's text, so that {@link stop} can find and cancel it. */
  private readonly marker = `chitty-upkeep-${randomUUID()}`;
  private stopping = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly opts: UpkeepOptions = DEFAULT_UPKEEP,
  ) {}

  /** The queue tables' live and dead rows, as Postgres counts them (up to a second or so behind). */
  async statistics(): Promise<TableStatistics[]> {
    const names = QUEUE_TABLES.map((t) => getTableName(t));
    const rows = rowsOf<{ table: string; live: number; dead: number; changed: number; analyzed: boolean | string }>(
      await this.db.execute(sql`
        select relname as "table", n_live_tup as live, n_dead_tup as dead, n_mod_since_analyze as changed,
          coalesce(last_analyze, last_autoanalyze) is not null as analyzed
        from pg_stat_user_tables
        where schemaname = current_schema() and relname in (${sql.join(
          names.map((n) => sql`${n}`),
          sql`, `,
        )})`),
    );
    return rows.map((r) => ({
      table: r.table,
      liveRows: Number(r.live),
      deadRows: Number(r.dead),
      changedSinceAnalyze: Number(r.changed),
      analyzed: r.analyzed === true || r.analyzed === 't',
    }));
  }

  /**
   * Vacuum each queue table whose dead rows passed the threshold, and analyze it when it changed
   * by four times the rows it holds since its statistics were taken (an analyze costs several
   * times the vacuum: 300–460 ms against 9–69 ms at 30,000–60,000 deliveries in `npm run bench`;
   * a vacuum alone keeps the planner's idea of the table's size current) or when it has never been
   * analyzed and changed by the dead-row threshold. Without any statistics the planner guesses a
   * third of the rows for a range: the sweeper's prune of outbox rows past the retention read the
   * whole outbox (27,000 rows, 15–30 ms every sweep, none of them old) where its index finds none.
   * A table another process is maintaining right now is skipped (SKIP_LOCKED). A vacuum runs in
   * its own backend alone (PARALLEL 0): a parallel index vacuum starts worker processes (seen
   * during `npm run bench`) that take the cores deliveries need.
   */
  async run(): Promise<TableMaintained[]> {
    const done: TableMaintained[] = [];
    for (const s of await this.statistics()) {
      if (this.stopping) break;
      const vacuum = s.deadRows >= Math.max(this.opts.minDeadRows, this.opts.deadShare * s.liveRows);
      const analyze = s.changedSinceAnalyze >= (s.analyzed ? Math.max(this.opts.minDeadRows, 4 * s.liveRows) : this.opts.minDeadRows);
      if (!vacuum && !analyze) continue;
      const t0 = performance.now();
      const table = sql.identifier(s.table);
      try {
        await this.maintain(!vacuum ? sql`analyze (skip_locked) ${table}` : analyze ? sql`vacuum (analyze, skip_locked, parallel 0) ${table}` : sql`vacuum (skip_locked, parallel 0) ${table}`);
      } catch (err) {
        if (this.stopping) break; // cancelled by stop()
        throw err;
      }
      done.push({ table: s.table, vacuumed: vacuum, analyzed: analyze });
      this.logger.debug({ table: s.table, deadRows: s.deadRows, liveRows: s.liveRows, vacuum, analyze, ms: Math.round(performance.now() - t0) }, 'maintained a queue table');
    }
    return done;
  }

  /**
   * Start no more vacuums and cancel the one running, if any: a paced vacuum of a big table can
   * take minutes, and the process's database connections cannot close while it runs.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.db.execute(sql`select pg_cancel_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and query like ${`%${this.marker}%`}`);
  }

  /** Run one maintenance statement, marked as this upkeep's, paced. */
  protected async maintain(statement: SQL): Promise<void> {
    await runPaced(this.db, sql`${statement} ${sql.raw(`/* ${this.marker} */`)}`);
  }
}
