/**
 * Schedules delivery jobs: at most one waiting per destination. A destination that already has
 * a job waiting gets no second one — that job takes every row waiting for it, which is how
 * bursts coalesce. A destination a job is sending to right now gets none either: it is flagged
 * dirty, and that job looks for more before it lets go (token-bucket.ts). Job ids are
 * deterministic: first message id + destination (+ why, when forced).
 */
import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from '../src/redis/client.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';
import { redisScript } from '../src/redis/script.ts';
import { deliveryTag, dirtyKey, lockKey, pendingKey } from './names.ts';

// KEYS: pending, lock, dirty. ARGV: job id, ttl (ms), forced ('1' or ''). 1: add the job.
const mark = redisScript(
  `
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
  return 0
end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0
`,
  3,
);

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
   * For each destination, unless a job is already waiting for it or one holds it (then flagged
   * dirty), add one with a deterministic id (first message id + destination). `force` skips both
   * checks (sweeper, retries, a job handing over).
   */
  async schedule(items: { channel: DestinationChannel; destinationKey: string; messageId: string }[], opts: { force?: string; delayMs?: number } = {}): Promise<number> {
    if (items.length === 0) return 0;
    const unique = [...new Map(items.map((i) => [i.destinationKey, i])).values()];
    const jobId = (i: (typeof unique)[number]) => `${i.messageId}__${i.destinationKey}${opts.force ? `__${opts.force}` : ''}`;
    // The flag names the waiting job, so the sweeper can tell a lost job from a waiting one.
    // One pipeline per channel: a channel's flags share its queue's hash tag (one cluster node).
    const flagged = new Set<(typeof unique)[number]>();
    await Promise.all(
      [...new Set(unique.map((i) => i.channel))].map(async (ch) => {
        const list = unique.filter((i) => i.channel === ch);
        mark.prepare(this.redis);
        const pipe = this.redis.pipeline();
        const tag = deliveryTag(this.prefix, ch);
        for (const i of list) {
          const ttl = (opts.delayMs ?? this.windows[i.channel]) + 60_000;
          mark.queue(pipe, [pendingKey(tag, i.destinationKey), lockKey(tag, i.destinationKey), dirtyKey(tag, i.destinationKey)], [jobId(i), String(ttl), opts.force ? '1' : '']);
        }
        const res = (await pipe.exec()) ?? [];
        for (const [n, i] of list.entries()) {
          const [err, added] = res[n] ?? [];
          if (err) throw err;
          if (Number(added) === 1) flagged.add(i);
        }
      }),
    );
    const wanted = unique.filter((i) => flagged.has(i));
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
