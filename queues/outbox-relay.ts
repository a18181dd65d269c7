/**
 * The outbox relay: moves committed outbox rows to the BullMQ fan-out queue in batches and marks
 * them dispatched. If Redis is down the add fails, the rows are put back, and the relay tries
 * again with backoff until Redis is back. Rows are taken with SKIP LOCKED, so several relays
 * (processes) never take the same rows.
 */
import type { Queue } from 'bullmq';
import { sql, type SQL } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import type { Db } from '../src/db.ts';
import { statement } from '../src/db-statement.ts';
import type { Logger } from '../src/log.ts';
import { ASYNC_COMMIT } from './delivery-ledger.ts';

/** Rows one relay pass takes. */
export const RELAY_BATCH = 1000;
/** Messages per fan-out job. */
export const FANOUT_CHUNK = 500;

/** A fan-out job names outbox messages; the fan-out reads them from the database (stored once). */
export interface FanoutJobData {
  messageIds: string[];
}

/** Marks the oldest rows not yet relayed dispatched (at most RELAY_BATCH; SKIP LOCKED: other relays take others) and returns them. */
export function relayTakeQuery(): SQL {
  const o = schema.outbox;
  return sql`
    update ${o} set dispatched_at = now()
    where ${o.seq} in (select ${o.seq} from ${o} where ${o.dispatchedAt} is null order by ${o.seq} limit ${RELAY_BATCH} for update skip locked)
      and ${ASYNC_COMMIT}
    returning ${o.seq} as seq, ${o.id} as id`;
}

export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private failures = 0;
  /** Rows moved since start. */
  relayed = 0;

  constructor(
    private readonly db: Db,
    private readonly fanout: Queue<FanoutJobData>,
    private readonly logger: Logger,
    private readonly pollMs = 200,
  ) {
    // Built once: a pass runs on every commit's notification.
    this.takeStatement = statement(db, relayTakeQuery());
  }

  private readonly takeStatement: (values: Record<string, never>) => Promise<{ seq: number; id: string }[]>;

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Run a pass now (a change was just committed in this process). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pass(), ms);
    this.timer.unref?.();
  }

  private async pass(): Promise<void> {
    if (this.running || this.stopped) return;
    let moved = 0;
    this.running = (async () => {
      try {
        do {
          this.again = false;
          moved = await this.relayOnce();
        } while ((moved === RELAY_BATCH || this.again) && !this.stopped);
        if (this.failures > 0) this.logger.info({ after: this.failures }, 'outbox relay reconnected; backlog moving again');
        this.failures = 0;
      } catch (err) {
        this.failures++;
        if (this.failures === 1 || this.failures % 20 === 0)
          this.logger.warn({ err: (err as Error).message, failures: this.failures }, 'outbox relay cannot reach the queue; rows stay in the outbox and will be retried');
      }
    })();
    await this.running;
    this.running = undefined;
    if (!this.stopped) this.schedule(this.failures > 0 ? Math.min(5000, 250 * 2 ** Math.min(this.failures, 5)) : this.again ? 0 : this.pollMs);
  }

  /**
   * One batch: mark pending rows dispatched (SKIP LOCKED: relays in other processes take other
   * rows), add their fan-out jobs, and if Redis refuses, put the rows back. No row lock is held
   * while Redis is called, so fan-out workers never wait on the relay. Should this process die
   * between the two steps, the sweeper re-relays rows dispatched but never fanned out.
   */
  async relayOnce(): Promise<number> {
    const o = schema.outbox;
    const rows = (await this.takeStatement({})).sort((a, b) => Number(a.seq) - Number(b.seq));
    if (rows.length === 0) return 0;
    const jobs = [];
    // A re-relayed row (its fan-out job was lost or failed for good) gets a new job id.
    const pass = Date.now().toString(36);
    for (let i = 0; i < rows.length; i += FANOUT_CHUNK) {
      const chunk = rows.slice(i, i + FANOUT_CHUNK);
      jobs.push({ name: 'fanout', data: { messageIds: chunk.map((x) => x.id) }, opts: { jobId: `fo-${chunk[0]!.id}-${chunk.length}-${pass}` } });
    }
    try {
      await this.fanout.addBulk(jobs);
    } catch (err) {
      const seqs = rows.map((x) => Number(x.seq));
      await this.db.execute(
        sql`update ${o} set dispatched_at = null where ${o.seq} in (${sql.join(
          seqs.map((x) => sql`${x}`),
          sql`, `,
        )})`,
      );
      throw err;
    }
    this.relayed += rows.length;
    return rows.length;
  }
}
