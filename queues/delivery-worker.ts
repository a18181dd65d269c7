/**
 * Delivers one destination's waiting changes: take the destination's lock and a token from its
 * bucket, read every waiting row (up to a batch), send them as one message (a digest when several),
 * and turn the outcome into a decision:
 * - sent → rows `sent` with the provider's id;
 * - 429 → rows back to `queued`; the destination (or, for a platform-wide 429, the whole channel)
 *   is held in Redis for the provider's Retry-After, so no job sends there before it ends (not an
 *   attempt);
 * - network / 5xx → rows `failed`, the destination is held for the retry backoff (exponential with
 *   jitter) and BullMQ retries the job when it ends;
 * - validation / auth / other 4xx, or the last attempt → rows `dead` (dead letters).
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { RateLimitedError } from '../src/core/channel-errors.ts';
import { classifyError } from '../src/core/chitty-error.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';
import type { Logger } from '../src/log.ts';
import { MAX_BATCH, type DeliveryLedger } from './delivery-ledger.ts';
import type { DeliveryJobData, DeliveryScheduler } from './delivery-scheduler.ts';
import { bucketKey, lockKey, pendingKey, type Pace } from './names.ts';
import type { DeliverySender } from './senders.ts';
import { acquireDestination, holdKey, holdUntil, LOCKED, platformHoldKey, releaseDestination, type DestinationKeys } from './token-bucket.ts';

/** How soon a job retries a destination another job is working on (ms). */
export const LOCK_RETRY_MS = 25;

/** How long a retrying destination keeps new changes waiting for its retry (longest backoff). */
export const RETRY_HOLD_MS = 15 * 60_000;

/** The job backoff type whose delay {@link DeliveryProcessor.backoff} decides (the destination's hold). */
export const DESTINATION_BACKOFF = 'destination';

/** Exponential backoff with jitter 0.5 (as BullMQ's `exponential`): attempt n waits base·2^(n-1)·[0.5, 1]. */
export function retryDelayMs(baseMs: number, attempt: number, random: () => number = Math.random): number {
  const max = Math.round(baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(max * (0.5 + 0.5 * random()));
}

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
    /** First retry backoff after a network error or 5xx (ms); doubles per attempt. */
    private readonly retryBaseMs = 1000,
  ) {}

  /** The delay each thrown error's retry was given (the destination is held for exactly that). */
  private readonly retryDelays = new WeakMap<Error, number>();

  /** BullMQ `backoffStrategy` for {@link DESTINATION_BACKOFF}: retry when the destination's hold ends. */
  backoff(attemptsMade: number, err: Error | undefined): number {
    return (err && this.retryDelays.get(err)) ?? retryDelayMs(this.retryBaseMs, attemptsMade);
  }

  private keys(channel: DestinationChannel, destinationKey: string): DestinationKeys {
    const p = this.prefix;
    // A sender that paces per sending number (SMS) shares one bucket across its destinations.
    const paceKey = this.senders[channel].paceKey;
    return { bucket: bucketKey(p, paceKey ?? destinationKey), pending: pendingKey(p, destinationKey), lock: lockKey(p, destinationKey), hold: holdKey(p, destinationKey), platformHold: platformHoldKey(p, channel) };
  }

  async process(job: Job<DeliveryJobData>, token: string | undefined): Promise<DeliveryOutcome> {
    const { channel, destinationKey } = job.data;
    const owner = job.id ?? `${destinationKey}-${Date.now()}`;
    const keys = this.keys(channel, destinationKey);
    const wait = await acquireDestination(this.redis, keys, this.paces[channel], owner, this.lockMs);
    if (wait !== 0) {
      // Another job is sending to this destination, it or its platform is held, or its pace says wait: come back then.
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
        await this.ledger.markSent(ids, r.providerMessageId, batchId, r.note);
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
    const message = (err as Error)?.message ?? String(err);
    if (err instanceof RateLimitedError && err.scope === 'platform' && this.pausePlatform) {
      // The platform limits the whole app, not one conversation: every destination of the channel
      // waits (checked by each job while this one still holds the destination), and its queue pauses.
      await this.ledger.markFailed(ids, message, 'queued');
      await holdUntil(this.redis, platformHoldKey(this.prefix, job.data.channel), err.retryAfterMs);
      await this.holdDestination(job, err.retryAfterMs);
      this.logger.warn({ channel: job.data.channel, retryAfterMs: err.retryAfterMs }, 'platform rate limit; pausing the channel queue for Retry-After');
      throw await this.pausePlatform(job.data.channel, err.retryAfterMs);
    }
    if (err instanceof RateLimitedError) {
      // Held before the lock is released: no job sends to this destination before Retry-After ends.
      await this.ledger.markFailed(ids, message, 'queued');
      await holdUntil(this.redis, holdKey(this.prefix, job.data.destinationKey), err.retryAfterMs);
      await this.holdDestination(job, err.retryAfterMs);
      this.logger.warn({ destination: job.data.destinationKey, retryAfterMs: err.retryAfterMs }, 'rate limited by the destination; waiting Retry-After');
      await job.moveToDelayed(Date.now() + err.retryAfterMs, token);
      throw new DelayedError();
    }
    const attempts = job.opts.attempts ?? 1;
    const last = job.attemptsMade + 1 >= attempts;
    const retryable = classifyError(err).retryable;
    if (!retryable || last) {
      await this.ledger.markFailed(ids, message, 'dead');
      this.logger.warn({ destination: job.data.destinationKey, rows: ids.length, err: message, attempt: job.attemptsMade + 1 }, 'delivery dead-lettered');
      throw new UnrecoverableError(message);
    }
    await this.ledger.markFailed(ids, message, 'failed');
    // The retry backoff holds the destination, not only this job: no other job sends there first.
    const delay = retryDelayMs(this.retryBaseMs, job.attemptsMade + 1);
    await holdUntil(this.redis, holdKey(this.prefix, job.data.destinationKey), delay);
    await this.holdDestination(job, RETRY_HOLD_MS);
    const thrown = err instanceof Error ? err : new Error(message);
    this.retryDelays.set(thrown, delay);
    throw thrown;
  }

  /** This job will run again: new changes for the destination wait for it rather than start another. */
  private async holdDestination(job: Job<DeliveryJobData>, ms: number): Promise<void> {
    await this.redis.set(pendingKey(this.prefix, job.data.destinationKey), job.id ?? 'retry', 'PX', ms + 60_000);
  }
}
