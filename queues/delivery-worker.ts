/**
 * Delivers one destination's waiting changes: wait for the destination's token bucket, claim
 * every waiting row (up to a batch), send them as one message (a digest when there are several),
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
import type { DeliveryJobData, DeliveryScheduler } from './fanout-worker.ts';
import { bucketKey, pendingKey, type Pace } from './names.ts';
import type { DeliverySender } from './senders.ts';
import { takeToken } from './token-bucket.ts';

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
  ) {}

  async process(job: Job<DeliveryJobData>, token: string | undefined): Promise<DeliveryOutcome> {
    const { channel, destinationKey } = job.data;
    const wait = await takeToken(this.redis, bucketKey(this.prefix, destinationKey), this.paces[channel], pendingKey(this.prefix, destinationKey));
    if (wait > 0) {
      // Paced: changes that arrive meanwhile join this job (the pending flag is still set).
      await job.moveToDelayed(Date.now() + wait, token);
      throw new DelayedError();
    }
    const jobId = job.id ?? `${destinationKey}-${Date.now()}`;
    const rows = await this.ledger.claim(destinationKey, jobId);
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
    if (rows.length === MAX_BATCH) {
      // More may be waiting: keep going without waiting for the next change.
      await this.scheduler.schedule([{ channel, destinationKey, messageId: rows[rows.length - 1]!.messageId }], { delayMs: 0, force: 'more' });
    }
    return { sent: rows.length, batchId };
  }

  private async fail(job: Job<DeliveryJobData>, token: string | undefined, ids: string[], err: unknown): Promise<never> {
    const e = err instanceof ChannelError ? err : undefined;
    const message = (err as Error)?.message ?? String(err);
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
