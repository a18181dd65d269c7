/**
 * Sends one signed JSON POST to a generic webhook destination. The body is a SyncMessage, or a
 * digest envelope `{ type: 'digest', count, messages }` when several changes were coalesced;
 * this class does not care which — it serializes once, signs the exact bytes it sends, and turns
 * every failure into a typed {@link ChannelError}.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { ConfigError } from '../../src/core/chitty-error.ts';
import { ChannelError, NetworkError, ServerError, ValidationError, classifyHttpFailure, redactUrl } from '../../src/core/channel-errors.ts';
import { EgressRefusedError, OPEN_EGRESS, checkWebhookUrl, hostAllowed, nonPublicKind, refusedResolution, type EgressPolicy } from '../../src/core/egress-policy.ts';
import { signStandardWebhook, signWebhook, signWebhookV2 } from './sign.ts';

/** Channel name used in errors and subscriptions. */
export const WEBHOOK_CHANNEL = 'webhook';

/** Header names of a delivery (the public interface; receivers read these). */
export const WEBHOOK_HEADERS = {
  timestamp: 'X-Chitty-Timestamp',
  signature: 'X-Chitty-Signature',
  delivery: 'X-Chitty-Delivery',
  userAgent: 'User-Agent',
  contentType: 'Content-Type',
  /** Response header a receiver may set; reported as `providerMessageId`. */
  requestId: 'X-Request-Id',
  /** Standard Webhooks (https://www.standardwebhooks.com/): the delivery id, unix seconds, `v1,<base64>` signatures. */
  standardId: 'webhook-id',
  standardTimestamp: 'webhook-timestamp',
  standardSignature: 'webhook-signature',
} as const;

/**
 * Ports `fetch` refuses to reach (https://fetch.spec.whatwg.org/#port-blocking: SMTP, IRC, …); the
 * sender keeps refusing them now that it uses `request`, which would connect.
 */
const BLOCKED_PORTS = new Set(
  [
    '1 7 9 11 13 15 17 19 20 21 22 23 25 37 42 43 53 69 77 79 87 95 101 102 103 104 109 110 111 113',
    '115 117 119 123 135 137 139 143 161 179 389 427 465 512 513 514 515 526 530 531 532 540 548 554 556 563 587 601 636 989',
    '990 993 995 1719 1720 1723 2049 3659 4045 4190 5060 5061 6000 6566 6665 6666 6667 6668 6669 6679 6697 10080',
  ]
    .join(' ')
    .split(' '),
);

/** `X-Request-Id` as `request` keys it (lowercase). */
const REQUEST_ID = WEBHOOK_HEADERS.requestId.toLowerCase();

/** The secrets a delivery is signed with (several while a rotated one is in its grace period). */
export interface WebhookSigning {
  secrets: readonly string[];
  /** Also sign `v1=` (body only): subscriptions still on the shared `CHITTY_WEBHOOK_SECRET`. */
  v1: boolean;
}

export const WEBHOOK_USER_AGENT = 'ChittyChat-Webhook/1';
export const WEBHOOK_DEFAULT_TIMEOUT_MS = 10_000;
/** Largest body we send, in bytes (matches `WEBHOOK_CAPABILITIES.maxMessageLength`). */
export const WEBHOOK_MAX_BODY_BYTES = 1_000_000;
/** How much of an error response we read (the error message quotes 200 chars of it). */
const RESPONSE_READ_LIMIT = 8 * 1024;

export interface WebhookSenderOptions {
  /** HMAC key (`CHITTY_WEBHOOK_SECRET`). */
  secret: string;
  /** Whole-request timeout, headers and body (default 10 s). */
  timeoutMs?: number;
  userAgent?: string;
  /** Largest serialized body accepted (default {@link WEBHOOK_MAX_BODY_BYTES}). */
  maxBodyBytes?: number;
  /** Clock in ms, for tests (default `Date.now`). */
  now?: () => number;
  /** Which addresses may be reached (default: all — tests; the app passes its configured policy). */
  egress?: EgressPolicy;
}

export interface WebhookSendResult {
  status: number;
  /** The receiver's `X-Request-Id`, if it sent one. */
  providerMessageId: string | null;
  /** Wall time of the request, ms. */
  ms: number;
}

/**
 * Checks a destination URL before anything is sent: http(s) only, no credentials in it.
 * Throws {@link ValidationError}; returns the parsed URL.
 */
