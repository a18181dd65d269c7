import { describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { hasCorpus, readCorpus } from './corpus.ts';
import { parseForm, verifyTwilioSignature } from './verify.ts';

interface SignatureVector {
  id: string;
  kind: string;
  auth_token: string;
  url: string;
  params: Record<string, string | string[] | null> | null;
  body?: string;
  signature: string;
  expected_valid: boolean;
}

/** The form body Twilio would have sent for the vector's parameters (null is an empty value). */
function formBody(params: SignatureVector['params']): string {
  const f = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) for (const x of Array.isArray(v) ? v : [v ?? '']) f.append(k, x);
  return f.toString();
}

const FILE = 'signatures.json';
describe.skipIf(!hasCorpus(FILE))(`X-Twilio-Signature vectors from ../shared/corpus/sms/${FILE} (skipped when the corpus is absent)`, () => {
  const vectors = hasCorpus(FILE) ? readCorpus<{ vectors: SignatureVector[] }>(FILE).vectors : [];

  it('holds the 47 vectors: 39 valid, 8 must-fail', () => {
    expect(vectors).toHaveLength(47);
    expect(vectors.filter((v) => v.expected_valid)).toHaveLength(39);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('%s', (_id, v) => {
    const raw = v.kind === 'form-params' ? formBody(v.params) : (v.body ?? '');
    const r = verifyTwilioSignature(v.auth_token, v.url, { 'x-twilio-signature': v.signature }, raw);
    expect(r.ok).toBe(v.expected_valid);
    if (!r.ok) expect(r.status).toBe(403);
  });
});

describe('verifyTwilioSignature', () => {
  const token = 'test-auth-token';
  const url = 'https://chat.example.com/twilio/sms';
  const params = { MessageSid: 'SM0123', From: '+15550001111', To: '+15550009999', Body: 'add Buy milk' };
  const body = new URLSearchParams(params).toString();
  const sig = twilio.getExpectedTwilioSignature(token, url, params);

  it('accepts what the SDK signs, and refuses a missing or wrong signature with 403', () => {
    expect(verifyTwilioSignature(token, url, { 'x-twilio-signature': sig }, body)).toEqual({ ok: true });
    expect(verifyTwilioSignature(token, url, {}, body)).toMatchObject({ ok: false, status: 403 });
    expect(verifyTwilioSignature('other-token', url, { 'x-twilio-signature': sig }, body)).toMatchObject({ ok: false, status: 403 });
  });

  it('is over the URL Twilio called: another host or path fails', () => {
    expect(verifyTwilioSignature(token, 'https://evil.example.com/twilio/sms', { 'x-twilio-signature': sig }, body).ok).toBe(false);
    expect(verifyTwilioSignature(token, 'https://chat.example.com/twilio/status', { 'x-twilio-signature': sig }, body).ok).toBe(false);
  });

  it('is over every parameter: a changed Body fails', () => {
    expect(verifyTwilioSignature(token, url, { 'x-twilio-signature': sig }, body.replace('milk', 'beer')).ok).toBe(false);
  });

  it('parseForm keeps repeated keys', () => {
    expect(parseForm('a=1&b=2&a=3&c=')).toEqual({ a: ['1', '3'], b: '2', c: '' });
  });
});
