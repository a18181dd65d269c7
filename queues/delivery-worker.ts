/**
 * Delivers one destination's waiting changes: take the destination's lock and a token from its
 * bucket, read every waiting row (up to a batch), send them as one message (a digest when several),
 * and turn the outcome into a decision:
 * - sent → rows `sent` with the provider's id;
 * - 429 → rows back to `queued`, the job waits the provider's Retry-After (not an attempt);
 * - network / 5xx → rows `failed`, BullMQ retries with exponential backoff and jitter;
 * - validation / auth / other 4xx, or the last attempt → rows `dead` (dead letters).
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ChannelError, RateLimitedError } from '../src/core/channel-errors.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';
import type { Logger } from '../src/log.ts';
import { MAX_BATCH, type DeliveryLedger } from './delivery-ledger.ts';
import type { DeliveryJobData, DeliveryScheduler } from './delivery-scheduler.ts';
import { bucketKey, lockKey, pendingKey, type Pace } from './names.ts';
import type { DeliverySender } from './senders.ts';
import { acquireDestination, LOCKED, releaseDestination } from './token-bucket.ts';

/** How soon a job retries a destination another job is working on (ms). */
export const LOCK_RETRY_MS = 25;

/** How long a retrying destination keeps new changes waiting for its retry (longest backoff). */
export const RETRY_HOLD_MS = 15 * 60_000;

export interface DeliveryOutcome {
  sent: number;
  batchId?: string;
}

export class DeliveryProcessor {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ledger: DeliveryLedger,
    private readonly scheduler: DeliveryScheduler,
    private readonly senders: Record<DestinationChannel, DeliverySender>,
    private readonly paces: Record<DestinationChannel, Pace>,
    private readonly logger: Logger,
    /** How long the destination lock lasts: a dead worker's lock frees itself after this. */
    private readonly lockMs = 30_000,
    /** Pause a whole channel's queue (a platform-wide 429); returns the error BullMQ expects. */
    private readonly pausePlatform?: (channel: DestinationChannel, ms: number) => Promise<Error>,
  ) {}

  async process(job: Job<DeliveryJobData>, token: string | undefined): Promise<DeliveryOutcome> {
    const { channel, destinationKey } = job.data;
    const owner = job.id ?? `${destinationKey}-${Date.now()}`;
    const keys = { bucket: bucketKey(this.prefix, destinationKey), pending: pendingKey(this.prefix, destinationKey), lock: lockKey(this.prefix, destinationKey) };
    const wait = await acquireDestination(this.redis, keys, this.paces[channel], owner, this.lockMs);
    if (wait !== 0) {
      // Another job is sending to this destination, or its pace says wait: come back then.
      // Changes that arrive meanwhile join this job (its pending flag is still set).
      await job.moveToDelayed(Date.now() + (wait === LOCKED ? LOCK_RETRY_MS : wait), token);
      throw new DelayedError();
    }
    let rows: Awaited<ReturnType<DeliveryLedger['waiting']>> = [];
    try {
      rows = await this.ledger.waiting(destinationKey);
      if (rows.length === 0) return { sent: 0 };
      const ids = rows.map((r) => r.id);
      const batchId = rows.length === 1 ? rows[0]!.id : `${rows[0]!.id}+${rows.length - 1}`;
      const first = rows[0]!;
      try {
        const r = await this.senders[channel].send({ channel, address: first.address, thread: first.thread, batchId, messagesJson: rows.map((x) => x.messageJson) });
        await this.ledger.markSent(ids, r.providerMessageId, batchId);
      } catch (err) {
        await this.fail(job, token, ids, err);
      }
      return { sent: rows.length, batchId };
    } finally {
      await releaseDestination(this.redis, keys.lock, owner);
      if (rows.length === MAX_BATCH) {
        // More may be waiting: keep going without waiting for the next change.
        await this.scheduler.schedule([{ channel, destinationKey, messageId: rows[rows.length - 1]!.messageId }], { delayMs: 0, force: 'more' });
      }
    }
  }

  private async fail(job: Job<DeliveryJobData>, token: string | undefined, ids: string[], err: unknown): Promise<never> {
    const e = err instanceof ChannelError ? err : undefined;
    const message = (err as Error)?.message ?? String(err);
    if (err instanceof RateLimitedError && err.scope === 'platform' && this.pausePlatform) {
      // The platform limits the whole app, not one conversation: the channel's queue waits.
      await this.ledger.markFailed(ids, message, 'queued');
      await this.holdDestination(job, err.retryAfterMs);
      this.logger.warn({ channel: job.data.channel, retryAfterMs: err.retryAfterMs }, 'platform rate limit; pausing the channel queue for Retry-After');
      throw await this.pausePlatform(job.data.channel, err.retryAfterMs);
    }
    if (err instanceof RateLimitedError) {
      await this.ledger.markFailed(ids, message, 'queued');
      await this.holdDestination(job, err.retryAfterMs);
      this.logger.warn({ destination: job.data.destinationKey, retryAfterMs: err.retryAfterMs }, 'rate limited by the destination; waiting Retry-After');
      await job.moveToDelayed(Date.now() + err.retryAfterMs, token);
      throw new DelayedError();
    }
    const attempts = job.opts.attempts ?? 1;
    const last = job.attemptsMade + 1 >= attempts;
    const retryable = e ? e.retryable : true;
    if (!retryable || last) {
      await this.ledger.markFailed(ids, message, 'dead');
      this.logger.warn({ destination: job.data.destinationKey, rows: ids.length, err: message, attempt: job.attemptsMade + 1 }, 'delivery dead-lettered');
      throw new UnrecoverableError(message);
    }
    await this.ledger.markFailed(ids, message, 'failed');
    await this.holdDestination(job, RETRY_HOLD_MS);
    throw err instanceof Error ? err : new Error(message);
  }

  /** This job will run again: new changes for the destination wait for it rather than start another. */
  private async holdDestination(job: Job<DeliveryJobData>, ms: number): Promise<void> {
    await this.redis.set(pendingKey(this.prefix, job.data.destinationKey), job.id ?? 'retry', 'PX', ms + 60_000);
  }
}
