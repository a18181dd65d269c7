/**
 * WhatsApp end to end, all on loopback: the Cloud API through a fake Graph API (requests signed as
 * Meta signs them) and web mode through a fake whatsapp-web.js client.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setWhatsAppWebClientFactory } from '../../bots/whatsapp/index.ts';
import { sessionLockKey } from '../../bots/whatsapp/lock.ts';
import { type ContractHarness, type CorpusCase, type PlatformRequest, describeChannelContract, eventually } from '../contract/channel-contract.ts';
import { cloudMessage, cloudStatus, FakeWhatsAppGraph } from '../fakes/whatsapp-graph.ts';
import { fakeClientFactory, webMessage } from '../fakes/whatsapp-web-client.ts';
import { dropRedisPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';

const PHONE_ID = '1122334455667';
const SECRET = 'test-app-secret';
const MEMBER = '+15550001111';
const OTHER = '+15550002222';
const LATE = '+15550003333';
const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus/whatsapp/cloud-api-webhooks.json');

function cloudEnv(graph: FakeWhatsAppGraph): Record<string, string> {
  return {
    WHATSAPP_MODE: 'cloud',
    WHATSAPP_TOKEN: 'EAAtest',
    WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_VERIFY_TOKEN: 'verify-me',
    WHATSAPP_API_URL: graph.url,
    WHATSAPP_TEMPLATE: 'chitty_update:en_US',
    CHITTY_ALLOWLIST: `whatsapp:${MEMBER},whatsapp:${OTHER},whatsapp:${LATE},whatsapp:+972987654321`,
    CHITTY_DIGEST_WINDOW_MS: '20',
  };
}

function signedRequest(graph: FakeWhatsAppGraph, payload: unknown): PlatformRequest {
  const { body, headers } = graph.signed(payload);
  return { path: '/whatsapp/webhook', headers, body };
}

let graph: FakeWhatsAppGraph;
/** The sends that quote the person's message `wamid.<messageId>`. */
const answersTo = (messageId: string) => graph.sendsTo(MEMBER).filter((s) => s.body.context?.message_id === `wamid.${messageId}`);

const harness: ContractHarness = {
  channel: 'whatsapp',
  async start() {
    graph = new FakeWhatsAppGraph(PHONE_ID, SECRET);
    await graph.start();
    return { gw: await startTestGateway('pglite', cloudEnv(graph)) };
  },
  async stop(ctx) {
    await ctx.gw.close();
    await graph.stop();
  },
  command(text, messageId) {
    return signedRequest(graph, cloudMessage(PHONE_ID, MEMBER, `wamid.${messageId}`, { type: 'text', text: { body: text } }));
  },
  badSignature(req) {
    return { ...req, headers: { ...req.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } };
  },
  ownEcho() {
    // The Cloud API never sends our own messages back as messages; what comes back is their status.
    return signedRequest(graph, cloudStatus(PHONE_ID, 'wamid.ours', 'sent', MEMBER));
  },
  corpus() {
    if (!existsSync(CORPUS)) {
      console.warn(`WhatsApp corpus absent at ${CORPUS}: only a built-in case runs`);
      return [{ name: 'built-in text', request: signedRequest(graph, cloudMessage(PHONE_ID, MEMBER, `wamid.builtin${Date.now()}`, { type: 'text', text: { body: 'help' } })), expect: 'message' }];
    }
    const { payloads } = JSON.parse(readFileSync(CORPUS, 'utf8')) as { payloads: { id: string; kind: string; payload: any }[] };
    return payloads.map((p, i): CorpusCase => {
      const payload = structuredClone(p.payload);
      // Several corpus files share one wamid; each is made its own message here (re-delivery is its own test).
      for (const m of payload.entry[0].changes[0].value.messages ?? []) m.id = `${m.id}.${i}.${Date.now()}`;
      const isMessage = !!payload.entry[0].changes[0].value.messages && !/reaction|unsupported|image/.test(p.kind);
      return { name: p.id, request: signedRequest(graph, payload), expect: isMessage ? 'message' : 'ignore' };
    });
  },
  // Answers quote the message they answer (Cloud API `context.message_id`).
  async answerOf(_ctx, _response, messageId) {
    const s = await eventually(async () => answersTo(messageId)[0], `the answer to ${messageId}`);
    return FakeWhatsAppGraph.textOf(s);
  },
  async lateAnswers(_ctx, messageId) {
    return answersTo(messageId).length;
  },
  subscriber: MEMBER,
  async postsTo(_ctx, address) {
    return graph.sendsTo(address).map(FakeWhatsAppGraph.textOf);
  },
  assertNoMassPing(raw) {
    // WhatsApp has no mass mentions; the text must still arrive as text.
    expect(typeof raw).toBe('string');
  },
};

describeChannelContract(harness);

