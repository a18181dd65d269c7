/**
 * What the pipeline's one-line hooks call: each observation feeds the metrics (metrics.ts) and,
 * when tracing is on, the spans (tracing.ts) in one go.
 * - the route runner: {@link observeInbound} around a webhook request (ack stage, inbound span);
 * - the fan-out worker: {@link observeFanout} per job (relay and fan-out stages and spans);
 * - the delivery worker: {@link observeSent}, {@link observeSendFailed}, {@link observeDropped}.
 */
import type { Attributes } from '@opentelemetry/api';
import { DestinationNotFoundError, RateLimitedError } from '../core/channel-errors.ts';
import { classifyError } from '../core/chitty-error.ts';
import { countDeliveries, type DeliveryStatus, observeFanoutMetrics, observeStage } from './metrics.ts';
import { inSpan, recordSpan, traceparentInJson, tracingEnabled } from './tracing.ts';

/** What the hooks read of a delivery row (a `ClaimedDelivery`). */
export interface ObservedRow {
  messageId: string;
  /** Sends counted before this one. */
  attempts?: number | null;
  /** When the fan-out wrote the row. */
  createdAt?: Date | null;
  messageJson: string;
}

/** What the fan-out hook reads of its BullMQ job. */
export interface ObservedFanoutJob {
  /** When the relay added the job (epoch ms). */
  timestamp: number;
  attemptsMade: number;
}

/**
 * A webhook request from a platform: its handling runs in an inbound span, and the time from the
 * request's arrival to the acknowledgement is the `ack` stage. `reply.elapsedTime` (Fastify) is
 * that time when given; otherwise it is measured from this call.
 */
export async function observeInbound<T>(route: string, fn: () => Promise<T>, reply?: { readonly elapsedTime: number }): Promise<T> {
  const t0 = performance.now();
  try {
    return await inSpan(`webhook ${route}`, { 'http.route': route }, fn);
  } finally {
    safely(() => observeStage('ack', reply ? reply.elapsedTime : performance.now() - t0));
  }
}

/** A fan-out job is done: relay and fan-out stages per message, and their spans under each message's trace. */
export function observeFanout(job: ObservedFanoutJob, messages: { id: string; metadata: { timestamp: string; traceparent?: string | undefined } }[], deliveries: number): void {
  safely(() => {
    const now = Date.now();
    observeFanoutMetrics(job, messages, now);
    if (!tracingEnabled()) return;
    for (const m of messages) {
      const attrs: Attributes = { 'chitty.message.id': m.id, 'chitty.fanout.batch': messages.length, 'chitty.fanout.deliveries': deliveries };
      if (job.attemptsMade === 0) recordSpan('chitty.relay', m.metadata.traceparent, Date.parse(m.metadata.timestamp), job.timestamp, attrs);
      recordSpan('chitty.fanout', m.metadata.traceparent, job.timestamp, now, attrs);
    }
  });
}

/** Sends before this one (the worker counts a missing count as 0, as here). */
const before = (r: ObservedRow): number => r.attempts ?? 0;
/** When the row was written (epoch ms), or `fallback`. */
const written = (r: ObservedRow, fallback: number): number => r.createdAt?.getTime() ?? fallback;

/** An observation never fails the work it observes: a metrics or tracing error is swallowed. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // metrics are best effort
  }
}

function rowSpans(channel: string, rows: ObservedRow[], status: (r: ObservedRow) => DeliveryStatus, now: number, error?: string): void {
  if (!tracingEnabled()) return;
  for (const r of rows) {
    const s = status(r);
    const attrs: Attributes = {
      'chitty.channel': channel,
      'chitty.message.id': r.messageId,
      'chitty.delivery.status': s,
      'chitty.delivery.attempt': before(r) + 1,
      'chitty.delivery.batch': rows.length,
    };
    recordSpan('chitty.deliver', traceparentInJson(r.messageJson), written(r, now), now, attrs, s === 'sent' ? undefined : error);
  }
}

/** The provider accepted the batch: the rows are sent. */
export function observeSent(channel: string, rows: ObservedRow[]): void {
  safely(() => {
    const now = Date.now();
    for (const r of rows) observeStage('deliver', now - written(r, now));
    countDeliveries(channel, 'sent', rows.length, (i) => before(rows[i]!) + 1);
    rowSpans(channel, rows, () => 'sent', now);
  });
}

/**
 * The send failed: what becomes of each row, decided as the delivery worker decides it
 * (queues/delivery-worker.ts `fail`): a 429 waits (no attempt), a gone destination and a
 * permanent error are dead letters, a retryable error is retried while the row has attempts.
 */
export function observeSendFailed(channel: string, rows: ObservedRow[], err: unknown, maxAttempts: number): void {
  const status = (r: ObservedRow): DeliveryStatus => {
    if (err instanceof RateLimitedError) return 'rate_limited';
    if (err instanceof DestinationNotFoundError || !classifyError(err).retryable) return 'dead';
    return before(r) + 1 >= maxAttempts ? 'dead' : 'failed';
  };
  safely(() => {
    const byStatus = new Map<DeliveryStatus, ObservedRow[]>();
    for (const r of rows) {
      const s = status(r);
      byStatus.set(s, [...(byStatus.get(s) ?? []), r]);
    }
    for (const [s, list] of byStatus) countDeliveries(channel, s, list.length, (i) => before(list[i]!) + 1);
    rowSpans(channel, rows, status, Date.now(), (err as Error)?.message ?? String(err));
  });
}

/** Rows dead-lettered without a send (subscription deleted, paused, disabled, or out of attempts). */
export function observeDropped(channel: string, n: number): void {
  safely(() => countDeliveries(channel, 'dropped', n));
}
