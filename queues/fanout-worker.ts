/**
 * The fan-out stage: expands a batch of SyncMessages into deliveries (one ledger row per message
 * and subscribed destination, idempotent), marks the outbox rows fanned out, and makes sure one
 * delivery job is waiting per destination. A destination that already has a job waiting gets no
 * second one: that job will take every row waiting for it, which is how bursts coalesce.
 */
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { inArray } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import type { Db } from '../src/db.ts';
import type { SyncMessage } from '../src/sync/sync-message.ts';
import type { SubscriptionStore, DestinationChannel } from '../src/core/subscription-store.ts';
import { planFanout, scopesOf } from '../src/sync/fanout-plan.ts';
import type { DeliveryLedger, NewDelivery } from './delivery-ledger.ts';
import { destinationKey, pendingKey } from './names.ts';
import type { FanoutJobData } from './outbox-relay.ts';

export interface DeliveryJobData {
  channel: DestinationChannel;
  destinationKey: string;
}

/** Schedules delivery jobs, at most one waiting per destination. */
export class DeliveryScheduler {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly queues: Record<DestinationChannel, Queue<DeliveryJobData>>,
    /** Coalescing window per channel: a job runs this long after the first change it carries. */
    private readonly windows: Record<DestinationChannel, number>,
  ) {}

  /** The job id for a destination's next delivery: first message id + destination (+ why, when forced). */
  static jobId(messageId: string, destinationKey: string, suffix?: string): string {
    return `${messageId}__${destinationKey}${suffix ? `__${suffix}` : ''}`;
  }

  /**
   * For each destination, unless a job is already waiting for it, add one with a deterministic
   * id (first message id + destination). `force` skips the waiting check (sweeper, retries).
   */
  async schedule(items: { channel: DestinationChannel; destinationKey: string; messageId: string }[], opts: { force?: string; delayMs?: number } = {}): Promise<number> {
    if (items.length === 0) return 0;
    const unique = [...new Map(items.map((i) => [i.destinationKey, i])).values()];
    let wanted = unique;
    const jobId = (i: (typeof unique)[number]) => DeliveryScheduler.jobId(i.messageId, i.destinationKey, opts.force);
    const pipe = this.redis.pipeline();
    // The flag names the waiting job, so the sweeper can tell a lost job from a waiting one.
    for (const i of unique) {
      const ttl = (opts.delayMs ?? this.windows[i.channel]) + 60_000;
      if (opts.force) pipe.set(pendingKey(this.prefix, i.destinationKey), jobId(i), 'PX', ttl);
      else pipe.set(pendingKey(this.prefix, i.destinationKey), jobId(i), 'PX', ttl, 'NX');
    }
    const res = (await pipe.exec()) ?? [];
    if (!opts.force) wanted = unique.filter((_, n) => res[n]?.[1] === 'OK');
    const byChannel = new Map<DestinationChannel, typeof wanted>();
    for (const i of wanted) byChannel.set(i.channel, [...(byChannel.get(i.channel) ?? []), i]);
    for (const [channel, list] of byChannel) {
      await this.queues[channel].addBulk(
        list.map((i) => ({
          name: 'deliver',
          data: { channel, destinationKey: i.destinationKey },
          opts: { jobId: jobId(i), delay: opts.delayMs ?? this.windows[channel] },
        })),
      );
    }
    return wanted.length;
  }
}

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
      const subs = planFanout(m, all.filter((s) => scopes.has(s.scope)));
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
    return rows.length;
  }
}
