/** Signature vector and every Cloud API payload of ../shared/corpus/whatsapp, read at run time. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hubSignature, verifyHubSignature, answerChallenge } from './verify.ts';
import { readWebhook, e164 } from './parse.ts';
import { graphError, OutsideWindowError } from './graph.ts';
import { AuthError, DestinationNotFoundError, RateLimitedError, ServerError, ValidationError } from '../../src/core/channel-errors.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus/whatsapp');
const have = existsSync(CORPUS);
if (!have) console.warn(`skipping WhatsApp corpus tests: ${CORPUS} is absent`);
const load = (f: string) => JSON.parse(readFileSync(path.join(CORPUS, f), 'utf8'));

describe.skipIf(!have)('X-Hub-Signature-256 (corpus whatsapp/signatures.json)', () => {
  it('verifies every vector over its raw bytes and refuses a changed body or header', () => {
    const { vectors } = load('signatures.json') as { vectors: { app_secret: string; raw_body: string; header: string; expected_valid: boolean }[] };
    expect(vectors.length).toBeGreaterThan(0);
    for (const v of vectors) {
      expect(verifyHubSignature(v.app_secret, Buffer.from(v.raw_body), v.header).ok).toBe(v.expected_valid);
      expect(hubSignature(v.app_secret, v.raw_body)).toBe(v.header);
      expect(verifyHubSignature(v.app_secret, Buffer.from(`${v.raw_body} `), v.header).ok).toBe(false);
      expect(verifyHubSignature('other-secret', Buffer.from(v.raw_body), v.header).ok).toBe(false);
      expect(verifyHubSignature(v.app_secret, Buffer.from(v.raw_body), undefined).ok).toBe(false);
    }
  });
});

describe('signatures over the bytes as sent', () => {
  it('a \\u-escaped body verifies as sent; its re-serialized (unescaped) form does not', () => {
    const sent = '{"text":{"body":"caf\\u00e9 \\ud83d\\ude00"}}';
    const sig = hubSignature('s3cret', sent);
    expect(verifyHubSignature('s3cret', Buffer.from(sent), sig).ok).toBe(true);
    expect(verifyHubSignature('s3cret', Buffer.from(JSON.stringify(JSON.parse(sent))), sig).ok).toBe(false);
  });

  it('answers the verification challenge only with the right token', () => {
    expect(answerChallenge('/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444', 'tok')).toMatchObject({ status: 200, body: '1158201444' });
    expect(answerChallenge('/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=bad&hub.challenge=1', 'tok').status).toBe(403);
    expect(answerChallenge('/whatsapp/webhook?hub.mode=unsubscribe&hub.verify_token=tok&hub.challenge=1', 'tok').status).toBe(403);
  });
});

/** What each corpus payload must become: messages (with their text) or ignored, and statuses. */
const EXPECT: Record<string, { messages?: string[]; statuses?: string[]; ignored?: string }> = {
  'pywa:message.text': { messages: ['Body Text'] },
  'pywa:message.reply': { messages: ['replied text'] },
  'pywa:message.reaction': { ignored: 'reaction' },
  'pywa:message.unreaction_empty': { ignored: 'reaction' },
  'pywa:message.forwarded': { messages: ['forwarded text'] },
  'pywa:message.unsupported': { ignored: 'unsupported' },
  'pywa:message.image': { ignored: 'image without a caption' },
  // A button / list row runs the command its id (payload) names, never its title.
  'pywa:callback_button.button': { messages: ['callback_data'] },
  'pywa:callback_button.quick_reply': { messages: ['callback_data'] },
  'pywa:callback_button.quick_reply_without_context': { messages: ['callback_data'] },
  'pywa:callback_selection.callback': { messages: ['callback_data'] },
  'pywa:callback_selection.description': { messages: ['callback_data'] },
  'pywa:message_status.sent': { statuses: ['sent'] },
  'pywa:message_status.delivered': { statuses: ['delivered'] },
  'pywa:message_status.read': { statuses: ['read'] },
  'pywa:message_status.failed': { statuses: ['failed'] },
};

describe.skipIf(!have)('Cloud API payloads (corpus whatsapp/cloud-api-webhooks.json)', () => {
  const { payloads } = have ? (load('cloud-api-webhooks.json') as { payloads: { id: string; payload: unknown; expected_fields_read_from_payload: Record<string, any> }[] }) : { payloads: [] };
  const at = new Date('2026-01-01T00:00:00Z');

  it('has a decision for every payload', () => {
    expect(payloads.length).toBe(16);
    for (const p of payloads) expect(EXPECT[p.id], p.id).toBeDefined();
  });

  for (const p of payloads) {
    it(`${p.id}`, () => {
      const want = EXPECT[p.id]!;
      const r = readWebhook(p.payload, at, '1122334455667');
      const f = p.expected_fields_read_from_payload;
      expect(r.messages.map((m) => m.text)).toEqual(want.messages ?? []);
      expect(r.statuses.map((s) => s.status)).toEqual(want.statuses ?? []);
      for (const m of r.messages) {
        expect(m).toMatchObject({ channel: 'whatsapp', address: `+${f.from}`, sender: `whatsapp:+${f.from}`, providerMessageId: f.message_id, receivedAt: at, senderName: 'Test Name' });
        if (f.type === 'interactive' || f.type === 'button') expect(m.actionId).toBe('callback_data');
      }
      for (const s of r.statuses) {
        expect(s.providerMessageId).toBe(f.message_id);
        if (s.status === 'failed') expect(s.error).toMatch(/^130472 User's number is part of an experiment/);
      }
      if (want.ignored) expect(r.ignored.map((i) => i.detail).join(';')).toContain(want.ignored);
      // A webhook for another phone number of the same app is not ours.
      const other = readWebhook(p.payload, at, '999999');
      expect(other.messages.length + other.statuses.length).toBe(0);
    });
  }
});

describe('numbers and Graph errors', () => {
  it('normalizes Cloud API ids to E.164', () => {
    expect(e164('972987654321')).toBe('+972987654321');
    expect(e164('US.13491208655302741918')).toBeUndefined();
    expect(e164('0123')).toBeUndefined();
  });

  it('maps Graph error codes onto channel errors', () => {
    const h = new Headers({ 'retry-after': '7' });
    const err = (status: number, code: number) =>
      graphError(status, JSON.stringify({ error: { message: 'm', type: 'OAuthException', code, fbtrace_id: 'x' } }), h, 'POST', 'http://g/v21.0/1/messages');
    for (const c of [130429, 131048, 131056, 4]) expect(err(400, c)).toBeInstanceOf(RateLimitedError);
    expect((err(429, 130429) as RateLimitedError).retryAfterMs).toBe(7000);
    expect((err(400, 131056) as RateLimitedError).scope).toBe('destination');
    expect(err(401, 190)).toBeInstanceOf(AuthError);
    expect(err(400, 131026)).toBeInstanceOf(DestinationNotFoundError);
    expect(err(400, 131030)).toBeInstanceOf(ValidationError);
    expect(err(400, 131047)).toBeInstanceOf(OutsideWindowError);
    expect(err(500, 131000)).toBeInstanceOf(ServerError);
    expect(graphError(502, '<html>', h, 'POST', 'http://g')).toBeInstanceOf(ServerError);
  });
});
