/**
 * SMS (Twilio) through the whole gateway: requests signed exactly as Twilio signs them into
 * `POST /twilio/sms` and `/twilio/status`, a loopback fake of the REST API (test/fakes/twilio.ts)
 * that records every send and posts signed status callbacks back. PUBLIC_URL is a public name the
 * gateway is not listening on (as behind a proxy): signatures are over it, requests go to the
 * test port. The generic channel contract, then the done-when for SMS.
 */
import { SegmentedMessage } from 'sms-segments-calculator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db.ts';
import { type ContractHarness, type CorpusCase, describeChannelContract, eventually, type PlatformRequest, sendPlatform } from '../contract/channel-contract.ts';
import { FakeTwilio, messageSidFor, signTwilio } from '../fakes/twilio.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { hasCorpus, readCorpus } from '../../bots/sms/corpus.ts';
import { EMPTY_TWIML } from '../../bots/sms/status.ts';

const ACCOUNT = `AC${'a'.repeat(32)}`;
const TOKEN = 'test-twilio-auth-token';
const FROM = '+15550009999';
const PUBLIC_URL = 'https://chitty.example.test';
const MEMBER = '+15550001111';

function smsEnv(fake: FakeTwilio, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_FROM: FROM,
    TWILIO_API_URL: fake.url,
    PUBLIC_URL,
    CHITTY_ALLOWLIST: `sms:${MEMBER}`,
    CHITTY_DIGEST_WINDOW_MS: '100',
    ...extra,
  };
}

/** A form posted to the gateway, signed over PUBLIC_URL + path like Twilio. */
function twilioRequest(path: string, params: Record<string, string>): PlatformRequest {
  const signed = signTwilio(TOKEN, `${PUBLIC_URL}${path}`, params);
  return { path, headers: signed.headers, body: signed.body };
}

/** An inbound SMS as Twilio's webhook sends it (documented parameters). */
function sms(from: string, body: string, id: string): PlatformRequest {
  const sid = messageSidFor(id);
  return twilioRequest('/twilio/sms', {
    ToCountry: 'US',
    ToState: 'CA',
    SmsMessageSid: sid,
    NumMedia: '0',
    ToCity: '',
    FromZip: '',
    SmsSid: sid,
    FromState: 'CA',
    SmsStatus: 'received',
    FromCity: '',
    Body: body,
    FromCountry: 'US',
    To: FROM,
    ToZip: '',
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: ACCOUNT,
    From: from,
    ApiVersion: '2010-04-01',
  });
}

async function startSms(fake: FakeTwilio, extra: Record<string, string> = {}): Promise<TestGateway> {
  if (!fake.url) await fake.start();
  const gw = await startTestGateway('pglite', smsEnv(fake, extra));
  fake.gatewayUrl = gw.url;
  return gw;
}

/** A delivery as `GET /api/v1/deliveries` shows it. */
interface DeliveryView {
  address: string;
  entityId: string | null;
  status: string;
  attempts: number;
  lastError: string | null;
  providerMessageId: string | null;
  providerStatus: string | null;
}

async function deliveries(gw: TestGateway, address: string): Promise<DeliveryView[]> {
  const r = await gw.call('GET', '/api/v1/deliveries?channel=sms&limit=1000');
  return (r.json.items as DeliveryView[]).filter((d) => d.address === address);
}

async function optedOut(gw: TestGateway, phone: string): Promise<{ source: string } | undefined> {
  const r = await gw.database.db.execute(sql`select source from sms_opt_outs where phone = ${phone}`);
  return rowsOf<{ source: string }>(r)[0];
}

// ------------------------------------------------------------------ the contract

const contractFake = new FakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN });
const before = new Map<string, number>();
const SUBSCRIBER = '+15550002222';

function corpusCases(): CorpusCase[] {
  const cases: CorpusCase[] = [
    // Built from Twilio's documented webhook parameters (the corpus has no plain inbound SMS).
    { name: 'documented: inbound SMS', request: sms(MEMBER, 'help', `corpus-sms-${Date.now()}`), expect: 'message' },
    {
      name: 'documented: MMS without Body',
      request: twilioRequest('/twilio/sms', {
        MessageSid: messageSidFor(`corpus-mms-${Date.now()}`),
        AccountSid: ACCOUNT,
        From: MEMBER,
        To: FROM,
        NumMedia: '1',
        MediaUrl0: 'https://api.twilio.com/m/1',
        MediaContentType0: 'image/jpeg',
        ApiVersion: '2010-04-01',
      }),
      expect: 'ignore',
    },
  ];
  if (!hasCorpus('webhooks.json')) {
    console.warn('../shared/corpus/sms/webhooks.json is absent: the contract runs on the documented bodies only');
    return cases;
  }
  for (const w of readCorpus<{ webhooks: { id: string; kind: string; params: Record<string, string> }[] }>('webhooks.json').webhooks) {
    // WhatsApp via Twilio is not this channel: its messages are ignored; status callbacks change no inbound log.
    const path = w.kind === 'status-callback' ? '/twilio/status' : '/twilio/sms';
    cases.push({ name: `corpus: ${w.id}`, request: twilioRequest(path, w.params), expect: 'ignore' });
  }
  return cases;
}