export function validateWebhookUrl(url: string, egress: EgressPolicy = OPEN_EGRESS): URL {
  return checkWebhookUrl(url, egress);
}

/**
 * A DNS lookup that refuses names resolving to a non-public address: the connection then goes to
 * the address checked here (no second resolution a rebinding DNS server could answer differently).
 */
export function egressLookup(egress: EgressPolicy): typeof dnsLookup {
  const lookup = (hostname: string, options: object, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!hostAllowed(egress, hostname)) {
        for (const a of addresses) {
          const kind = nonPublicKind(a.address);
          if (kind) return callback(refusedResolution(hostname, a.address, kind), []);
        }
      }
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
  return lookup as unknown as typeof dnsLookup;
}

/** A body that is already JSON text (e.g. messages read as text from the database): sent as is. */
export class RawJson {
  constructor(readonly json: string) {}
}

/**
 * Posts signed JSON to webhook destinations with undici's `request` on its own keep-alive `Agent`
 * (not `fetch`: its Request/Response objects and web streams cost more CPU than the delivery).
 */
export class WebhookSender {
  readonly #secret: string;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #maxBodyBytes: number;
  readonly #now: () => number;
  readonly #egress: EgressPolicy;
  readonly #agent: Agent;

  constructor(opts: WebhookSenderOptions) {
    if (opts.secret === '') throw new ConfigError('WebhookSender needs a secret: set CHITTY_WEBHOOK_SECRET');
    this.#secret = opts.secret;
    this.#timeoutMs = opts.timeoutMs ?? WEBHOOK_DEFAULT_TIMEOUT_MS;
    this.#userAgent = opts.userAgent ?? WEBHOOK_USER_AGENT;
    this.#maxBodyBytes = opts.maxBodyBytes ?? WEBHOOK_MAX_BODY_BYTES;
    this.#now = opts.now ?? Date.now;
    this.#egress = opts.egress ?? OPEN_EGRESS;
    this.#agent = new Agent({ connect: { lookup: egressLookup(this.#egress) } });
  }

