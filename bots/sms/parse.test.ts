import { describe, expect, it } from 'vitest';
import { hasCorpus, readCorpus } from './corpus.ts';
import { carrierKeyword } from './keywords.ts';
import { parseInboundSms, readTwilioFields } from './parse.ts';
import { parseForm } from './verify.ts';

interface WebhookRecord {
  id: string;
  kind: 'inbound-message' | 'status-callback';
  raw_body: string;
  params: Record<string, string>;
  expected: {
    message_sid?: string;
    from?: string;
    to?: string;
    text?: string;
    status?: string;
    media?: { content_type: string; url: string }[];
    location?: { latitude: number; longitude: number; address?: string; label?: string };
  };
}

const at = new Date('2026-11-29T10:00:00Z');
const FILE = 'webhooks.json';
describe.skipIf(!hasCorpus(FILE))(`Twilio webhook bodies from ../shared/corpus/sms/${FILE} (skipped when the corpus is absent)`, () => {
  const records = hasCorpus(FILE) ? readCorpus<{ webhooks: WebhookRecord[] }>(FILE).webhooks : [];

  it('has the 5 bodies', () => expect(records).toHaveLength(5));

  it.each(records.map((r) => [r.id, r] as const))('%s: the raw body reads to the expected fields', (_id, r) => {
    const params = parseForm(r.raw_body);
    expect(params).toEqual(r.params);
    const f = readTwilioFields(params);
    const e = r.expected;
    if (e.message_sid !== undefined) expect(f.messageSid).toBe(e.message_sid);
    if (e.from !== undefined) expect(f.from).toBe(e.from);
    if (e.to !== undefined) expect(f.to).toBe(e.to);
    if (e.text !== undefined) expect(f.text).toBe(e.text);
    if (e.status !== undefined) expect(f.status).toBe(e.status);
    if (e.media !== undefined) expect(f.media).toEqual(e.media.map((m) => ({ contentType: m.content_type, url: m.url })));
    if (e.location !== undefined) expect(f.location).toMatchObject(e.location);
  });

  it.each(records.filter((r) => r.kind === 'inbound-message').map((r) => [r.id, r] as const))('%s: WhatsApp via Twilio is not the SMS channel (ignored, not an error)', (_id, r) => {
    expect(parseInboundSms(parseForm(r.raw_body), at)).toMatchObject({ kind: 'ignore', reason: 'unsupported' });
  });
});

describe('parseInboundSms', () => {
  const base = { MessageSid: 'SM11111111111111111111111111111111', AccountSid: 'AC1', From: '+15550001111', To: '+15550009999', NumMedia: '0' };

  it('an SMS: identity sms:<E.164>, conversation = the number, provider id = MessageSid', () => {
    const p = parseInboundSms({ ...base, Body: '  add Buy milk ' }, at);
    expect(p).toEqual({
      kind: 'message',
      message: { channel: 'sms', address: '+15550001111', sender: 'sms:+15550001111', text: 'add Buy milk', providerMessageId: base.MessageSid, receivedAt: at },
      respond: { to: '+15550001111', keyword: undefined },
    });
  });

  it('an MMS without Body is ignored as empty, not an error', () => {
    const mms = { ...base, NumMedia: '1', MediaUrl0: 'https://api.twilio.com/x', MediaContentType0: 'image/jpeg' };
    expect(parseInboundSms(mms, at)).toMatchObject({ kind: 'ignore', reason: 'empty', detail: 'MMS without text' });
  });

  it('carrier keywords run as the read-only help and carry the keyword', () => {
    for (const [body, keyword] of [
      ['STOP', 'stop'],
      ['stop', 'stop'],
      ['Unsubscribe', 'stop'],
      [' quit.', 'stop'],
      ['START', 'start'],
      ['unstop', 'start'],
      ['YES', 'start'],
      ['HELP', 'help'],
      ['info', 'help'],
    ] as const) {
      const p = parseInboundSms({ ...base, Body: body }, at);
      expect(p, body).toMatchObject({ kind: 'message', message: { text: 'help' }, respond: { keyword } });
    }
    expect(parseInboundSms({ ...base, Body: 'stop the presses' }, at)).toMatchObject({ message: { text: 'stop the presses' }, respond: { keyword: undefined } });
  });

  it("follows Twilio's OptOutType when Advanced Opt-Out matched a custom keyword", () => {
    expect(carrierKeyword('ARRET', 'STOP')).toBe('stop');
  });

  it('ignores our own number, short codes, and refuses a body without MessageSid', () => {
    expect(parseInboundSms({ ...base, Body: 'hi' }, at, '+15550001111')).toMatchObject({ kind: 'ignore', reason: 'own_echo' });
    expect(parseInboundSms({ ...base, From: '12345', Body: 'hi' }, at)).toMatchObject({ kind: 'ignore', reason: 'unsupported' });
    expect(() => parseInboundSms({ From: '+15550001111', Body: 'hi' }, at)).toThrow(/MessageSid/);
  });
});
