/**
 * HMAC-SHA256 signing of generic webhook deliveries. Public interface — keep exactly:
 * `X-Chitty-Timestamp: <unix seconds>` and `X-Chitty-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`.
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

/** The signature-related request headers, already read (either may be missing). */
export interface WebhookSignatureHeaders {
  timestamp?: string | undefined;
  signature?: string | undefined;
}

export type WebhookVerification = { ok: true } | { ok: false; reason: string };

/**
 * Verifies a delivery: the timestamp is within ±`toleranceSec` of `nowSec`, and one of the `v1=`
 * values in the signature header (space/comma separated, for key rotation) matches, compared in
 * constant time.
 */
export function verifyWebhook(
  secret: string,
  rawBody: string,
  headers: WebhookSignatureHeaders,
  nowSec: number,
  toleranceSec: number = WEBHOOK_REPLAY_WINDOW_SEC,
): WebhookVerification {
  const ts = headers.timestamp?.trim();
  if (ts === undefined || ts === '') return { ok: false, reason: 'missing X-Chitty-Timestamp' };
  if (!/^\d{1,15}$/.test(ts)) return { ok: false, reason: 'X-Chitty-Timestamp is not unix seconds' };
  if (Math.abs(nowSec - Number(ts)) > toleranceSec) return { ok: false, reason: `timestamp outside the ${toleranceSec} s window` };

  const sig = headers.signature?.trim();
  if (sig === undefined || sig === '') return { ok: false, reason: 'missing X-Chitty-Signature' };
  const prefix = `${WEBHOOK_SIGNATURE_VERSION}=`;
  const candidates = sig.split(/[\s,]+/).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  if (candidates.length === 0) return { ok: false, reason: 'no v1= signature in X-Chitty-Signature' };

  const expected = Buffer.from(hmacHex(secret, rawBody, ts), 'utf8');
  let match = false;
  for (const c of candidates) {
    const got = Buffer.from(c.toLowerCase(), 'utf8');
    // timingSafeEqual needs equal lengths; a length mismatch leaks only the (public) length.
    if (got.length === expected.length && timingSafeEqual(got, expected)) match = true;
  }
  return match ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}
