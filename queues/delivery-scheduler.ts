/**
 * Schedules delivery jobs: at most one waiting per destination. A destination that already has
 * a job waiting gets no second one — that job takes every row waiting for it, which is how
 * bursts coalesce. Job ids are deterministic: first message id + destination (+ why, when forced).
 */
import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from '../src/redis/client.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';
import { deliveryTag, pendingKey } from './names.ts';

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

  /**
   * For each destination, unless a job is already waiting for it, add one with a deterministic
   * id (first message id + destination). `force` skips the waiting check (sweeper, retries).
   */
  async schedule(items: { channel: DestinationChannel; destinationKey: string; messageId: string }[], opts: { force?: string; delayMs?: number } = {}): Promise<number> {
    if (items.length === 0) return 0;
    const unique = [...new Map(items.map((i) => [i.destinationKey, i])).values()];
    let wanted = unique;
    const jobId = (i: (typeof unique)[number]) => `${i.messageId}__${i.destinationKey}${opts.force ? `__${opts.force}` : ''}`;
    // The flag names the waiting job, so the sweeper can tell a lost job from a waiting one.
    // One pipeline per channel: a channel's flags share its queue's hash tag (one cluster node).
    const flagged = new Set<(typeof unique)[number]>();
    await Promise.all(
      [...new Set(unique.map((i) => i.channel))].map(async (ch) => {
        const list = unique.filter((i) => i.channel === ch);
        const pipe = this.redis.pipeline();
        for (const i of list) {
          const ttl = (opts.delayMs ?? this.windows[i.channel]) + 60_000;
          if (opts.force) pipe.set(pendingKey(deliveryTag(this.prefix, ch), i.destinationKey), jobId(i), 'PX', ttl);
          else pipe.set(pendingKey(deliveryTag(this.prefix, ch), i.destinationKey), jobId(i), 'PX', ttl, 'NX');
        }
        const res = (await pipe.exec()) ?? [];
        for (const [n, i] of list.entries()) if (res[n]?.[1] === 'OK') flagged.add(i);
      }),
    );
    if (!opts.force) wanted = unique.filter((i) => flagged.has(i));
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
