/** POST /api/v1/commands and /preview, pairing and subscriptions over HTTP, and `chitty say|preview`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/chitty.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';

describe('conversation API', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite', { CHITTY_ALLOWLIST: 'whatsapp:+447700900123' });
  });
  afterAll(async () => gw?.close());

  it('runs commands as the token owner and as an identity; `done 2` after `list` works per conversation', async () => {
    expect((await gw.call('POST', '/api/v1/commands', { text: 'project create Twelve' })).json.reply.kind).toBe('ok');
    expect((await gw.call('POST', '/api/v1/commands', { text: 'project use Twelve' })).status).toBe(200);
    for (let i = 1; i <= 12; i++) await gw.call('POST', '/api/v1/commands', { text: `todo add Task number ${i}${i === 3 ? ' --priority high' : ''}` });
    const list = await gw.call('POST', '/api/v1/commands', { text: 'todo list' });
    expect(list.json.reply.items).toHaveLength(12);
    const done = await gw.call('POST', '/api/v1/commands', { text: 'done 2', render: true });
    expect(done.json.reply).toMatchObject({ kind: 'ok', items: [{ text: 'Task number 2', status: 'completed' }] });
    expect(done.json.rendered.sms.length).toBeGreaterThan(0);

    // An allowlisted WhatsApp number is a member at once; its own conversation has no list yet.
    const wa = await gw.call('POST', '/api/v1/commands', { text: 'done 2', as: 'whatsapp:+447700900123' });
    expect(wa.json.reply).toMatchObject({ kind: 'error' });
    expect(wa.json.reply.text).toMatch(/list/);
  });

  it('answers a repeated messageId with the first answer and changes nothing', async () => {
    const a = await gw.call('POST', '/api/v1/commands', { text: 'add Exactly once', messageId: 'client-42' });
    const before = await gw.counts();
    const b = await gw.call('POST', '/api/v1/commands', { text: 'add Exactly once', messageId: 'client-42' });
    expect(b.json).toMatchObject({ duplicate: true, reply: a.json.reply });
    expect(await gw.counts()).toEqual(before);
  });

  it('rejects a bad "as" and bad bodies with 400', async () => {
    expect((await gw.call('POST', '/api/v1/commands', { text: 'list', as: 'sms:555' })).json.error.message).toMatch(/E.164/);
    expect((await gw.call('POST', '/api/v1/commands', { text: '' })).status).toBe(400);
    expect((await gw.call('POST', '/api/v1/commands', { text: 'list' }, { token: null })).status).toBe(401);
  });

  it('pairs an unknown number through the API', async () => {
    const r = await gw.call('POST', '/api/v1/commands', { text: 'add hi', as: 'sms:+15550002222' });
    expect(r.json.reply.title).toMatch(/not paired/);
    const pending = await gw.call('GET', '/api/v1/pairing');
    const code = pending.json.items.find((p: any) => p.identityKey === 'sms:+15550002222').code;
    const approved = await gw.call('POST', `/api/v1/pairing/${code}/approve`);
    expect(approved.json.identityKey).toBe('sms:+15550002222');
    expect((await gw.call('POST', '/api/v1/commands', { text: 'add hi', as: 'sms:+15550002222' })).json.reply.kind).toBe('ok');
  });

  it('previews a read-only command for every channel, within their limits; refuses to preview a change', async () => {
    const before = await gw.counts();
    const r = await gw.call('POST', '/api/v1/preview', { text: 'todo list --project Twelve' });
    expect(r.status).toBe(200);
    const { slack, discord, sms, whatsapp, email, text } = r.json.rendered;
    expect(slack.blocks.length).toBeGreaterThan(0);
    expect(slack.blocks.length).toBeLessThanOrEqual(50);
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    expect(discord.content.length).toBeLessThanOrEqual(2000);
    expect(sms.length).toBeGreaterThan(0);
    for (const m of sms) expect(m.length).toBeLessThanOrEqual(160);
    expect(whatsapp.length).toBeLessThanOrEqual(4096);
    expect(email.headers['Message-ID']).toMatch(/^<.+@.+>$/);
    expect(email.html).toContain('Task number 1');
    expect(text).toContain('Task number 12');
    expect(await gw.counts()).toEqual(before);

    const change = await gw.call('POST', '/api/v1/preview', { text: 'todo add Should not exist' });
    expect(change.status).toBe(400);
    expect(change.json.error.message).toMatch(/commands/);
    expect(await gw.counts()).toEqual(before);
  });

  it('previews a SyncMessage as every channel would receive the change', async () => {
    const t = (await gw.call('POST', '/api/v1/todos', { content: '<!channel> @everyone ship it' })).json;
    const m = {
      id: 'preview-1',
      type: 'state_update',
      source: { nodeId: 'hub', platform: 'api' },
      payload: { domain: 'todos', operation: 'update', entity: { chittyId: t.chittyId, data: { ...t, status: 'completed' } }, delta: {} },
      metadata: { timestamp: new Date().toISOString(), vectorClock: { hub: 2 } },
    };
    const r = await gw.call('POST', '/api/v1/preview', { syncMessage: m });
    expect(r.status).toBe(200);
    expect(r.json.reply.title).toMatch(/Todo/);
    expect(JSON.stringify(r.json.rendered.slack)).not.toContain('<!channel>');
    expect(r.json.rendered.discord.allowed_mentions).toEqual({ parse: [] });
  });

  it('manages subscriptions over HTTP', async () => {
    const P = (await gw.call('GET', '/api/v1/projects')).json.items[0].chittyId;
    const created = await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: 'http://127.0.0.1:9/hook', projectId: P, domains: ['todos'] });
    expect(created.status).toBe(201);
    const again = await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: 'http://127.0.0.1:9/hook', projectId: P, domains: ['todos', 'sessions'] });
    expect(again.json.id).toBe(created.json.id); // same destination + scope: updated, not duplicated
    expect((await gw.call('GET', '/api/v1/subscriptions?channel=webhook')).json.items).toHaveLength(1);
    expect((await gw.call('POST', '/api/v1/subscriptions', { channel: 'pigeon', address: 'x' })).status).toBe(400);
    expect((await gw.call('DELETE', `/api/v1/subscriptions/${created.json.id}`)).status).toBe(200);
    expect((await gw.call('DELETE', `/api/v1/subscriptions/${created.json.id}`)).status).toBe(404);
  });

  it('`chitty say` and `chitty preview` print the text rendering and every channel', async () => {
    const out: string[] = [];
    const io = { env: { CHITTY_URL: gw.url, CHITTY_API_TOKEN: TEST_TOKEN }, out: (s: string) => out.push(s), err: (s: string) => out.push(`ERR ${s}`) };
    expect(await runCli(['say', 'project list'], io)).toBe(0);
    expect(out.join('\n')).toContain('Twelve');
    out.length = 0;
    expect(await runCli(['preview', 'todo list --project Twelve'], io)).toBe(0);
    const text = out.join('\n');
    for (const ch of ['slack', 'discord', 'sms', 'whatsapp', 'email', 'text']) expect(text).toContain(`=== ${ch} ===`);
  });
});