async function send(gw: TestGateway, g: FakeWhatsAppGraph, from: string, id: string, message: Record<string, unknown>) {
  const { body, headers } = g.signed(cloudMessage(PHONE_ID, from, id, message));
  const r = await fetch(`${gw.url}/whatsapp/webhook`, { method: 'POST', headers, body });
  expect(r.status).toBe(200);
}

describe('whatsapp cloud: done when', () => {
  let gw: TestGateway;
  let g: FakeWhatsAppGraph;
  beforeAll(async () => {
    g = new FakeWhatsAppGraph(PHONE_ID, SECRET);
    await g.start();
    gw = await startTestGateway('pglite', cloudEnv(g));
  });
  afterAll(async () => {
    await gw?.close();
    await g?.stop();
  });

  it('answers the verification challenge with the verify token, 403 otherwise', async () => {
    const ok = await fetch(`${gw.url}/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=4242`);
    expect([ok.status, await ok.text()]).toEqual([200, '4242']);
    const bad = await fetch(`${gw.url}/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=4242`);
    expect(bad.status).toBe(403);
  });

  it('"add Pay rent" creates a todo; a reply button press on the fan-out completes it; statuses move the ledger', async () => {
    await send(gw, g, OTHER, 'wamid.other-hello', { type: 'text', text: { body: 'help' } }); // opens OTHER's window
    await eventually(async () => g.sendsTo(OTHER)[0], 'the help answer');
    const sub = await gw.call('POST', '/api/v1/subscriptions', { channel: 'whatsapp', address: OTHER, domains: ['todos'] });
    expect(sub.status).toBe(201);

    await send(gw, g, MEMBER, 'wamid.pay-rent', { type: 'text', text: { body: 'add Pay rent' } });
    const todo = await eventually(async () => {
      const r = await gw.call('GET', '/api/v1/todos?limit=1000');
      return (r.json.items as { id: string; content: string; status: string }[]).find((t) => t.content === 'Pay rent');
    }, 'the todo');
    expect(todo.status).toBe('pending');

    // OTHER gets the change with a Done reply button whose id is the command.
    const post = await eventually(async () => g.sendsTo(OTHER).find((s) => s.type === 'interactive' && FakeWhatsAppGraph.textOf(s).includes('Pay rent')), 'the fan-out with a button');
    const button = post.body.interactive.action.buttons[0].reply as { id: string; title: string };
    expect(button.title).toBe('Done');
    expect(button.id).toMatch(/^todo done CHITTY-TODO-[0-9A-Z]+$/);

    // Statuses arrive on the same webhook and update the delivery recorded with that wamid.
    const delivery = await eventually(async () => {
      const r = await gw.call('GET', '/api/v1/deliveries?channel=whatsapp');
      return (r.json.items as any[]).find((d) => d.providerMessageId === post.wamid);
    }, 'the delivery row');
    expect(await g.postStatus(gw.url, post.wamid, 'delivered', OTHER)).toBe(200);
    expect(await g.postStatus(gw.url, post.wamid, 'sent', OTHER)).toBe(200); // late: does not move it back
    const after = (await gw.call('GET', '/api/v1/deliveries?channel=whatsapp')).json.items.find((d: any) => d.id === delivery.id);
    expect(after).toMatchObject({ status: 'sent', providerStatus: 'delivered' });

    await send(gw, g, OTHER, 'wamid.press', {
      type: 'interactive',
      context: { from: '15550000000', id: post.wamid },
      interactive: { type: 'button_reply', button_reply: { id: button.id, title: 'Something else' } },
    });
    await eventually(async () => {
      const r = await gw.call('GET', '/api/v1/todos?limit=1000');
      return (r.json.items as any[]).find((t) => t.content === 'Pay rent' && t.status === 'completed');
    }, 'the todo completed by the button');
  });

  it('a failed status makes the delivery a dead letter with the error', async () => {
    const rows = (await gw.call('GET', '/api/v1/deliveries?channel=whatsapp')).json.items as any[];
    const row = rows.find((d) => d.providerMessageId && d.providerStatus !== 'failed')!;
    expect(await g.postStatus(gw.url, row.providerMessageId, 'failed', OTHER, [{ code: 131026, title: 'Message undeliverable' }])).toBe(200);
    const after = (await gw.call('GET', '/api/v1/deliveries?channel=whatsapp')).json.items.find((d: any) => d.id === row.id);
    expect(after).toMatchObject({ status: 'dead', providerStatus: 'failed' });
    expect(after.lastError).toMatch(/131026 Message undeliverable/);
  });

  it('a subscriber outside the 24-hour window gets the template, and the ledger says so', async () => {
    await gw.database.db.execute(sql`insert into whatsapp_contacts (number, last_inbound_at) values (${LATE}, now() - interval '25 hours')`);
    await gw.call('POST', '/api/v1/subscriptions', { channel: 'whatsapp', address: LATE, domains: ['todos'] });
    await gw.call('POST', '/api/v1/todos', { content: 'Water the plants' });
    const t = await eventually(async () => g.sendsTo(LATE).find((s) => s.type === 'template'), 'the template');
    expect(t.body.template).toMatchObject({ name: 'chitty_update', language: { code: 'en_US' } });
    expect(FakeWhatsAppGraph.textOf(t)).toContain('Water the plants');
    expect(g.sendsTo(LATE).filter((s) => s.type !== 'template')).toHaveLength(0);
    const row = await eventually(async () => ((await gw.call('GET', '/api/v1/deliveries?channel=whatsapp')).json.items as any[]).find((d) => d.providerMessageId === t.wamid), 'the ledger row');
    expect(row.note).toMatch(/template chitty_update:en_US sent instead/);
  });

  it('a free-form send refused with 131047 falls back to the template', async () => {
    // OTHER is inside the window by our records, but WhatsApp says otherwise.
    g.failures.set(OTHER.slice(1), [{ status: 400, code: 131047, message: 'Re-engagement message' }]);
    await gw.call('POST', '/api/v1/todos', { content: 'Call grandma' });
    const t = await eventually(async () => g.sendsTo(OTHER).find((s) => s.type === 'template'), 'the template after 131047');
    const row = await eventually(async () => ((await gw.call('GET', '/api/v1/deliveries?channel=whatsapp')).json.items as any[]).find((d) => d.providerMessageId === t.wamid), 'the ledger row');
    expect(row.note).toMatch(/131047/);
  });
});

