/**
 * Every Slack signature vector of ../shared/corpus/slack with an injected clock at its timestamp:
 * valid ones verify, every negative case is rejected, and Bolt's own `isValidSlackRequest` agrees.
 */
import { isValidSlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { readSlackCorpus, SLACK_CORPUS_ABSENT, slackCorpusPresent } from '../../test/support/slack.ts';
import { slackSignature, verifySlackRequest, verifySlackSignature } from './verify.ts';

const vectors = readSlackCorpus().filter((f) => f.kind === 'signature_vector');

describe.skipIf(!slackCorpusPresent())(`Slack signature vectors${slackCorpusPresent() ? '' : ` — ${SLACK_CORPUS_ABSENT}`}`, () => {
  it('finds the vectors', () => expect(vectors.length).toBeGreaterThanOrEqual(5));
  for (const v of vectors) {
    const ts = Number(v.headers!['x-slack-request-timestamp']);
    const at = (s: number) => () => s * 1000;
    it(`${v.name}: verifies at its own time, not 6 minutes later or earlier`, () => {
      const raw = Buffer.from(v.raw_body, 'utf8');
      expect(verifySlackSignature(v.headers!, raw, { signingSecret: v.signing_secret!, now: at(ts) })).toEqual({ ok: true });
      expect(verifySlackSignature(v.headers!, raw, { signingSecret: v.signing_secret!, now: at(ts + 299) })).toEqual({ ok: true });
      expect(verifySlackSignature(v.headers!, raw, { signingSecret: v.signing_secret!, now: at(ts + 360) }).ok).toBe(false);
      expect(verifySlackSignature(v.headers!, raw, { signingSecret: v.signing_secret!, now: at(ts - 360) }).ok).toBe(false);
      expect(
        isValidSlackRequest({
          signingSecret: v.signing_secret!,
          body: v.raw_body,
          headers: { 'x-slack-signature': v.headers!['x-slack-signature']!, 'x-slack-request-timestamp': ts },
          nowMilliseconds: ts * 1000,
        }),
      ).toBe(true);
    });
    for (const [i, n] of (v.negative_cases ?? []).entries()) {
      it(`${v.name}: negative ${i + 1} rejected (${n.description ?? ''})`, () => {
        const headers = { ...v.headers!, ...n.headers };
        const body = n.raw_body ?? v.raw_body;
        const secret = n.signing_secret ?? v.signing_secret!;
        expect(verifySlackSignature(headers, Buffer.from(body, 'utf8'), { signingSecret: secret, now: at(ts) }).ok).toBe(false);
      });
    }
  }
});

describe('verifySlackSignature', () => {
  const secret = 'unit-secret';
  const body = Buffer.from('token=x&command=%2Ftodo&text=list');
  const now = 1_800_000_000;
  const headers = (sig: string, t = String(now)) => ({ 'x-slack-request-timestamp': t, 'x-slack-signature': sig });
  it('accepts its own signature over the raw bytes and rejects a one-byte change', () => {
    const sig = slackSignature(secret, String(now), body);
    expect(verifySlackSignature(headers(sig), body, { signingSecret: secret, now: () => now * 1000 }).ok).toBe(true);
    expect(verifySlackSignature(headers(sig), Buffer.from('token=x&command=%2Ftodo&text=lisT'), { signingSecret: secret, now: () => now * 1000 }).ok).toBe(false);
  });
  it('rejects missing headers, a non-numeric timestamp, another version, upper-case hex', () => {
    const sig = slackSignature(secret, String(now), body);
    const opts = { signingSecret: secret, now: () => now * 1000 };
    expect(verifySlackSignature({}, body, opts).ok).toBe(false);
    expect(verifySlackSignature(headers(sig, 'Hello there!'), body, opts).ok).toBe(false);
    expect(verifySlackSignature(headers(sig.replace('v0=', 'v1=')), body, opts).ok).toBe(false);
    expect(verifySlackSignature(headers(sig.toUpperCase().replace('V0=', 'v0=')), body, opts).ok).toBe(false);
  });
});

describe.skipIf(!slackCorpusPresent())('ssl_check: the one unsigned request', () => {
  const file = readSlackCorpus().find((f) => f.kind === 'ssl_check');
  const req = (raw: string, type: string) => ({
    method: 'POST',
    url: '/slack/events',
    publicUrl: 'https://x/slack/events',
    headers: { 'content-type': type },
    rawBody: Buffer.from(raw),
    receivedAt: new Date(),
  });
  it('ssl_check=1 passes unsigned', () => {
    expect(verifySlackRequest(req(file!.raw_body, 'application/x-www-form-urlencoded'), { signingSecret: 's' }).ok).toBe(true);
  });
  for (const n of file?.negative_cases ?? []) {
    const smuggled = n.raw_body!.startsWith('ssl_check=1&');
    it(`${n.raw_body}: ${smuggled ? 'an ssl_check whose extra fields are dropped by parse' : 'needs a signature'}`, () => {
      expect(verifySlackRequest(req(n.raw_body!, n.content_type ?? 'application/x-www-form-urlencoded'), { signingSecret: 's' }).ok).toBe(smuggled);
    });
  }
});
