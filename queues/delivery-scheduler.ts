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

// For each destination of one channel, in one call: KEYS pending, lock, dirty (three per
// destination); ARGV ttl (ms), forced ('1' or ''), then the destinations' job ids. Returns, per
// destination, 1: add the job.
const mark = redisScript(
  `
local ttl = ARGV[1]
local forced = ARGV[2] == '1'
local out = {}
for i = 1, #KEYS / 3 do
  local pending, lock, dirty, id = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[2 + i]
  if forced then
    redis.call('SET', pending, id, 'PX', ttl)
    out[i] = 1
  elseif redis.call('EXISTS', lock) == 1 then
    redis.call('SET', dirty, '1', 'PX', ttl)
    out[i] = 0
  elseif redis.call('SET', pending, id, 'PX', ttl, 'NX') then
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`,
  'any',
);

/** Most destinations one call of the mark script looks at (Redis runs nothing else meanwhile). */
const MARKS_PER_CALL = 500;

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
    // One script call per channel: a channel's flags share its queue's hash tag (one cluster node).
    const flagged = new Set<(typeof unique)[number]>();
    await Promise.all(
      [...new Set(unique.map((i) => i.channel))].map(async (ch) => {
        const all = unique.filter((i) => i.channel === ch);
        const tag = deliveryTag(this.prefix, ch);
        const ttl = (opts.delayMs ?? this.windows[ch]) + 60_000;
        for (let at = 0; at < all.length; at += MARKS_PER_CALL) {
          const list = all.slice(at, at + MARKS_PER_CALL);
          const keys = list.flatMap((i) => [pendingKey(tag, i.destinationKey), lockKey(tag, i.destinationKey), dirtyKey(tag, i.destinationKey)]);
          const added = (await mark.run(this.redis, keys, [String(ttl), opts.force ? '1' : '', ...list.map(jobId)])) as number[];
          for (const [n, i] of list.entries()) if (Number(added[n]) === 1) flagged.add(i);
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
