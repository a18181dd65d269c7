/**
 * Issue 14, "Bad input is a 400, never a 500, and changes nothing": what Postgres refuses (NUL,
 * lone surrogates, very deep JSON) is a 400 naming the field; a replica batch the database refuses
 * part of keeps none of it; a preview writes nothing, also for a stranger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/hub/hlc.ts';
import type { SyncMessage } from '../../src/sync/sync-message.ts';
import { tableCounts } from '../chaos/fuzz.ts';
import { DB_KINDS } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

function replicaCreate(id: string, content: string): SyncMessage {
  const wallMs = Date.now();
  return {
    id: `m-${id}`,
    type: 'state_update',
    source: { nodeId: 'laptop', platform: 'replica' },
    payload: { domain: 'todos', operation: 'create', entity: { chittyId: id, data: { content } } },
    metadata: { timestamp: new Date(wallMs).toISOString(), vectorClock: { laptop: 1 }, hlc: formatHlc({ wallMs, counter: 0, node: 'laptop' }) },
  };
}

const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

describe.each(DB_KINDS)('bad input on %s', (kind) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(kind, {}, { mode: 'web' });
  });
  afterAll(async () => gw?.close());
  const counts = () => tableCounts(gw.database.root);

  it('refuses NUL, lone surrogates and deep nesting with a 400 naming the field, and changes nothing', async () => {
    const todo = (await gw.call('POST', '/api/v1/todos', { content: 'Existing' })).json.chittyId as string;
    const ctx = (await gw.call('POST', '/api/v1/contexts', { title: 'Ctx' })).json.chittyId as string;
    const before = await counts();
    const cases: [string, string, { body?: unknown; raw?: string }, RegExp][] = [
      ['POST', '/api/v1/todos', { body: { content: 'a\u0000b' } }, /body\.content .*NUL/],
      ['POST', '/api/v1/todos', { raw: '{"content":"a\\u0000b"}' }, /body\.content .*NUL/],
      ['POST', '/api/v1/todos', { raw: '{"content":"x\\ud800"}' }, /body\.content .*surrogate/],
      ['POST', '/api/v1/todos', { body: { content: 'ok', tags: ['fine', '\udc00'] } }, /body\.tags\[1\] .*surrogate/],
      ['PUT', `/api/v1/todos/${todo}%00`, { body: { status: 'completed' } }, /path\.id .*NUL/],
      ['POST', `/api/v1/todos?x=%00`, { body: { content: 'ok' } }, /query\.x .*NUL/],
      ['POST', `/api/v1/contexts/${ctx}/enrich`, { raw: `{"source":"s","data":${deep(5000)}}` }, /body\.data(\.a)+ .*nested deeper/],
      ['POST', `/api/v1/contexts/${ctx}/enrich`, { raw: `{"source":"s","data":{"k\\u0000":1}}` }, /body\.data\["k\\u0000"\] has a key .*NUL/],
      ['POST', '/api/v1/commands', { body: { text: 'todo add x\u0000' } }, /body\.text .*NUL/],
      ['POST', '/api/v1/preview', { body: { text: 'list', as: 'sms:+1555\ud800' } }, /body\.as .*surrogate/],
    ];
    for (const [method, path, o, message] of cases) {
      const r = await gw.call(method, path, o.body, o);
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 400 });
      expect(r.json?.error?.message, `${method} ${path}`).toMatch(message);
    }
    expect(await counts()).toEqual(before);
  });

  it('keeps none of a replica batch when the database refuses one of its values', async () => {
    const before = await counts();
    const batch = [replicaCreate('CHITTY-TODO-B1', 'one'), replicaCreate('CHITTY-TODO-B2', 'two'), replicaCreate('CHITTY-TODO-B3', 'three\u0000')];
    // Straight to the hub (the HTTP edge would refuse the NUL first): Postgres refuses the third value.
    await expect(gw.hub.applyRemote('todos', batch)).rejects.toThrow();
    expect(await counts()).toEqual(before);
    const r = await gw.call('POST', '/api/v1/sync/todos', { messages: batch });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/body\.messages\[2\]\.payload\.entity\.data\.content .*NUL/);
    expect(await counts()).toEqual(before);
  });

  it('a chat message with a NUL or a lone surrogate (a platform cannot be answered 400) is recorded scrubbed and answered', async () => {
    const r = await gw.core.handle({
      channel: 'sms',
      address: '+15550002222',
      sender: 'sms:+15550002222',
      senderName: 'Ann\ud800',
      text: 'help\u0000',
      providerMessageId: 'SM-nul-1',
      receivedAt: new Date(),
    });
    expect(r.reply.kind).not.toBe('error');
    const row = await gw.core.inbound.get({ channel: 'sms', providerMessageId: 'SM-nul-1' });
    expect(row?.text).toBe('help\uFFFD');
    expect(row?.senderName).toBe('Ann\uFFFD');
  });

  it('set elements named like Object.prototype members are plain elements (was a 500 for "constructor")', async () => {
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];
    const r = await gw.call('POST', '/api/v1/topics', { title: 'Proto', tags: names, participants: ['constructor'] });
    expect(r.status).toBe(201);
    expect(r.json.tags).toEqual([...names].sort());
    const again = await gw.call('PUT', `/api/v1/topics/${r.json.chittyId}`, { tags: ['constructor'] });
    expect(again.status).toBe(200);
    expect(again.json.tags).toEqual(['constructor']);
    expect((await gw.call('GET', `/api/v1/topics/${r.json.chittyId}`)).json.participants).toEqual(['constructor']);
  });

  it('a preview records nothing: no inbound row, identity, pairing code or conversation, also for a stranger', async () => {
    await gw.call('POST', '/api/v1/todos', { content: 'Seen in the preview' });
    const before = await counts();
    const own = await gw.call('POST', '/api/v1/preview', { text: 'list' });
    expect(own.status).toBe(200);
    expect(JSON.stringify(own.json.reply)).toMatch(/Seen in the preview/);
    const stranger = await gw.call('POST', '/api/v1/preview', { text: 'list', as: 'sms:+15550001111' });
    expect(stranger.status).toBe(200);
    expect(stranger.json.reply.title).toMatch(/not paired/);
    expect(await counts()).toEqual(before);
  });
});
