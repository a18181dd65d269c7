/**
 * The fan-out stage: expands a batch of SyncMessages into deliveries (one ledger row per message
 * and subscribed destination, idempotent), marks the outbox rows fanned out, and has the
 * scheduler make sure a delivery job is waiting per destination.
 */
import type { Job } from 'bullmq';
import { inArray } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import type { Db } from '../src/db.ts';
import type { SyncMessage } from '../src/sync/sync-message.ts';
import type { SubscriptionStore, DestinationChannel } from '../src/core/subscription-store.ts';
import { planFanout, scopesOf } from '../src/sync/fanout-plan.ts';
import { observeFanout } from '../src/telemetry/pipeline.ts';
import type { DeliveryLedger, NewDelivery } from './delivery-ledger.ts';
import type { DeliveryScheduler } from './delivery-scheduler.ts';
import { destinationKey } from './names.ts';
import type { FanoutJobData } from './outbox-relay.ts';

export class FanoutProcessor {
  constructor(
    private readonly db: Db,
    private readonly subscriptions: SubscriptionStore,
    private readonly ledger: DeliveryLedger,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  /** Returns how many deliveries the batch produced. */
  async process(job: Job<FanoutJobData>): Promise<number> {
    const o = schema.outbox;
    const messages = (await this.db.select({ message: o.message }).from(o).where(inArray(o.id, job.data.messageIds))).map((r) => r.message as SyncMessage);
    const rows: NewDelivery[] = [];
    // One read of the subscriptions for the whole batch (read fresh: a new subscription counts at once).
    const all = await this.subscriptions.forScopes([...new Set(messages.flatMap(scopesOf))]);
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
    }
    // Ledger rows and the outbox's "fanned out" mark in one statement (one round trip).
    await this.ledger.enqueue(rows, job.data.messageIds);
    await this.scheduler.schedule(rows.map((r) => ({ channel: r.channel as DestinationChannel, destinationKey: r.destinationKey, messageId: r.messageId })));
    observeFanout(job, messages, rows.length);
    return rows.length;
  }
}
