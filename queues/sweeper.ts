/**
 * The sweeper repairs what a crash or a Redis restart can leave behind; the database is the
 * source of truth, Redis only carries work:
 * - outbox rows dispatched long ago but never fanned out (their fan-out job was lost) go back to
 *   the relay;
 * - destinations with waiting deliveries but no job waiting in Redis get a new job.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { and, isNotNull, isNull, lt } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import type { Db } from '../src/db.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';
import type { Logger } from '../src/log.ts';
import type { DeliveryLedger } from './delivery-ledger.ts';
import type { DeliveryScheduler } from './delivery-scheduler.ts';
import { pendingKey } from './names.ts';

export interface SweeperOptions {
  /** How often to look (ms). */
  everyMs: number;
  /** A dispatched outbox row not fanned out after this long is re-relayed (ms). */
  fanoutTimeoutMs: number;
  /** Deliveries waiting this long without a job are rescheduled (ms). */
  deliveryTimeoutMs: number;
}

export const DEFAULT_SWEEPER: SweeperOptions = { everyMs: 10_000, fanoutTimeoutMs: 120_000, deliveryTimeoutMs: 30_000 };

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<unknown> | undefined;

  constructor(
    private readonly db: Db,
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ledger: DeliveryLedger,
    private readonly scheduler: DeliveryScheduler,
    private readonly queues: Record<DestinationChannel, Queue>,
    private readonly logger: Logger,
    private readonly opts: SweeperOptions = DEFAULT_SWEEPER,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.busy) this.busy = this.sweep().catch((err: unknown) => this.logger.debug({ err: (err as Error).message }, 'sweep skipped')).finally(() => (this.busy = undefined));
    }, this.opts.everyMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
  }

  async sweep(): Promise<{ refanned: number; rescheduled: number }> {
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
      const pipe = this.redis.pipeline();
      for (const s of stuck) pipe.get(pendingKey(this.prefix, s.destinationKey));
      const flags = (await pipe.exec()) ?? [];
      const lost = [];
      for (const [i, s] of stuck.entries()) {
        const jobId = flags[i]?.[1] as string | null | undefined;
        const state = jobId ? await this.queues[s.channel as DestinationChannel].getJobState(jobId) : 'unknown';
        // Waiting, delayed (paced, backing off) or running: leave it. Gone or finished: lost.
        if (!['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'].includes(state)) lost.push(s);
      }
      rescheduled = await this.scheduler.schedule(
        lost.map((s) => ({ channel: s.channel as DestinationChannel, destinationKey: s.destinationKey, messageId: s.messageId })),
        { force: `sweep${Math.floor(now / 1000)}`, delayMs: 0 },
      );
    }
    if (refanned.length || rescheduled) this.logger.info({ refanned: refanned.length, rescheduled }, 'sweeper recovered lost work');
    return { refanned: refanned.length, rescheduled };
  }
}
