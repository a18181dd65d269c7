/**
 * What a failed send leads to (delivery-worker.ts): the outcome on the batch's rows, and what
 * happens next: the destination (or its whole platform) held for Retry-After, a retry after an
 * exponential backoff (the destination held as long, the breaker's park when longer), dead letters,
 * or the destination disabled when it is gone. Each path ends by throwing what BullMQ is to do.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { RedisClient as Redis } from '../src/redis/client.ts';
import { DestinationNotFoundError, RateLimitedError } from '../src/core/channel-errors.ts';
import { classifyError } from '../src/core/chitty-error.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';
import type { Logger } from '../src/log.ts';
import type { ClaimedDelivery, DeliveryLedger, SentBatch } from './delivery-ledger.ts';
import type { DeliveryJobData, DeliveryScheduler } from './delivery-scheduler.ts';
import type { DestinationGuard } from './destination-guard.ts';
import { deliveryTag, pendingKey } from './names.ts';
import { holdKey, holdUntil, platformHoldKey } from './token-bucket.ts';

/** How long a retrying destination keeps new changes waiting for its retry (longest backoff). */
export const RETRY_HOLD_MS = 15 * 60_000;

/** The job backoff type whose delay {@link FailedSends.backoff} decides (the destination's hold). */
export const DESTINATION_BACKOFF = 'destination';

