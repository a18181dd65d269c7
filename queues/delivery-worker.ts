/**
 * Delivers one destination's waiting changes: take the destination's lock and a token from its
 * bucket, read every waiting row (up to a batch), send them as one message (a digest when several),
 * and turn the outcome into a decision (a failed send's in delivery-failure.ts):
 * - sent → rows `sent` with the provider's id;
 * - 429 → rows back to `queued`; the destination (or, for a platform-wide 429, the whole channel)
 *   is held in Redis for the provider's Retry-After, so no job sends there before it ends (not an
 *   attempt);
 * - network / 5xx → rows `failed`, the destination is held for the retry backoff (exponential with
 *   jitter) and BullMQ retries the job when it ends;
 * - validation / auth / other 4xx, or a row's last attempt (counted on the row, whichever job sent
 *   it) → rows `dead` (dead letters);
 * - destination gone (410, "channel not found", "user blocked the bot") → rows `dead` and every
 *   subscription of the destination disabled;
 * - rows whose subscription was deleted, paused or disabled are not sent (dead, no attempt).
 * A destination that is not trusted (see destination-guard.ts) sends only through a bounded number
 * of per-channel slots, every send has a timeout, and a breaker parks destinations that keep failing.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { RedisClient as Redis } from '../src/redis/client.ts';
import { NetworkError } from '../src/core/channel-errors.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';
import type { Logger } from '../src/log.ts';
import { MAX_BATCH, nextBatch, type ClaimedDelivery, type DeliveryLedger } from './delivery-ledger.ts';
import { DEFAULT_BREAKER, DestinationGuard, trustKey, type CircuitBreakerOptions } from './destination-guard.ts';
import type { DeliveryJobData, DeliveryScheduler } from './delivery-scheduler.ts';
import { answeredKey, bucketKey, LEAVING, deliveryTag, dirtyKey, lockKey, pendingKey, type Pace } from './names.ts';
import { observeDropped, observeSendFailed, observeSent } from '../src/telemetry/pipeline.ts';
import type { DeliverySender } from './senders.ts';
import { FailedSends, holdDestination } from './delivery-failure.ts';
import { PendingOutcome } from './pending-outcome.ts';
import { answeredRound, extendDestination, IDLE, nextRound, finishDestination, holdKey, LOCKED, platformHoldKey, releaseDestination, takeDestination, type DestinationKeys } from './token-bucket.ts';

/** Most batches one job sends to its destination before it hands over to a new job. */
export const DRAIN_ROUNDS = 10;
/**
 * How long a batch's "answered" mark (names.ts answeredKey) may outlive its worker: it is read when
 * the next job finds the batch without an outcome, within a lock's expiry and a stalled-job check.
 */
export const ANSWERED_MARK_MS = 10 * 60_000;

export interface DeliveryOutcome {
  sent: number;
  batchId?: string;
  /** Another job held the destination and takes this one's changes. */
  handedOver?: boolean;
}

/** How a channel's workers are shared between destinations. */
export interface IsolationOptions {
  /** Concurrent sends to untrusted destinations per channel (default 8: a quarter of 32 workers). */
  untrustedCap?: number;
  /** Any send longer than this fails as a timeout (an attempt); senders may time out sooner (ms, default 15 s). */
  sendTimeoutMs?: number;
  breaker?: CircuitBreakerOptions;
  /** How soon a job whose destination found no untrusted slot looks again (ms, default 500, ±50%). */
  slotRetryMs?: number;
}

