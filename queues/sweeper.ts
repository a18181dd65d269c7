/**
 * The sweeper repairs what a crash or a Redis restart can leave behind; the database is the
 * source of truth, Redis only carries work:
 * - outbox rows dispatched long ago but never fanned out (their fan-out job was lost) go back to
 *   the relay;
 * - destinations with waiting deliveries but no job waiting in Redis get a new job (their jobs'
 *   states are read in one script per channel);
 * - sent deliveries, and outbox rows whose deliveries are all sent, older than the retention are
 *   deleted in batches (dead letters stay until `DELETE /deliveries/dead`);
 * - the queue tables are vacuumed once enough of their rows are dead (table-upkeep.ts).
 */
import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from '../src/redis/client.ts';
import { and, isNotNull, isNull, lt } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import type { Db } from '../src/db.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';
import { ThrottledErrorLog } from '../src/error-log.ts';
import type { Logger } from '../src/log.ts';
import { PRUNE_BATCH, type DeliveryLedger } from './delivery-ledger.ts';
import type { DeliveryScheduler } from './delivery-scheduler.ts';
import { deliveryTag, pendingKey } from './names.ts';
import { TableUpkeep } from './table-upkeep.ts';

export interface SweeperOptions {
  /** How often to look (ms). */
  everyMs: number;
  /** A dispatched outbox row not fanned out after this long is re-relayed (ms). */
  fanoutTimeoutMs: number;
  /** Deliveries waiting this long without a job are rescheduled (ms). */
  deliveryTimeoutMs: number;
  /** Sent deliveries and delivered outbox rows are kept this long (ms; CHITTY_RETENTION_HOURS). */
  retentionMs: number;
  /** Rows one prune statement deletes. */
  pruneBatch: number;
  /** Most prune statements per table in one sweep (the rest waits for the next sweep). */
  pruneStatementsPerSweep: number;
}

export const DEFAULT_SWEEPER: SweeperOptions = {
  everyMs: 10_000,
  fanoutTimeoutMs: 120_000,
  deliveryTimeoutMs: 30_000,
  retentionMs: 168 * 3_600_000,
  pruneBatch: PRUNE_BATCH,
  pruneStatementsPerSweep: 50,
};

/**
 * Which of many job ids are waiting, delayed, prioritized, waiting for children or running (1) —
 * the live states of BullMQ's getState script — in one round trip. KEYS: the queue's delayed,
 * prioritized, waiting-children, active, wait and paused keys; ARGV: job ids.
 */
const LIVE_JOBS = `
local out = {}
for i, id in ipairs(ARGV) do
  if redis.call('ZSCORE', KEYS[1], id) or redis.call('ZSCORE', KEYS[2], id) or redis.call('ZSCORE', KEYS[3], id)
    or redis.call('LPOS', KEYS[4], id) or redis.call('LPOS', KEYS[5], id) or redis.call('LPOS', KEYS[6], id) then
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`;