describe('whatsapp web (whatsapp-web.js, fake client)', () => {
  const prefix = `{wa${Date.now().toString(36)}}`;
  const fake = fakeClientFactory();
  let a: TestGateway | undefined;
  let b: TestGateway | undefined;
  const env = { WHATSAPP_MODE: 'web', WHATSAPP_LOCK_TTL_MS: '3000', CHITTY_QUEUE_PREFIX: prefix, CHITTY_ALLOWLIST: `whatsapp:${MEMBER}` };
  beforeAll(async () => {
    setWhatsAppWebClientFactory(fake.factory);
    // Postgres, so the second process below can share the first one's database (and so its queue prefix).
    a = await startTestGateway('postgres', env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    setWhatsAppWebClientFactory(undefined);
    await dropRedisPrefix(prefix);
  });

  it('shows the QR behind the API token, runs a message and answers in the chat, ignores fromMe', async () => {
    const client = await eventually(async () => fake.clients[0], 'the client');
    expect(client.initialized).toBe(true);
    client.emit('qr', '2@fakeQrCodeForTests');
    expect((await a!.call('GET', '/whatsapp/qr', undefined, { token: null })).status).toBe(401);
    const qr = await a!.call('GET', '/whatsapp/qr');
    expect(qr.status).toBe(200);
    expect(qr.text).toContain('2@fakeQrCodeForTests');
    client.emit('ready');

    client.emit('message', webMessage({ from: `${MEMBER.slice(1)}@c.us`, body: 'add Buy milk' }));
    const answer = await eventually(async () => client.sent.find((s) => s.chatId === `${MEMBER.slice(1)}@c.us`), 'the answer in the chat');
    expect(answer.content).toMatch(/Buy milk/);
    const todos = (await a!.call('GET', '/api/v1/todos?limit=1000')).json.items as { content: string }[];
    expect(todos.map((t) => t.content)).toContain('Buy milk');

    const before = client.sent.length;
    const inbound = async () => Number(((await a!.database.db.execute(sql`select count(*)::int as n from inbound_messages`)) as any).rows?.[0]?.n ?? 0);
    const n = await inbound();
    client.emit('message_create', webMessage({ from: `${MEMBER.slice(1)}@c.us`, body: 'add Mine', fromMe: true }));
    client.emit('message', webMessage({ from: `${MEMBER.slice(1)}@c.us`, body: 'add Mine too', fromMe: true }));
    await new Promise((r) => setTimeout(r, 300));
    expect(client.sent.length).toBe(before);
    expect(await inbound()).toBe(n);
  });

  it('a second process stays passive and takes the session over when the owner stops', async () => {
    b = await startTestGateway('postgres', { ...env, DATABASE_SCHEMA: a!.config.databaseSchema! });
    const made = fake.clients.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(fake.clients).toHaveLength(made); // b is passive
    expect((await b.call('GET', '/whatsapp/qr?format=json')).json).toMatchObject({ owner: false, state: 'passive' });
    await a!.close();
    a = undefined;
    const taken = await eventually(async () => fake.clients[made], 'the takeover client', 30_000);
    expect(taken.initialized).toBe(true);
    expect(fake.clients[made - 1]!.destroyed).toBe(true);
    expect((await b.call('GET', '/whatsapp/qr?format=json')).json).toMatchObject({ owner: true });
    expect(sessionLockKey(prefix)).toBe(`${prefix}:whatsapp:session-lock`);
  }, 90_000);
});
