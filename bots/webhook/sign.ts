/**
 * HMAC-SHA256 signing of generic webhook deliveries. Public interface — keep exactly:
 * `X-Chitty-Timestamp: <unix seconds>` and
 * `X-Chitty-Signature: v2=<hex HMAC-SHA256 of "<timestamp>.<X-Chitty-Delivery>.<raw body>">` (the
 * delivery id is signed, so a captured request cannot be replayed under another id);
 * `v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` is added only for subscriptions still on the
 * shared `CHITTY_WEBHOOK_SECRET`. Also the Standard Webhooks headers
 * (https://www.standardwebhooks.com/, `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Largest |now − timestamp| a receiver accepts, in seconds (replay window). */
export const WEBHOOK_REPLAY_WINDOW_SEC = 300;
/** The signature scheme prefix. */
export const WEBHOOK_SIGNATURE_VERSION = 'v1';

function hmacHex(secret: string, body: string, timestampSec: number | string): string {
  return createHmac('sha256', secret).update(`${timestampSec}.${body}`, 'utf8').digest('hex');
}

/** Signs `"<timestampSec>.<body>"`; returns the `X-Chitty-Signature` value `v1=<hex>`. */
export function signWebhook(secret: string, body: string, timestampSec: number): string {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) throw new RangeError(`webhook timestamp must be whole unix seconds, got ${timestampSec}`);
  return `${WEBHOOK_SIGNATURE_VERSION}=${hmacHex(secret, body, timestampSec)}`;
}

/** `X-Chitty-Signature` value `v2=<hex>` over `"<timestampSec>.<deliveryId>.<body>"`. */
export function signWebhookV2(secret: string, deliveryId: string, body: string, timestampSec: number): string {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) throw new RangeError(`webhook timestamp must be whole unix seconds, got ${timestampSec}`);
  return `v2=${hmacHex(secret, `${deliveryId}.${body}`, timestampSec)}`;
}

/** Prefix of a generated per-subscription secret (Standard Webhooks: base64 key after it). */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * The Standard Webhooks HMAC key of a secret: the base64 after `whsec_` (generated secrets), or
 * the UTF-8 bytes of any other string (a shared `CHITTY_WEBHOOK_SECRET`; receivers pass it to the
 * library as `new Webhook(secret, { format: 'raw' })`).
 */
export function standardWebhookKey(secret: string): Buffer {
  return secret.startsWith(WEBHOOK_SECRET_PREFIX) ? Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** A `webhook-signature` entry: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function signStandardWebhook(secret: string, id: string, timestampSec: number, body: string): string {
  return `v1,${createHmac('sha256', standardWebhookKey(secret)).update(`${id}.${timestampSec}.${body}`, 'utf8').digest('base64')}`;
}

/** The signature-related request headers, already read (either may be missing). */
export interface WebhookSignatureHeaders {
  timestamp?: string | undefined;
  signature?: string | undefined;
  /** `X-Chitty-Delivery`: when given, a `v2=` signature over it is required. */
  delivery?: string | undefined;
}

export type WebhookVerification = { ok: true } | { ok: false; reason: string };

/**
 * Verifies a delivery: the timestamp is within ±`toleranceSec` of `nowSec`, and one of the `v2=`
 * values (when `headers.delivery` is given; `v1=` otherwise) in the signature header (space/comma
 * separated, for key rotation) matches, compared in constant time.
 */
export function verifyWebhook(secret: string, rawBody: string, headers: WebhookSignatureHeaders, nowSec: number, toleranceSec: number = WEBHOOK_REPLAY_WINDOW_SEC): WebhookVerification {
  const ts = headers.timestamp?.trim();
  if (ts === undefined || ts === '') return { ok: false, reason: 'missing X-Chitty-Timestamp' };
  if (!/^\d{1,15}$/.test(ts)) return { ok: false, reason: 'X-Chitty-Timestamp is not unix seconds' };
  if (Math.abs(nowSec - Number(ts)) > toleranceSec) return { ok: false, reason: `timestamp outside the ${toleranceSec} s window` };

  const sig = headers.signature?.trim();
  if (sig === undefined || sig === '') return { ok: false, reason: 'missing X-Chitty-Signature' };
  const v2 = headers.delivery !== undefined;
  const prefix = v2 ? 'v2=' : `${WEBHOOK_SIGNATURE_VERSION}=`;
  const candidates = sig
    .split(/[\s,]+/)
    .filter((p) => p.startsWith(prefix))
    .map((p) => p.slice(prefix.length));
  if (candidates.length === 0) return { ok: false, reason: `no ${prefix} signature in X-Chitty-Signature` };

  const expected = Buffer.from(hmacHex(secret, v2 ? `${headers.delivery}.${rawBody}` : rawBody, ts), 'utf8');
  let match = false;
  for (const c of candidates) {
    const got = Buffer.from(c.toLowerCase(), 'utf8');
    // timingSafeEqual needs equal lengths; a length mismatch leaks only the (public) length.
    if (got.length === expected.length && timingSafeEqual(got, expected)) match = true;
  }
  return match ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}
