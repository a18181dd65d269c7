/**
 * Slack request signatures (v0): HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` with
 * the app's signing secret, sent as `X-Slack-Signature: v0=<lowercase hex>`; the timestamp must be
 * within five minutes of now. Signed over the raw bytes — never over a decoded body.
 * {@link https://api.slack.com/authentication/verifying-requests-from-slack}
 *
 * Not Bolt's `verifySlackRequest`: it takes the body as a string (the raw bytes re-encoded), only
 * rejects timestamps in the past, and accepts any `Number`-parsable header. The tests check that
 * this verifier agrees with Bolt's on every corpus vector.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InboundRequest, Verification } from '../../src/core/channel-adapter.ts';

/** How far the request timestamp may be from now, either way (Slack: five minutes). */
export const SLACK_SIGNATURE_WINDOW_S = 5 * 60;

/** The signature Slack would send for `body` at `timestamp` (seconds, as the header carries it). */
export function slackSignature(signingSecret: string, timestamp: string, body: Buffer | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(body);
  return `v0=${hmac.digest('hex')}`;
}

/** Headers of a request signed as Slack signs it (tests, the benchmark). */
export function slackSignedHeaders(signingSecret: string, body: Buffer | string, nowMs = Date.now()): Record<string, string> {
  const ts = String(Math.floor(nowMs / 1000));
  return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(signingSecret, ts, body) };
}

export interface VerifyOptions {
  signingSecret: string;
  /** Clock in ms (tests inject one near an old vector's timestamp). */
  now?: () => number;
}

/** Checks a request's Slack signature over its raw bytes. */
export function verifySlackSignature(headers: Record<string, string | undefined>, rawBody: Buffer, opts: VerifyOptions): Verification {
  const ts = headers['x-slack-request-timestamp'];
  const sig = headers['x-slack-signature'];
  if (!ts || !sig) return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'X-Slack-Request-Timestamp is not a number of seconds' };
  const nowS = Math.floor((opts.now ?? Date.now)() / 1000);
  if (Math.abs(nowS - Number(ts)) > SLACK_SIGNATURE_WINDOW_S) return { ok: false, reason: 'X-Slack-Request-Timestamp is more than 5 minutes from now (replayed or clock skew)' };
  if (!/^v0=[0-9a-f]{64}$/.test(sig)) return { ok: false, reason: 'X-Slack-Signature is not v0=<64 lowercase hex>' };
  const expected = Buffer.from(slackSignature(opts.signingSecret, ts, rawBody));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'X-Slack-Signature does not match the body' };
  return { ok: true };
}

/**
 * `ssl_check=1` — Slack's TLS probe of a slash-command URL — is the one request Slack does not
 * sign. Only a form body whose `ssl_check` is exactly `1` counts (bolt-js rules); parse answers it
 * with an empty 200 and drops anything else the body carries.
 */
export function isSslCheck(req: Pick<InboundRequest, 'headers' | 'rawBody'>): boolean {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) return false;
  if (req.rawBody.length > 4096) return false;
  return new URLSearchParams(req.rawBody.toString('utf8')).get('ssl_check') === '1';
}

/** The route's verify step: a valid signature, or the unsigned `ssl_check=1` probe. */
export function verifySlackRequest(req: InboundRequest, opts: VerifyOptions): Verification {
  if (isSslCheck(req)) return { ok: true };
  return verifySlackSignature(req.headers, req.rawBody, opts);
}