export { DESTINATION_BACKOFF, RETRY_HOLD_MS, retryDelayMs } from './delivery-failure.ts';

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
    pausePlatform?: (channel: DestinationChannel, ms: number) => Promise<Error>,
    /** First retry backoff after a network error or 5xx (ms); doubles per attempt. */
    retryBaseMs = 1000,
    private readonly isolation: IsolationOptions = {},
  ) {
    this.guard = new DestinationGuard(redis, prefix, isolation.untrustedCap ?? 8, isolation.breaker ?? DEFAULT_BREAKER);
    this.failures = new FailedSends({ redis, prefix, ledger, scheduler, guard: this.guard, logger, retryBaseMs, pausePlatform });
  }

  readonly guard: DestinationGuard;

  /** How a failed send is decided (retry, hold, dead letter) and when its retry runs. */
  readonly failures: FailedSends;

  /** BullMQ `backoffStrategy` for {@link DESTINATION_BACKOFF}: retry when the destination's hold ends. */
  backoff(attemptsMade: number, err: Error | undefined): number {
    return this.failures.backoff(attemptsMade, err);
  }

  private keys(channel: DestinationChannel, destinationKey: string): DestinationKeys {
    const p = deliveryTag(this.prefix, channel); // every key the acquire script reads shares the channel queue's slot
    // A sender that paces per sending number (SMS) shares one bucket across its destinations.
    const paceKey = this.senders[channel].paceKey;
    return {
      bucket: bucketKey(p, paceKey ?? destinationKey),
      pending: pendingKey(p, destinationKey),
      lock: lockKey(p, destinationKey),
      hold: holdKey(p, destinationKey),
      platformHold: platformHoldKey(p, channel),
      dirty: dirtyKey(p, destinationKey),
      trusted: trustKey(this.prefix, channel, destinationKey),
    };
  }

  async process(job: Job<DeliveryJobData>, token: string | undefined): Promise<DeliveryOutcome> {
    const { channel, destinationKey } = job.data;
    const owner = job.id ?? `${destinationKey}-${Date.now()}`;
    const keys = this.keys(channel, destinationKey);
    // Whether the destination is trusted comes with the lock (one script).
    const { wait, trusted } = await takeDestination(this.redis, keys, this.paces[channel], owner, this.lockMs);
    // Another job is sending to this destination: the script flagged it, and that job sends these
    // changes before it lets go. Nothing to wait for (a job polling the lock was most of the work).
    if (wait === LOCKED) return { sent: 0, handedOver: true };
    if (wait !== 0) {
      // It or its platform is held, or its pace says wait: come back then. Changes that arrive
      // meanwhile join this job (its pending flag is still set).
      await job.moveToDelayed(Date.now() + wait, token);
      throw new DelayedError();
    }
    let rows: ClaimedDelivery[] = [];
    let slot = false;
    /** More rows are known to wait than the last batch took. */
    let more = false;
    /** The lock is no longer this job's (released when nothing waited, or taken over after it expired). */
    let letGo = false;
    /** This job runs again (delayed, rate limited or retried): it takes what waits then. */
    let comingBack = false;
    /** When a job handing over should run: the destination's pace says wait this long. */
    let handOverDelayMs = 0;
    /** The last batch's outcome, written to the ledger while the next batch is claimed and sent. */
    const outcome = new PendingOutcome(this.ledger);
    // Renewed while the job runs (as BullMQ renews the job's own lock); it lapses only if this process dies.
    const renew = setInterval(() => void extendDestination(this.redis, keys.lock, owner, this.lockMs).catch(() => undefined), Math.max(100, this.lockMs / 3));
    try {
      if (!trusted) {
        slot = await this.guard.acquire(channel, owner, this.lockMs);
        if (!slot) {
          // Untrusted destinations (new or failing) already hold their share of the workers: wait.
          const ms = Math.round((this.isolation.slotRetryMs ?? 500) * (0.5 + Math.random()));
          // Changes arriving meanwhile join this job instead of starting more jobs that would wait too.
          await holdDestination(this.redis, this.prefix, job, ms);
          await job.moveToDelayed(Date.now() + ms, token);
          comingBack = true;
          throw new DelayedError();
        }
      }
      let sent = 0;
      let sends = 0;
      let batchId: string | undefined;
      let trustNoted = trusted;
      // A backlog drains in this job, batch after batch, while it holds the lock and the pace
      // allows (up to DRAIN_ROUNDS sends): no release, reschedule and pick-up between batches.
      // Changes that arrive meanwhile flag the destination dirty; the job looks again before it lets go.
      /** The rows after the batch being sent, read while it was sent (a backlog's next batch). */
      let ahead: Promise<ClaimedDelivery[]> | undefined;
      for (let looks = 1; ; looks++) {
        const read = await ahead?.catch(() => undefined);
        ahead = undefined;
        // A fresh batch is claimed by the read itself (one statement less per request).
        let claimed: string | undefined;
        let all = read ?? [];
        if (!read?.length) {
          // A read of the ledger sees the last batch's outcome: written before it, or by it when that waited for it.
          const carried = outcome.take();
          await outcome.settle();
          ({ rows: all, claimed } = await this.ledger.takeWaiting(destinationKey, job.opts.attempts ?? 1, carried?.outcome));
          if (carried) outcome.wrote(carried.answered);
        }
        // A batch sent before (a dead worker's, a retry) goes again whole under its id (a receiver
        // deduping on it would drop a second part): rows committed late but stamped earlier may sit
        // among its rows and push some past one read, so a full read is extended (a batch is at most MAX_BATCH).
        if (!read?.length && all.length >= MAX_BATCH && all[0]?.batchId) all = await this.ledger.waiting(destinationKey, 2 * MAX_BATCH);
        const sendable = await this.dropUnsendable(job, all);
        // A batch a dead worker sent without an outcome goes again as it was, under the same id.
        const next = nextBatch(sendable);
        rows = next.rows;
        more = sendable.length > rows.length;
        if (rows.length === 0) {
          await outcome.settle();
          if (looks < 2 * DRAIN_ROUNDS && (await finishDestination(this.redis, keys, owner, this.lockMs, this.forgetAnswered(outcome)))) continue;
          letGo = looks < 2 * DRAIN_ROUNDS; // else released below, and a job takes over
          break;
        }
        const ids = rows.map((r) => r.id);
        batchId = next.batchId;
        const batch = { destinationKey, batchId, ids };
        const answered = answeredKey(deliveryTag(this.prefix, channel), batchId);
        /** A dead worker's request for this batch left (or may have): sending it again counts. */
        let lastLeft = true;
        if (next.resend) {
          // Its worker died with this batch on its way. If the receiver's answer was noted before
          // that, the batch arrived: write the outcome instead of sending it again. If its request
          // was never marked as leaving, the worker died before sending it: it goes now, not again.
          const mark = await this.redis.get(answered).catch(() => LEAVING);
          lastLeft = mark !== null;
          if (mark !== null && mark !== LEAVING) {
            await this.ledger.markSent(batch, mark === '' ? null : mark);
            observeSent(channel, rows);
            void this.redis.del(answered).catch(() => undefined);
            this.logger.info({ destination: destinationKey, batchId, rows: ids.length }, 'batch was answered before its worker died; marked sent, not sent again');
            sent += rows.length;
            continue;
          }
        }
        // The read's claim is this batch whenever nextBatch took every row as a fresh one; else it claimed too much.
        if (claimed !== undefined && (claimed !== batchId || rows.length !== all.length)) {
          await this.ledger.unclaim(claimed);
          claimed = undefined;
        }
        if (claimed === undefined) await this.ledger.claim(batch, lastLeft);
        const first = rows[0]!;
        const secrets = [...new Set(rows.flatMap((r) => r.sub?.secrets ?? []))];
        const legacy = rows.some((r) => (r.sub?.secrets.length ?? 0) === 0);
        // More is (or may be) waiting: read the next batch while this one is on its way: the rows after
        // its last (only this job sends to the destination; what arrives meanwhile comes after them, and
        // flags it dirty). A batch sent again (a retry, a dead worker's) may have gaps: the ledger is read again.
        const reading = (more || rows.length >= MAX_BATCH) && !first.batchId ? this.ledger.waitingAfter(destinationKey, ids[ids.length - 1]!) : undefined;
        reading?.catch(() => undefined); // a failed read is done again when its turn comes
        // Written to Redis's socket just before the request is handed to its own (not waited for):
        // a worker that dies after sending has marked it; one that dies before has not.
        const sender = this.senders[channel];
        const leaving = () => void this.redis.set(answered, LEAVING, 'PX', ANSWERED_MARK_MS).catch(() => undefined);
        if (!sender.marksLeaving) leaving();
        const r = await this.withTimeout(
          sender.send({
            channel,
            address: first.address,
            thread: first.thread,
            batchId,
            messagesJson: rows.map((x) => x.messageJson),
            signing: { secrets, legacy },
            ...(sender.marksLeaving ? { leaving } : {}),
          }),
          channel,
        ).catch(async (err: unknown) => {
          observeSendFailed(channel, rows, err, job.opts.attempts ?? 1);
          await outcome.settle(); // outcomes are written in the order of the sends
          try {
            return await this.failures.decide(job, token, batch, rows, err);
          } catch (decided) {
            // Delayed (Retry-After), rate limited or retried: this job runs again. A dead letter or
            // a gone destination ends it; what else waits goes to a new job (below).
            comingBack = !(decided instanceof UnrecoverableError);
            throw decided;
          }
        });
        observeSent(channel, rows);
        sent += rows.length;
        sends++;
        ahead = reading;
        // The answer is noted in Redis at once (sub-millisecond), then in the ledger: a worker dying
        // between the two does not make the next job send the batch again.
        const noted = { key: answered, value: r.providerMessageId ?? '', ms: ANSWERED_MARK_MS };
        // One destination holds a worker for DRAIN_ROUNDS sends at most: then a new job takes what waits (below).
        const last = sends >= DRAIN_ROUNDS || looks >= 2 * DRAIN_ROUNDS;
        // Else the same script decides the next round: with more known to wait, its token; else only
        // when changes arrived meanwhile (dirty), and then the next read writes this batch's outcome:
        // one statement and one script between two requests. No second look at an empty ledger: a
        // change arriving after this schedules its own job.
        const look = !more && rows.length < MAX_BATCH;
        let step = 0;
        if (last) await this.redis.set(noted.key, noted.value, 'PX', noted.ms).catch(() => undefined);
        else step = await answeredRound(this.redis, keys, noted, look ? 'look' : 'round', this.paces[channel], owner, this.lockMs);
        if (look && !last && step === 0) outcome.defer({ batch, providerMessageId: r.providerMessageId, note: r.note ?? null }, answered);
        else {
          await outcome.settle(); // outcomes are written in the order of the sends
          // Handed to `outcome` at once: a failed write is thrown when it settles, never left unhandled.
          outcome.set(this.ledger.markSent(batch, r.providerMessageId, r.note), answered);
        }
        // Trusted again, breaker closed: once per job (the mark lasts an hour).
        if (!trustNoted) await this.guard.succeeded(channel, destinationKey);
        trustNoted = true;
        if (last) break;
        if (step === IDLE) {
          // Nothing arrived: the outcome is written, then the destination let go (unless changes arrived meanwhile).
          await outcome.settle();
          if (!(await finishDestination(this.redis, keys, owner, this.lockMs, this.forgetAnswered(outcome)))) {
            letGo = true;
            break;
          }
          // The next batch needs a token too, and confirms the lock is still this job's.
          step = await nextRound(this.redis, keys, this.paces[channel], owner, this.lockMs);
        }
        if (step === LOCKED) {
          letGo = true; // the lock expired and another job took it (and was flagged to look)
          break;
        }
        if (step !== 0) {
          handOverDelayMs = step;
          more = true;
          break;
        }
        rows = [];
        more = false;
      }
      await outcome.settle();
      return batchId === undefined ? { sent } : { sent, batchId };
    } finally {
      // Thrown past: a batch whose outcome was not written stays claimed with its answer noted; the next job marks it sent.
      await outcome
        .settle()
        .catch((err: unknown) => this.logger.warn({ destination: destinationKey, err: (err as Error)?.message }, 'outcome of an answered batch not written; the next job writes it'));
      clearInterval(renew);
      if (slot) await this.guard.release(channel, owner);
      const answeredMark = this.forgetAnswered(outcome);
      const dirty = letGo ? false : await releaseDestination(this.redis, keys, owner, answeredMark);
      if (letGo && answeredMark) void this.redis.del(answeredMark).catch(() => undefined);
      if (!comingBack && (dirty || more || rows.length === MAX_BATCH)) {
        // More is waiting, or arrived while this job held the destination: a new job takes it now.
        const messageId = rows[rows.length - 1]?.messageId ?? `t${Date.now().toString(36)}`;
        await this.scheduler.schedule([{ channel, destinationKey, messageId }], { delayMs: handOverDelayMs, force: 'more' });
      }
    }
  }

  /**
   * The "answered" marks whose batches' outcomes are written: the last is returned, for the script
   * the job runs next on the destination to delete (same slot, no round trip of its own); any
   * others (a backlog's batches) are deleted now.
   */
  private forgetAnswered(outcome: PendingOutcome): string | undefined {
    const marks = outcome.takeWritten();
    const last = marks.pop();
    if (marks.length > 0) void this.redis.del(...marks).catch(() => undefined);
    return last;
  }

  /** Rows of deleted, paused or disabled subscriptions, and rows out of attempts, are dead letters without a send. */
  private async dropUnsendable(job: Job<DeliveryJobData>, rows: ClaimedDelivery[]): Promise<ClaimedDelivery[]> {
    const max = job.opts.attempts ?? 1;
    const byReason = new Map<string, string[]>();
    const keep: ClaimedDelivery[] = [];
    for (const r of rows) {
      const state = r.sub?.state ?? 'active';
      const reason =
        state === 'gone'
          ? 'subscription deleted; not sent'
          : state !== 'active'
            ? `subscription ${state}; not sent`
            : (r.attempts ?? 0) >= max
              ? `no attempts left (${r.attempts} of ${max})`
              : undefined;
      if (reason === undefined) keep.push(r);
      else byReason.set(reason, [...(byReason.get(reason) ?? []), r.id]);
    }
    for (const [reason, ids] of byReason) await this.ledger.markDropped(ids, reason);
    observeDropped(job.data.channel, rows.length - keep.length);
    return keep;
  }

  /** The send, or a NetworkError when it takes longer than the send timeout (counted as an attempt). */
  private async withTimeout<T>(p: Promise<T>, channel: DestinationChannel): Promise<T> {
    const ms = this.isolation.sendTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NetworkError(`${channel}: send timed out after ${ms} ms`, channel)), ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