  /** Close the connection pool. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /**
   * POSTs `body` to `url`, signed, with `X-Chitty-Delivery: deliveryId`. `body` is serialized to
   * JSON once, or sent as it is when it is already JSON text ({@link RawJson}).
   * Resolves on 2xx; otherwise throws the classified {@link ChannelError} (see `classifyHttpFailure`);
   * connection failures and timeouts throw {@link NetworkError}. `beforeRequest` is called just
   * before the request is handed to the connection (after validation, serialization and signing).
   */
  async send(url: string, body: unknown, deliveryId: string, signing: WebhookSigning = { secrets: [this.#secret], v1: true }, beforeRequest?: () => void): Promise<WebhookSendResult> {
    const target = validateWebhookUrl(url, this.#egress);
    if (deliveryId === '' || deliveryId.length > 200 || !/^[\x21-\x7e]+$/.test(deliveryId)) {
      throw new ValidationError(`${WEBHOOK_CHANNEL}: delivery id must be 1-200 printable ASCII characters without spaces`, WEBHOOK_CHANNEL);
    }
    let raw: string | undefined;
    try {
      raw = body instanceof RawJson ? body.json : JSON.stringify(body);
    } catch (cause) {
      throw new ValidationError(`${WEBHOOK_CHANNEL}: body cannot be serialized to JSON`, WEBHOOK_CHANNEL, { cause });
    }
    if (raw === undefined) throw new ValidationError(`${WEBHOOK_CHANNEL}: body serializes to nothing`, WEBHOOK_CHANNEL);
    const bytes = Buffer.byteLength(raw, 'utf8');
    if (bytes > this.#maxBodyBytes) {
      throw new ValidationError(`${WEBHOOK_CHANNEL}: body is ${bytes} bytes, over the ${this.#maxBodyBytes}-byte limit; split the digest`, WEBHOOK_CHANNEL);
    }

    const timestamp = Math.floor(this.#now() / 1000);
    const headers: Record<string, string> = {
      [WEBHOOK_HEADERS.contentType]: 'application/json',
      [WEBHOOK_HEADERS.userAgent]: this.#userAgent,
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: [
        ...signing.secrets.map((k) => signWebhookV2(k, deliveryId, raw, timestamp)),
        ...(signing.v1 ? signing.secrets.map((k) => signWebhook(k, raw, timestamp)) : []),
      ].join(' '),
      [WEBHOOK_HEADERS.delivery]: deliveryId,
      [WEBHOOK_HEADERS.standardId]: deliveryId,
      [WEBHOOK_HEADERS.standardTimestamp]: String(timestamp),
      [WEBHOOK_HEADERS.standardSignature]: signing.secrets.map((k) => signStandardWebhook(k, deliveryId, timestamp, raw)).join(' '),
    };

    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    const where = `POST ${redactUrl(url)}`;
    // Whole-request timeout, headers and body: aborting after the headers destroys the body stream.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), this.#timeoutMs);
    timer.unref();
    try {
      let res: Dispatcher.ResponseData;
      try {
        if (BLOCKED_PORTS.has(target.port)) throw new Error(`bad port ${target.port}`);
        // `request` follows no redirects: a 3xx is reported (classified as ValidationError) instead.
        beforeRequest?.();
        res = await this.#agent.request({ origin: target.origin, path: target.pathname + target.search, method: 'POST', headers, body: raw, signal: abort.signal });
      } catch (cause) {
        throw this.#networkError(cause, where, url, elapsed());
      }
      const status = res.statusCode;

      if (status >= 200 && status < 300) {
        try {
          // Read (a little of) the body so the keep-alive connection is reused.
          await readCapped(res.body, RESPONSE_READ_LIMIT, false);
        } catch (cause) {
          throw this.#networkError(cause, where, url, elapsed());
        }
        return { status, providerMessageId: headerText(res.headers, REQUEST_ID), ms: elapsed() };
      }

      let bodyText = '';
      try {
        bodyText = await readCapped(res.body, RESPONSE_READ_LIMIT, true);
      } catch {
        // The status is what matters; a body we could not read is left out of the message.
      }
      if (status === 404) {
        // A receiver's 404 is usually a route missing for a while (a deploy, a typo being fixed), not
        // "unsubscribe me": retried with backoff, then a dead letter. 410 Gone is how a receiver says
        // it is gone for good (it disables the subscription), as in Standard Webhooks receivers.
        throw new ServerError(
          `${WEBHOOK_CHANNEL}: endpoint not found (HTTP 404 from POST ${redactUrl(url)}); retried with backoff — a receiver that wants no more deliveries answers 410 Gone`,
          WEBHOOK_CHANNEL,
          { status: 404, method: 'POST', url },
        );
      }
      throw classifyHttpFailure(WEBHOOK_CHANNEL, { status, headers: res.headers, method: 'POST', url, bodyText });
    } finally {
      clearTimeout(timer);
    }
  }

  #networkError(cause: unknown, where: string, url: string, ms: number): ChannelError {
    if (cause instanceof ChannelError) return cause;
    // Refused by the egress policy at connect time: permanent, and no response was read.
    for (let c: unknown = cause, i = 0; c instanceof Error && i < 5; c = (c as { cause?: unknown }).cause, i++) {
      if (c instanceof EgressRefusedError) return c;
    }
    const name = cause instanceof Error ? cause.name : '';
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    const detail = timedOut ? `timed out after ${this.#timeoutMs} ms` : `request failed: ${describeCause(cause)}`;
    return new NetworkError(`${WEBHOOK_CHANNEL}: ${where} ${detail} (${ms} ms)`, WEBHOOK_CHANNEL, { cause, method: 'POST', url });
  }
}

/** The underlying reason, with its code: `fetch`-style errors hide it in `cause`, socket errors carry a code (UND_ERR_SOCKET…). */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = (cause as { cause?: unknown }).cause;
  if (inner instanceof Error) return `${cause.message}: ${withCode(inner)}`;
  return withCode(cause);
}

function withCode(err: Error): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
}

/** One response header as text; repeated headers are joined with ", " as `Headers.get` does. */
function headerText(headers: Dispatcher.ResponseData['headers'], name: string): string | null {
  const v = headers[name];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * Reads at most `limit` bytes of the body, then destroys the rest (that connection is closed; a body
 * read to its end leaves it for the next request). Returns the bytes read as UTF-8 when `keep`.
 * Rejects when the body fails before that (cut off, or the request's timeout fired).
 */
function readCapped(body: Readable, limit: number, keep: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      resolve(keep ? Buffer.concat(chunks).subarray(0, limit).toString('utf8') : '');
    };
    body.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
    body.on('end', finish);
    body.on('data', (chunk: Buffer) => {
      if (keep) chunks.push(chunk);
      size += chunk.byteLength;
      if (size >= limit && !settled) {
        finish();
        body.destroy();
      }
    });
  });
}
