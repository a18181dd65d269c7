import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_REPLAY_WINDOW_SEC, signWebhook, verifyWebhook } from './sign.ts';

const secret = 'whsec_test_0123456789';
const body = '{"id":"m1","type":"state_update","payload":{"text":"héllo"}}';
const ts = 1_700_000_000;

/** Independent reference: HMAC-SHA256 over "<ts>.<body>", hex. */
const reference = (s: string, b: string, t: number) => createHmac('sha256', s).update(`${t}.${b}`).digest('hex');

describe('signWebhook', () => {
  it('matches an independently computed HMAC-SHA256 of "<timestamp>.<body>"', () => {
    expect(signWebhook(secret, body, ts)).toBe(`v1=${reference(secret, body, ts)}`);
  });

  it('matches a fixed known vector', () => {
    // `echo -n '1.{}' | openssl dgst -sha256 -hmac key`, frozen so the scheme cannot drift.
    expect(signWebhook('key', '{}', 1)).toBe('v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224');
  });

  it('refuses a non-integer timestamp', () => {
    expect(() => signWebhook(secret, body, 1.5)).toThrow(RangeError);
  });
});

describe('verifyWebhook', () => {
  const sig = signWebhook(secret, body, ts);
  const headers = { timestamp: String(ts), signature: sig };

  it('accepts a good signature inside the window', () => {
    expect(verifyWebhook(secret, body, headers, ts)).toEqual({ ok: true });
    expect(verifyWebhook(secret, body, headers, ts + WEBHOOK_REPLAY_WINDOW_SEC)).toEqual({ ok: true });
    expect(verifyWebhook(secret, body, headers, ts - 299)).toEqual({ ok: true });
  });

  it('rejects a tampered body, timestamp, signature or secret', () => {
    expect(verifyWebhook(secret, body.replace('m1', 'm2'), headers, ts)).toMatchObject({ ok: false, reason: 'signature mismatch' });
    expect(verifyWebhook(secret, body, { ...headers, timestamp: String(ts + 1) }, ts)).toMatchObject({ ok: false });
    expect(verifyWebhook(secret, body, { ...headers, signature: `v1=${'0'.repeat(64)}` }, ts)).toMatchObject({ ok: false });
    expect(verifyWebhook(secret, body, { ...headers, signature: 'v1=abc' }, ts)).toMatchObject({ ok: false });
    expect(verifyWebhook('other', body, headers, ts)).toMatchObject({ ok: false });
  });

  it('rejects timestamps outside the replay window, both ways', () => {
    const old = verifyWebhook(secret, body, headers, ts + WEBHOOK_REPLAY_WINDOW_SEC + 1);
    expect(old.ok).toBe(false);
    expect(verifyWebhook(secret, body, headers, ts - 301).ok).toBe(false);
    expect(verifyWebhook(secret, body, headers, ts + 60, 30).ok).toBe(false);
  });

  it('rejects missing or malformed headers with a reason', () => {
    expect(verifyWebhook(secret, body, { signature: sig }, ts)).toEqual({ ok: false, reason: 'missing X-Chitty-Timestamp' });
    expect(verifyWebhook(secret, body, { timestamp: String(ts) }, ts)).toEqual({ ok: false, reason: 'missing X-Chitty-Signature' });
    expect(verifyWebhook(secret, body, { ...headers, timestamp: '17e8' }, ts).ok).toBe(false);
    expect(verifyWebhook(secret, body, { ...headers, signature: reference(secret, body, ts) }, ts).ok).toBe(false); // no v1= prefix
  });

  it('accepts a header carrying several v1= signatures (key rotation)', () => {
    const oldSig = signWebhook('old-secret', body, ts);
    for (const joined of [`${oldSig} ${sig}`, `${sig},${oldSig}`, `${oldSig}, ${sig}`, `v0=dead ${sig}`]) {
      expect(verifyWebhook(secret, body, { ...headers, signature: joined }, ts)).toEqual({ ok: true });
    }
    expect(verifyWebhook('old-secret', body, { ...headers, signature: `${sig} ${oldSig}` }, ts)).toEqual({ ok: true });
    expect(verifyWebhook('third', body, { ...headers, signature: `${sig} ${oldSig}` }, ts).ok).toBe(false);
  });

  it('accepts upper-case hex', () => {
    expect(verifyWebhook(secret, body, { ...headers, signature: `v1=${reference(secret, body, ts).toUpperCase()}` }, ts).ok).toBe(true);
  });
});
