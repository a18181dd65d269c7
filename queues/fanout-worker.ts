/**
 * The fan-out stage: expands a batch of SyncMessages into deliveries (one ledger row per message
 * and subscribed destination, idempotent), marks the outbox rows fanned out, and has the
 * scheduler make sure a delivery job is waiting per destination.
 */
import type { Job } from 'bullmq';
import { sql } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import type { Db } from '../src/db.ts';
import { statement } from '../src/db-statement.ts';
import type { SyncMessage } from '../src/sync/sync-message.ts';
import type { SubscriptionStore, DestinationChannel } from '../src/core/subscription-store.ts';
import { planFanout, scopesOf } from '../src/sync/fanout-plan.ts';
import { observeFanout } from '../src/telemetry/pipeline.ts';
import type { DeliveryLedger, NewDelivery } from './delivery-ledger.ts';
import type { DeliveryScheduler } from './delivery-scheduler.ts';
import { destinationKey } from './names.ts';
import type { FanoutJobData } from './outbox-relay.ts';

/** Most ledger rows one statement writes (and one fan-out job holds at a time). */
export const FANOUT_ROWS_PER_STATEMENT = 5000;

export class FanoutProcessor {
  constructor(
    db: Db,
    private readonly subscriptions: SubscriptionStore,
    private readonly ledger: DeliveryLedger,
    private readonly scheduler: DeliveryScheduler,
  ) {
    const o = schema.outbox;
    this.messagesStatement = statement(db, sql`select ${o.message} as message from ${o} where ${o.id} = any(${sql.placeholder('ids')}::text[])`);
  }

  /** The job's messages, read with a statement built once (one per fan-out job). */
  private readonly messagesStatement: (values: { ids: string[] }) => Promise<{ message: unknown }[]>;

  /** Returns how many deliveries the batch produced. */
  async process(job: Job<FanoutJobData>): Promise<number> {
    const messages = (await this.messagesStatement({ ids: job.data.messageIds })).map((r) => (typeof r.message === 'string' ? JSON.parse(r.message) : r.message) as SyncMessage);
    // One read of the subscriptions for the whole batch (read fresh: a new subscription counts at once).
    const all = await this.subscriptions.forScopes([...new Set(messages.flatMap(scopesOf))]);
    let rows: NewDelivery[] = [];
    let total = 0;
    // Written FANOUT_ROWS_PER_STATEMENT rows at a time, so a job's memory is bounded by that, not
    // by messages × destinations (500 changes to 1,000 destinations would be 500,000 rows at once).
    const flush = async (fannedOut: string[]) => {
      // Ledger rows (and, with the last part, the outbox's "fanned out" mark) in one statement.
      await this.ledger.enqueue(rows, fannedOut);
      await this.scheduler.schedule(rows.map((r) => ({ channel: r.channel as DestinationChannel, destinationKey: r.destinationKey, messageId: r.messageId })));
      total += rows.length;
      rows = [];
    };
    for (const m of messages) {
      const scopes = new Set(['', ...scopesOf(m)]);
      const subs = planFanout(
        m,
        all.filter((s) => scopes.has(s.scope)),
      );
      // A destination subscribed twice (say the whole hub and a project) gets a change once.
      const destinations = new Set<string>();
      for (const s of subs) {
        const destination = destinationKey(s.channel, s.address, s.thread);
        if (destinations.has(destination)) continue;
        destinations.add(destination);
        rows.push({
          id: `${m.id}__${s.id}`,
          messageId: m.id,
          subscriptionId: s.id,
          channel: s.channel,
          destinationKey: destination,
          address: s.address,
          thread: s.thread,
          domain: m.payload.domain,
          entityId: m.payload.entity.chittyId,
          status: 'queued',
        });
      }
      if (rows.length >= FANOUT_ROWS_PER_STATEMENT) await flush([]);
    }
    await flush(job.data.messageIds);
    observeFanout(job, messages, total);
    return total;
  }
}