export class Sweeper {
  /** A failed sweep (database or Redis down) is logged once a minute at most, with what happens next. */
  private get failures(): ThrottledErrorLog {
    this.failureLog ??= new ThrottledErrorLog(this.logger, 'sweep', `the next sweep runs in ${this.opts.everyMs} ms; lost work waits for it`);
    return this.failureLog;
  }
  private failureLog: ThrottledErrorLog | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<unknown> | undefined;
  private readonly upkeep: TableUpkeep;
  private readonly upkeepFailures: ThrottledErrorLog;
  /** The upkeep runs beside the sweeps (a paced vacuum of a big table can take seconds), one at a time. */
  private upkeeping: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ledger: DeliveryLedger,
    private readonly scheduler: DeliveryScheduler,
    private readonly queues: Record<DestinationChannel, Queue>,
    private readonly logger: Logger,
    private readonly opts: SweeperOptions = DEFAULT_SWEEPER,
  ) {
    this.upkeep = new TableUpkeep(db, logger);
    this.upkeepFailures = new ThrottledErrorLog(logger, 'Vacuuming the queue tables', 'the next sweep tries again; until then reads of waiting rows slow down as dead rows pile up');
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.busy)
        this.busy = this.sweep()
          .then(
            () => this.failureLog?.recovered(),
            (err: unknown) => this.failures.report(err),
          )
          .finally(() => (this.busy = undefined));
    }, this.opts.everyMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
    // A running vacuum is cancelled: it would hold its connection (and the shutdown) until it ends.
    if (this.upkeeping) await this.upkeep.stop().catch(() => undefined);
    await this.upkeeping;
  }

  async sweep(): Promise<{ refanned: number; rescheduled: number; pruned: { deliveries: number; outbox: number } }> {
    const now = Date.now();
    const o = schema.outbox;
    const refanned = await this.db
      .update(o)
      .set({ dispatchedAt: null })
      .where(and(isNotNull(o.dispatchedAt), isNull(o.fannedOutAt), lt(o.dispatchedAt, new Date(now - this.opts.fanoutTimeoutMs))))
      .returning({ id: o.id });
    const stuck = await this.ledger.stuckDestinations(new Date(now - this.opts.deliveryTimeoutMs));
    let rescheduled = 0;
    if (stuck.length > 0) {
      const jobIds = await this.pendingFlags(stuck.map((s) => ({ channel: s.channel as DestinationChannel, destinationKey: s.destinationKey })));
      const live = await this.liveJobs(stuck.map((s, i) => ({ channel: s.channel as DestinationChannel, jobId: jobIds[i] })));
      // Waiting, delayed (paced, backing off) or running: leave it. Gone or finished: lost.
      const lost = stuck.filter((_, i) => !live[i]);
      rescheduled = await this.scheduler.schedule(
        lost.map((s) => ({ channel: s.channel as DestinationChannel, destinationKey: s.destinationKey, messageId: s.messageId })),
        { force: `sweep${Math.floor(now / 1000)}`, delayMs: 0 },
      );
    }
    if (refanned.length || rescheduled) this.logger.info({ refanned: refanned.length, rescheduled }, 'sweeper recovered lost work');
    const pruned = await this.prune(new Date(now - this.opts.retentionMs));
    if (pruned.deliveries || pruned.outbox) this.logger.info(pruned, 'pruned sent deliveries and delivered outbox rows past the retention');
    // Last: what the prune deleted is dead rows too.
    this.upkeeping ??= this.upkeep
      .run()
      .then(
        () => this.upkeepFailures.recovered(),
        (err: unknown) => this.upkeepFailures.report(err),
      )
      .finally(() => (this.upkeeping = undefined));
    return { refanned: refanned.length, rescheduled, pruned };
  }

  /** Delete what is past the retention, a batch per statement: sent deliveries first, then their outbox rows. */
  async prune(olderThan: Date): Promise<{ deliveries: number; outbox: number }> {
    const batch = this.opts.pruneBatch;
    const deliveries = await this.inBatches(() => this.ledger.pruneSent(olderThan, batch));
    const outbox = await this.inBatches(() => this.ledger.pruneOutbox(olderThan, batch));
    await this.ledger.pruneClaims(olderThan);
    return { deliveries, outbox };
  }

  /** Run a batch delete until it deletes less than a batch, at most `pruneStatementsPerSweep` times. */
  private async inBatches(step: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let i = 0; i < this.opts.pruneStatementsPerSweep; i++) {
      const n = await step();
      total += n;
      if (n < this.opts.pruneBatch) break;
    }
    return total;
  }

  /** The job each destination's "waiting" flag names; one pipeline per channel (its queue's slot). */
  private async pendingFlags(dests: { channel: DestinationChannel; destinationKey: string }[]): Promise<(string | undefined)[]> {
    const out: (string | undefined)[] = dests.map(() => undefined);
    const byChannel = new Map<DestinationChannel, number[]>();
    for (const [i, d] of dests.entries()) byChannel.set(d.channel, [...(byChannel.get(d.channel) ?? []), i]);
    for (const [channel, idx] of byChannel) {
      const pipe = this.redis.pipeline();
      for (const i of idx) pipe.get(pendingKey(deliveryTag(this.prefix, channel), dests[i]!.destinationKey));
      const flags = (await pipe.exec()) ?? [];
      for (const [n, i] of idx.entries()) out[i] = (flags[n]?.[1] as string | null | undefined) ?? undefined;
    }
    return out;
  }

  /** For each job (by channel), whether BullMQ holds it in a live state; one script call per channel. */
  private async liveJobs(jobs: { channel: DestinationChannel; jobId: string | undefined }[]): Promise<boolean[]> {
    const out = jobs.map(() => false);
    const byChannel = new Map<DestinationChannel, number[]>();
    for (const [i, j] of jobs.entries()) if (j.jobId) byChannel.set(j.channel, [...(byChannel.get(j.channel) ?? []), i]);
    for (const [channel, idx] of byChannel) {
      const k = this.queues[channel].keys;
      const keys = [k.delayed, k.prioritized, k['waiting-children'], k.active, k.wait, k.paused] as string[];
      const r = (await this.redis.eval(LIVE_JOBS, keys.length, ...keys, ...idx.map((i) => jobs[i]!.jobId!))) as number[];
      for (const [n, i] of idx.entries()) out[i] = Number(r[n]) === 1;
    }
    return out;
  }
}
