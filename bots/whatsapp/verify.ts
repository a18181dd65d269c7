/**
 * Cloud API webhook checks: `X-Hub-Signature-256` over the raw bytes of every POST, and the GET
 * verification challenge Meta sends when the webhook URL is saved.
 * {@link https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads}
 * {@link https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests}
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ProtocolAnswer, Verification } from '../../src/core/channel-adapter.ts';

/** The header Meta signs webhook bodies in (lower-cased as the route runner gives headers). */
export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** `sha256=<hex HMAC-SHA256 of the bytes>` with the app secret, as Meta computes it. */
export function hubSignature(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/**
 * Checks the signature over the bytes exactly as sent. Meta escapes non-ASCII as `\uXXXX` in the
 * body it signs, so the body is never parsed and re-serialized before this.
 */
export function verifyHubSignature(appSecret: string, rawBody: Buffer, header: string | undefined): Verification {
  if (!header) return { ok: false, reason: 'X-Hub-Signature-256 is missing' };
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return { ok: false, reason: 'X-Hub-Signature-256 is not sha256=<64 hex>' };
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  const given = Buffer.from(m[1]!, 'hex');
  return timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'X-Hub-Signature-256 does not match the body' };
}

/** GET /whatsapp/webhook: echo `hub.challenge` when `hub.mode=subscribe` and the token matches, else 403. */
export function answerChallenge(url: string, verifyToken: string): ProtocolAnswer {
  const q = new URL(url, 'http://localhost').searchParams;
  const token = q.get('hub.verify_token') ?? '';
  const a = Buffer.from(token);
  const b = Buffer.from(verifyToken);
  const tokenOk = a.length === b.length && timingSafeEqual(a, b);
  const challenge = q.get('hub.challenge');
  if (q.get('hub.mode') !== 'subscribe' || !tokenOk || challenge === null) {
    return {
      status: 403,
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'forbidden', message: 'hub.mode must be subscribe and hub.verify_token must equal WHATSAPP_VERIFY_TOKEN' } }),
    };
  }
  return { status: 200, contentType: 'text/plain', body: challenge };
}
