/**
 * Queue names, Redis key names and the per-channel delivery policy. The configured prefix is a
 * Redis Cluster hash tag (`{chitty}`); each queue gets a tag of its own derived from it
 * (`{chitty:fanout}`, `{chitty:deliver-webhook}`, see {@link queueTag}). A queue's BullMQ keys and
 * every key a script checks together with them share that tag, so each queue sits in one slot
 * (BullMQ's multi-key scripts work) and different queues spread over a cluster's nodes.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../src/core/chitty-error.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';

export const FANOUT_QUEUE = 'fanout';
export const deliveryQueueName = (channel: DestinationChannel): string => `deliver-${channel}`;

/**
 * The hash tag of one queue, derived from the configured prefix: `{chitty}` + `fanout` →
 * `{chitty:fanout}`. It is the queue's BullMQ `prefix`, so its keys are `{chitty:fanout}:fanout:…`.
 * A prefix that is not a tag (tests) becomes one: `bench` + `fanout` → `{bench:fanout}`.
 */
export function queueTag(prefix: string, queue: string): string {
  const inner = /^\{(.+)\}$/.exec(prefix)?.[1] ?? prefix;
  return `{${inner}:${queue}}`;
}

/**
 * The tag of a channel's delivery queue. The per-destination keys below (pending, lock, bucket,
 * and the token bucket's "not before" holds) take it as their first argument: one Lua script
 * checks a destination's keys together with its channel's platform-wide hold.
 */
export const deliveryTag = (prefix: string, channel: DestinationChannel): string => queueTag(prefix, deliveryQueueName(channel));

/** A destination (channel + address + thread) as a short, colon-free key. */
export function destinationKey(channel: string, address: string, thread?: string | null): string {
  return createHash('sha256')
    .update(`${channel}\n${address}\n${thread ?? ''}`)
    .digest('hex')
    .slice(0, 24);
}

/** Redis key: "a delivery job for this destination is already waiting" (`tag`: {@link deliveryTag}). */
export const pendingKey = (tag: string, dest: string): string => `${tag}:pending:${dest}`;
/** Redis key: the job working on this destination right now (`tag`: {@link deliveryTag}). */
export const lockKey = (tag: string, dest: string): string => `${tag}:lock:${dest}`;
/**
 * Redis key: "changes arrived while a job held this destination": the holder looks again before
 * it lets go, instead of a second job waiting for the lock (`tag`: {@link deliveryTag}).
 */
export const dirtyKey = (tag: string, dest: string): string => `${tag}:dirty:${dest}`;
/**
 * Redis key: what became of this batch's request. {@link LEAVING} is written (not awaited) just
 * before the request is handed to its socket, so it reaches Redis first; the receiver's answer
 * (its provider id, or '') replaces it the moment it arrives; the key is dropped once the ledger
 * says `sent`. A job that finds the batch claimed but without an outcome (its worker died in
 * between) reads it: answered, it writes the outcome instead of sending again; leaving, it sends
 * again; absent, the request never left, and it sends without counting a second send (`sends`).
 */
export const answeredKey = (tag: string, batchId: string): string => `${tag}:answered:${batchId}`;
/** The value of {@link answeredKey} while the request is out and not answered (no provider id looks like it). */
export const LEAVING = '\u0000leaving';
/** Redis key: the destination's token bucket (`tag`: {@link deliveryTag}). */
export const bucketKey = (tag: string, dest: string): string => `${tag}:bucket:${dest}`;
/** Redis pub/sub channel carrying every committed SyncMessage to every web process (the configured prefix). */
export const changesChannel = (prefix: string): string => `${prefix}:changes`;

/** Per-destination pace: `max` messages per `perMs`, bursts up to `max`. */
export interface Pace {
  max: number;
  perMs: number;
}

/**
 * Default pace per destination, from each platform's published limits: Slack ~1 message/s per
 * channel (https://api.slack.com/apis/rate-limits#posting-messages), Discord 5 per 5 s per
 * channel, Twilio long codes ~1 SMS/s per sending number (for SMS this pace is the sending
 * number's: the SMS sender's `paceKey` gives all its destinations one bucket), WhatsApp and email conservative, and
 * webhooks generous (the receiver is ours or a customer's service).
 */
export const DEFAULT_PACE: Record<DestinationChannel, Pace> = {
  slack: { max: 1, perMs: 1000 },
  discord: { max: 5, perMs: 5000 },
  sms: { max: 1, perMs: 1000 },
  whatsapp: { max: 1, perMs: 1000 },
  email: { max: 2, perMs: 1000 },
  webhook: { max: 50, perMs: 1000 },
};

/**
 * Requests per second a whole platform takes from this gateway (BullMQ's worker limiter on the
 * channel's queue; a platform-wide 429 also pauses it): Discord's global 50 requests/s
 * (https://discord.com/developers/docs/topics/rate-limits#global-rate-limit), Slack's
 * chat.postMessage bursts, Twilio's default account throughput, conservative WhatsApp Web.
 */
export const PLATFORM_LIMIT: Record<DestinationChannel, Pace> = {
  slack: { max: 50, perMs: 1000 },
  discord: { max: 50, perMs: 1000 },
  sms: { max: 100, perMs: 1000 },
  whatsapp: { max: 10, perMs: 1000 },
  email: { max: 50, perMs: 1000 },
  webhook: { max: 2000, perMs: 1000 },
};

/** Parse `slack=1/1000,webhook=100/1000` (max per milliseconds) over the defaults. */
export function parsePaces(raw: string | undefined): Record<DestinationChannel, Pace> {
  const out = { ...DEFAULT_PACE };
  for (const part of (raw ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)\/(\d+)$/.exec(part);
    if (!m || !(m[1]! in out)) throw new ConfigError(`CHITTY_RATE_LIMITS: "${part}" is not <channel>=<max>/<milliseconds> with channel one of ${Object.keys(out).join(', ')}.`);
    out[m[1] as DestinationChannel] = { max: Math.max(1, Number(m[2])), perMs: Math.max(1, Number(m[3])) };
  }
  return out;
}

/**
 * Default coalescing window per channel (ms): people get one digest per second at most per
 * conversation. Machines (webhooks) get each change at once: changes that arrive while a request
 * to the destination is on its way, or while it waits for its token, go together in the next one,
 * so they are batched under load and never held back when the destination is idle.
 */
export const DEFAULT_WINDOW_MS: Record<DestinationChannel, number> = { slack: 1000, discord: 1000, sms: 1000, whatsapp: 1000, email: 1000, webhook: 0 };

export function windowsFor(all: number | undefined, webhook: number | undefined): Record<DestinationChannel, number> {
  const out = { ...DEFAULT_WINDOW_MS };
  if (all !== undefined) for (const k of Object.keys(out) as DestinationChannel[]) out[k] = all;
  if (webhook !== undefined) out.webhook = webhook;
  return out;
}