/** Exponential backoff with jitter 0.5 (as BullMQ's `exponential`): attempt n waits base·2^(n-1)·[0.5, 1]. */
export function retryDelayMs(baseMs: number, attempt: number, random: () => number = Math.random): number {
  const max = Math.round(baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(max * (0.5 + 0.5 * random()));
}

/** What deciding a failed send needs. */
export interface FailedSendDeps {
  redis: Redis;
  prefix: string;
  ledger: DeliveryLedger;
  scheduler: DeliveryScheduler;
  guard: DestinationGuard;
  logger: Logger;
  /** First retry backoff after a network error or 5xx (ms); doubles per attempt. */
  retryBaseMs: number;
  /** Pause a whole channel's queue (a platform-wide 429); returns the error BullMQ expects. */
  pausePlatform?: ((channel: DestinationChannel, ms: number) => Promise<Error>) | undefined;
}

export class FailedSends {
  constructor(private readonly deps: FailedSendDeps) {}

  /** The delay each thrown error's retry was given (the destination is held for exactly that). */
  private readonly retryDelays = new WeakMap<Error, number>();

  /** BullMQ `backoffStrategy` for {@link DESTINATION_BACKOFF}: retry when the destination's hold ends. */
  backoff(attemptsMade: number, err: Error | undefined): number {
    return (err && this.retryDelays.get(err)) ?? retryDelayMs(this.deps.retryBaseMs, attemptsMade);
  }

  /** The failed send's outcome written and its next step taken: always throws what BullMQ is to do with the job. */
  async decide(job: Job<DeliveryJobData>, token: string | undefined, batch: SentBatch, rows: ClaimedDelivery[], err: unknown): Promise<never> {
    const message = (err as Error)?.message ?? String(err);
    if (err instanceof RateLimitedError && err.scope === 'platform' && this.deps.pausePlatform) {
      // The platform limits the whole app, not one conversation: every destination of the channel
      // waits (checked by each job while this one still holds the destination), and its queue pauses.
      await this.deps.ledger.markFailed(batch, message, 'queued');
      await holdUntil(this.deps.redis, platformHoldKey(deliveryTag(this.deps.prefix, job.data.channel), job.data.channel), err.retryAfterMs);
      await holdDestination(this.deps.redis, this.deps.prefix, job, err.retryAfterMs);
      this.deps.logger.warn({ channel: job.data.channel, retryAfterMs: err.retryAfterMs }, 'platform rate limit; pausing the channel queue for Retry-After');
      throw await this.deps.pausePlatform(job.data.channel, err.retryAfterMs);
    }
    if (err instanceof RateLimitedError) {
      // Held before the lock is released: no job sends to this destination before Retry-After ends.
      await this.deps.ledger.markFailed(batch, message, 'queued');
      await holdUntil(this.deps.redis, holdKey(deliveryTag(this.deps.prefix, job.data.channel), job.data.destinationKey), err.retryAfterMs);
      await holdDestination(this.deps.redis, this.deps.prefix, job, err.retryAfterMs);
      this.deps.logger.warn({ destination: job.data.destinationKey, retryAfterMs: err.retryAfterMs }, 'rate limited by the destination; waiting Retry-After');
      await job.moveToDelayed(Date.now() + err.retryAfterMs, token);
      throw new DelayedError();
    }
    if (err instanceof DestinationNotFoundError) {
      // The destination is gone: nothing more is fanned out to it, and one dead letter (in that
      // order: whoever sees the dead letter sees the subscription disabled).
      const first = rows[0]!;
      const disabled = await this.deps.ledger.disableDestination({ channel: job.data.channel, address: first.address, thread: first.thread }, message);
      await this.deps.ledger.markFailed(batch, message, 'dead');
      this.deps.logger.warn({ destination: job.data.destinationKey, subscriptions: disabled, err: message }, 'destination gone; its subscriptions are disabled (subscribe again to enable)');
      throw new UnrecoverableError(message);
    }
    // Attempts are counted on the rows (any job may have sent them before), never on the job alone.
    const max = job.opts.attempts ?? 1;
    const retryable = classifyError(err).retryable;
    const dead = rows.filter((r) => !retryable || (r.attempts ?? 0) + 1 >= max).map((r) => r.id);
    const retry = rows.filter((r) => !dead.includes(r.id)).map((r) => r.id);
    await this.deps.ledger.markFailed(batch, message, retry.length > 0 ? 'failed' : 'dead', dead);
    const breaker = retryable ? await this.deps.guard.failed(job.data.channel, job.data.destinationKey) : { failures: 0, parkMs: 0 };
    if (dead.length > 0) this.deps.logger.warn({ destination: job.data.destinationKey, rows: dead.length, err: message, attempt: job.attemptsMade + 1 }, 'delivery dead-lettered');
    if (retry.length === 0) throw new UnrecoverableError(message);
    const attemptsMade = Math.max(...rows.filter((r) => retry.includes(r.id)).map((r) => r.attempts ?? 0)) + 1;
    // The retry backoff (or the breaker's park, when longer) holds the destination, not only this job.
    const delay = Math.max(retryDelayMs(this.deps.retryBaseMs, attemptsMade), breaker.parkMs);
    if (breaker.parkMs > 0)
      this.deps.logger.warn({ destination: job.data.destinationKey, failures: breaker.failures, parkMs: breaker.parkMs }, 'destination keeps failing; circuit open, parked until a probe');
    await holdUntil(this.deps.redis, holdKey(deliveryTag(this.deps.prefix, job.data.channel), job.data.destinationKey), delay);
    if (job.attemptsMade + 1 >= max) {
      // This job has no retries left but its rows do: a new job takes them when the hold ends.
      await this.deps.scheduler.schedule([{ channel: job.data.channel, destinationKey: job.data.destinationKey, messageId: rows[0]!.messageId }], { delayMs: delay, force: `retry${attemptsMade}` });
      throw new UnrecoverableError(message);
    }
    await holdDestination(this.deps.redis, this.deps.prefix, job, RETRY_HOLD_MS);
    const thrown = err instanceof Error ? err : new Error(message);
    this.retryDelays.set(thrown, delay);
    throw thrown;
  }
}

/** This job will run again: new changes for the destination wait for it rather than start another. */
export async function holdDestination(redis: Redis, prefix: string, job: Job<DeliveryJobData>, ms: number): Promise<void> {
  await redis.set(pendingKey(deliveryTag(prefix, job.data.channel), job.data.destinationKey), job.id ?? 'retry', 'PX', ms + 60_000);
}
