/**
 * The channel-adapter contract every `bots/<channel>/` folder implements, written once (STYLE.md
 * rule 1; Chat SDK `Adapter`). A channel has the same parts everywhere, so any channel's code is
 * found in a minute:
 * - `verify.ts`  — the platform's signature over the raw bytes (never re-serialized JSON);
 * - `parse.ts`   — platform payload → the core's `InboundMessage`, or "ignore" with a reason, or a
 *                  protocol answer (Slack url_verification, Discord PING);
 * - `send.ts`    — a `DeliverySender` for the pipeline: neutral reply → renderer → platform API,
 *                  platform errors mapped onto `channel-errors.ts`;
 * - `index.ts`   — the adapter: capabilities, routes it mounts, start/stop of long-lived clients.
 * Optional abilities (editing, reactions) are optional members; a channel that cannot do one throws
 * `NotImplementedError` instead of doing nothing.
 */
import type { DeliverySender } from '../../queues/senders.ts';
import type { CoreResult } from './conversation-core.ts';
import type { InboundMessage } from './inbound.ts';
import type { ChannelCapabilities } from './reply.ts';
import type { DestinationChannel } from './subscription-store.ts';

/** One HTTP request as the platform sent it: the raw bytes and lower-cased headers. */
export interface InboundRequest {
  method: string;
  /** Path and query as received (e.g. `/slack/events`). */
  url: string;
  /** The URL the platform called, as it saw it (scheme, host, path, query) — Twilio signs it. */
  publicUrl: string;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  receivedAt: Date;
}

/**
 * A signature check's outcome. A refusal is answered 401 unless the route names another status
 * (Twilio's convention is 403 for a bad `X-Twilio-Signature`).
 */
export type Verification = { ok: true } | { ok: false; reason: string; status?: 401 | 403 };

/** Why a request that verified carries nothing to run. */
export type IgnoreReason = 'own_echo' | 'bot_message' | 'edit' | 'duplicate_event' | 'unsupported' | 'empty' | 'status';

/** What the platform should get back at once for a request that is not a person's message. */
export interface ProtocolAnswer {
  status: number;
  body: string;
  contentType: string;
  /** More response headers (Retry-After, Location for a redirect, Set-Cookie). */
  headers?: Record<string, string>;
}

/** A request parsed: a message to run, something to ignore, or a protocol answer. */
export type Parsed<R> = { kind: 'message'; message: InboundMessage; respond: R } | { kind: 'ignore'; reason: IgnoreReason; detail?: string } | { kind: 'protocol'; answer: ProtocolAnswer };

/**
 * A route behind the API token (the same bearer token as /api/v1) that a channel serves at its own
 * path, e.g. WhatsApp Web's login QR at `/whatsapp/qr`.
 */
export interface TokenRoute {
  method: 'GET';
  url: string;
  summary: string;
  handle(query: Record<string, string | undefined>): Promise<ProtocolAnswer> | ProtocolAnswer;
}

/**
 * One webhook route of a channel. The gateway's route runner does the rest the same way for every
 * channel: raw body → verify (401, or the status the refusal names) → parse (400) → record in the inbound log → acknowledge —
 * with the answer inline when the core answers within `ackWithinMs`, else with `deferred` and the
 * answer sent later through `late` (never holding the ack on a platform API call).
 */
export interface WebhookRoute<R> {
  method: 'POST' | 'GET';
  url: string;
  /** How long the platform waits for an answer (Slack 3 s, Discord 3 s); we answer well within. */
  ackWithinMs: number;
  verify(req: InboundRequest): Verification | Promise<Verification>;
  /**
   * May be async for a route whose requests are not people's messages and are handled at once
   * (Twilio status callbacks: the ledger is updated, then a protocol answer is returned).
   */
  parse(req: InboundRequest): Parsed<R> | Promise<Parsed<R>>;
  /** The answer inside the HTTP response (Slack ephemeral blocks, Discord type 4, empty TwiML). */
  inline(result: CoreResult, respond: R): ProtocolAnswer;
  /** The immediate acknowledgement when the answer is not ready in time (or goes out by API). */
  deferred(respond: R): ProtocolAnswer;
  /** Send the answer after the acknowledgement (response_url, follow-up webhook, REST send). */
  late(result: CoreResult, respond: R): Promise<void>;
  /** True when this request's answer always goes out through `late` (events, SMS), never inline. */
  alwaysLate?: (respond: R) => boolean;
}

/** What a channel tells `/health` and the start banner. */
export interface ChannelStatus {
  channel: DestinationChannel;
  on: boolean;
  /** Routes mounted, clients connected, mode… */
  detail: Record<string, unknown>;
}

/** A configured channel's status: on, the routes it mounted (`POST /slack/events`…) and `detail`. */
export function runningStatus(adapter: Pick<ChannelAdapter, 'channel' | 'routes'>, detail: Record<string, unknown> = {}): ChannelStatus {
  return { channel: adapter.channel, on: true, detail: { routes: adapter.routes.map((r) => `${r.method} ${r.url}`), ...detail } };
}

/** A channel, wired: what the gateway mounts, starts and hands to the pipeline. */
export interface ChannelAdapter {
  readonly channel: DestinationChannel;
  readonly capabilities: ChannelCapabilities;
  /** Webhook routes (web processes). */
  // biome-ignore lint/suspicious/noExplicitAny: each route carries its own respond context type
  readonly routes: WebhookRoute<any>[];
  /** Fan-out side (worker processes). */
  readonly sender: DeliverySender;
  /** Routes behind the API token (web processes), mounted at their own paths. */
  readonly tokenRoutes?: TokenRoute[];
  /** Long-lived connections (a gateway WebSocket, a WhatsApp Web session), web processes only. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  status(): ChannelStatus;
}