const harness: ContractHarness = {
  channel: 'sms',
  refusalStatus: 403,
  async start() {
    return { gw: await startSms(contractFake) };
  },
  async stop(ctx) {
    await ctx.gw.close();
    await contractFake.stop();
  },
  command(text, messageId) {
    if (!before.has(messageId)) before.set(messageId, contractFake.bodiesTo(MEMBER).length);
    return sms(MEMBER, text, messageId);
  },
  badSignature(req) {
    return { ...req, headers: { ...req.headers, 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' } };
  },
  ownEcho() {
    return sms(FROM, 'todo add Echo of our own number', `echo-${Date.now()}`);
  },
  corpus: corpusCases,
  async answerOf(_ctx, response, messageId) {
    expect(response.text).toBe(EMPTY_TWIML);
    const from = before.get(messageId) ?? 0;
    return eventually(async () => contractFake.bodiesTo(MEMBER)[from], `the SMS answer to ${messageId}`);
  },
  async lateAnswers(_ctx, messageId) {
    return contractFake.bodiesTo(MEMBER).length - (before.get(messageId) ?? 0);
  },
  subscriber: SUBSCRIBER,
  async postsTo(_ctx, address) {
    return contractFake.bodiesTo(address);
  },
  assertNoMassPing(raw) {
    // SMS has no mentions to abuse; what matters is that the answer is one plain segment.
    expect(new SegmentedMessage(raw).segmentsCount).toBe(1);
  },
};

describeChannelContract(harness);

// ------------------------------------------------------------------ done-when

describe("sms: the issue's done-when", () => {
  const fake = new FakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN });
  let gw: TestGateway;
  let n = 0;
  const mid = (what: string) => `${what}-${++n}-${Date.now()}`;
  /** Text the gateway as `from` and wait for the SMS answer. */
  async function text(from: string, body: string): Promise<string> {
    const seen = fake.bodiesTo(from).length;
    const r = await sendPlatform(gw, sms(from, body, mid('t')));
    expect(r.status).toBe(200);
    expect(r.text).toBe(EMPTY_TWIML);
    return eventually(async () => fake.bodiesTo(from)[seen], `the answer to "${body}"`);
  }
  async function todoByContent(content: string): Promise<{ content: string; status: string } | undefined> {
    const r = await gw.call('GET', '/api/v1/todos?limit=1000');
    return (r.json.items as { content: string; status: string }[]).find((t) => t.content === content);
  }

  beforeAll(async () => {
    // A quick sweeper: a delivery a carrier rate limit sent back to wait is retried within ~2 s.
    gw = await startSms(fake, { CHITTY_SWEEP_MS: '500' });
  });
  afterAll(async () => {
    await gw?.close();
    await fake.stop();
  });

  it('answers with empty TwiML at once, as text/xml; the answer follows by REST', async () => {
    const seen = fake.bodiesTo(MEMBER).length;
    const req = sms(MEMBER, 'help', mid('twiml'));
    const res = await fetch(`${gw.url}/twilio/sms`, { method: 'POST', headers: req.headers, body: req.body });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await res.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    await eventually(async () => fake.bodiesTo(MEMBER)[seen], 'the answer by REST');
  });

  it('"add Call the bank" creates a todo; "list" then "done 1" from the same phone completes it', async () => {
    expect(await text(MEMBER, 'add Call the bank')).toMatch(/Call the bank/);
    expect(await todoByContent('Call the bank')).toBeDefined();
    const list = await text(MEMBER, 'list');
    expect(list).toMatch(/1\. Call the bank/);
    expect(await text(MEMBER, 'done 1')).toMatch(/Call the bank/);
    expect((await todoByContent('Call the bank'))?.status).toBe('completed');
  });

  it('"more" pages a long list, one segment per page; "help" answers', async () => {
    for (let i = 1; i <= 6; i++) await text(MEMBER, `add Paging item number ${i} with a rather long description to fill the page`);
    const page1 = await text(MEMBER, 'list');
    expect(page1).toMatch(/\(1\/\d+\) reply MORE$/);
    const page2 = await text(MEMBER, 'more');
    expect(page2).toMatch(/\(2\/\d+\)/);
    expect(page2).not.toBe(page1);
    for (const p of [page1, page2]) expect(new SegmentedMessage(p).segmentsCount).toBe(1);
    expect(await text(MEMBER, 'help')).toMatch(/todo|help/i);
  });

  it('a bad signature gets 403 and changes nothing; a signature over another URL too', async () => {
    const counts = await gw.counts();
    const req = sms(MEMBER, 'add Forged over SMS', mid('forged'));
    const bad = await sendPlatform(gw, { ...req, headers: { ...req.headers, 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' } });
    expect(bad.status).toBe(403);
    const params = Object.fromEntries(new URLSearchParams(String(req.body)));
    const otherUrl = signTwilio(TOKEN, `http://127.0.0.1/twilio/sms`, params);
    expect((await sendPlatform(gw, { path: '/twilio/sms', headers: otherUrl.headers, body: otherUrl.body })).status).toBe(403);
    expect(await gw.counts()).toEqual(counts);
  });

  it('an SMS subscriber gets one-segment GSM-7 notices; after STOP nothing more; after START again', async () => {
    const B = '+15550003333';
    const sub = await gw.call('POST', '/api/v1/subscriptions', { channel: 'sms', address: B, domains: ['todos'] });
    expect(sub.status).toBe(201);
    await gw.call('POST', '/api/v1/todos', { content: '“Smart” notice — with an ellipsis…' });
    const notice = await eventually(async () => fake.bodiesTo(B).find((b) => b.includes('Smart')), 'a notice to the subscriber');
    expect(notice).toMatch(/"Smart" notice - with an ellipsis\.\.\./);
    expect(new SegmentedMessage(notice).encodingName).toBe('GSM-7');
    expect(new SegmentedMessage(notice).segmentsCount).toBe(1);
    const sent = fake.sends.find((s) => s.to === B)!;
    expect(sent.from).toBe(FROM);
    expect(sent.statusCallback).toBe(`${PUBLIC_URL}/twilio/status`);

    // STOP: opted out (no answer: Twilio confirms a STOP itself), subscription kept.
    const seen = fake.bodiesTo(B).length;
    expect((await sendPlatform(gw, sms(B, 'STOP', mid('stop')))).status).toBe(200);
    await eventually(async () => await optedOut(gw, B), 'the opt-out row');
    expect((await optedOut(gw, B))?.source).toBe('keyword');
    const created = await gw.call('POST', '/api/v1/todos', { content: 'Not for a stopped number' });
    const refused = await eventually(async () => (await deliveries(gw, B)).find((d) => d.entityId === created.json.chittyId && d.status === 'dead'), 'the refused delivery');
    expect(refused.lastError).toMatch(/opted out/);
    expect(fake.bodiesTo(B)).toHaveLength(seen);
    expect(fake.sends.filter((s) => s.to === B && s.body.includes('Not for a stopped number'))).toEqual([]);

    // START: confirmed, and notices flow again.
    expect(await text(B, 'START')).toMatch(/again/);
    expect(await optedOut(gw, B)).toBeUndefined();
    await gw.call('POST', '/api/v1/todos', { content: 'Back after START' });
    await eventually(async () => fake.bodiesTo(B).find((b) => b.includes('Back after START')), 'a notice after START');
  });

  it('HELP and INFO answer with a short help, even when opted out', async () => {
    const C = '+15550004444';
    expect(await text(C, 'HELP')).toMatch(/STOP/);
    await sendPlatform(gw, sms(C, 'stop', mid('stop')));
    await eventually(async () => await optedOut(gw, C), 'the opt-out row');
    const answer = await text(C, 'info');
    expect(answer).toMatch(/START/);
    expect(new SegmentedMessage(answer).segmentsCount).toBe(1);
  });

  it('a send refused with 21610 marks the number opted out and is not retried', async () => {
    const D = '+15550005555';
    await gw.call('POST', '/api/v1/subscriptions', { channel: 'sms', address: D, domains: ['todos'] });
    fake.failNext(D, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    const created = await gw.call('POST', '/api/v1/todos', { content: 'Refused by Twilio' });
    const dead = await eventually(async () => (await deliveries(gw, D)).find((d) => d.entityId === created.json.chittyId && d.status === 'dead'), 'the dead delivery');
    expect(dead.lastError).toMatch(/21610/);
    expect(dead.attempts).toBe(1);
    expect((await optedOut(gw, D))?.source).toBe('twilio_21610');
    expect(fake.sends.filter((s) => s.to === D)).toHaveLength(1);
    // The next change is refused before Twilio is called.
    const next = await gw.call('POST', '/api/v1/todos', { content: 'Also not for D' });
    await eventually(async () => (await deliveries(gw, D)).find((d) => d.entityId === next.json.chittyId && d.status === 'dead'), 'the next refusal');
    expect(fake.sends.filter((s) => s.to === D)).toHaveLength(1);
  });

  it('status callbacks move a delivery to delivered, or to failed with the error code; a rate error retries', async () => {
    const E = '+15550006666';
    await gw.call('POST', '/api/v1/subscriptions', { channel: 'sms', address: E, domains: ['todos'] });
    const sendOf = async (content: string) => {
      const created = await gw.call('POST', '/api/v1/todos', { content });
      const send = await eventually(async () => fake.sends.find((s) => s.to === E && s.body.includes(content)), `the send of ${content}`);
      const row = await eventually(async () => (await deliveries(gw, E)).find((d) => d.entityId === created.json.chittyId && d.status === 'sent'), 'the sent row');
      expect(row.providerMessageId).toBe(send.sid);
      return { sid: send.sid, entityId: created.json.chittyId as string };
    };
    const rowOf = async (entityId: string) => {
      const row = (await deliveries(gw, E)).find((d) => d.entityId === entityId);
      if (!row) throw new Error(`no delivery of ${entityId} to ${E}`);
      return row;
    };

    const a = await sendOf('Will be delivered');
    expect(await fake.postStatus(a.sid, 'sent')).toBe(200);
    expect((await rowOf(a.entityId)).providerStatus).toBe('sent');
    expect(await fake.postStatus(a.sid, 'delivered')).toBe(200);
    expect(await rowOf(a.entityId)).toMatchObject({ status: 'sent', providerStatus: 'delivered' });
    // A late 'sent' does not move it back.
    await fake.postStatus(a.sid, 'sent');
    expect((await rowOf(a.entityId)).providerStatus).toBe('delivered');

    const b = await sendOf('Will be undelivered');
    expect(await fake.postStatus(b.sid, 'undelivered', { code: 30003, message: 'Unreachable destination handset' })).toBe(200);
    const failed = await rowOf(b.entityId);
    expect(failed).toMatchObject({ status: 'dead', providerStatus: 'failed' });
    expect(failed.lastError).toMatch(/undelivered, error 30003/);

    const c = await sendOf('Will be rate limited');
    expect(await fake.postStatus(c.sid, 'failed', { code: 63018 })).toBe(200);
    // Waits for a retry (the sweeper schedules it), then goes out again as a new message.
    const again = await eventually(async () => fake.sends.filter((s) => s.to === E && s.body.includes('Will be rate limited'))[1], 'the retried send');
    const retried = await eventually(async () => {
      const r = await rowOf(c.entityId);
      return r.providerMessageId === again.sid && r.status === 'sent' ? r : undefined;
    }, 'the row sent again');
    expect(retried.attempts).toBe(2);
    expect(retried.providerStatus).toBeNull();

    // A status callback with a bad signature gets 403 and changes nothing.
    const forged = await fetch(`${gw.url}/twilio/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'Zm9yZ2Vk' },
      body: new URLSearchParams({ MessageSid: b.sid, MessageStatus: 'delivered' }).toString(),
    });
    expect(forged.status).toBe(403);
    expect((await rowOf(b.entityId)).providerStatus).toBe('failed');
  });

  it('paces per sending number: two subscribers of one change are sent at least ~1 s apart', async () => {
    const [F, G] = ['+15550007777', '+15550008888'];
    for (const a of [F, G]) await gw.call('POST', '/api/v1/subscriptions', { channel: 'sms', address: a, domains: ['todos'] });
    await gw.call('POST', '/api/v1/todos', { content: 'Paced per sender' });
    const [f, g] = await eventually(async () => {
      const f = fake.sends.find((s) => s.to === F && s.body.includes('Paced per sender'));
      const g = fake.sends.find((s) => s.to === G && s.body.includes('Paced per sender'));
      return f && g ? [f, g] : undefined;
    }, 'both notices');
    // The bucket grants the sending number one token a second; arrival times also carry each
    // request's own latency, so allow half a second of it (per destination, they would be ~0 ms apart).
    expect(Math.abs(f!.at - g!.at)).toBeGreaterThanOrEqual(500);
  });
});

/** The gateway refuses to start with SMS half configured. */
describe('sms: configuration', () => {
  it('a half-configured setup is a start error that says what to set', async () => {
    const { readChannelsConfig } = await import('../../src/channel-config.ts');
    expect(() => readChannelsConfig({ TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN })).toThrow(/TWILIO_FROM \(or TWILIO_MESSAGING_SERVICE_SID\)/);
    expect(() => readChannelsConfig({ TWILIO_FROM: FROM })).toThrow(/TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN/);
    expect(() => readChannelsConfig({ TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: FROM, TWILIO_MESSAGING_SERVICE_SID: `MG${'b'.repeat(32)}` })).toThrow(/not both/);
    expect(readChannelsConfig({ TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_MESSAGING_SERVICE_SID: `MG${'b'.repeat(32)}` }).sms).toMatchObject({
      messagingServiceSid: `MG${'b'.repeat(32)}`,
      from: undefined,
    });
    expect(readChannelsConfig({}).sms).toBeUndefined();
  });
});
