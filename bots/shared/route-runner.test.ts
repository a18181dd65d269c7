import { describe, expect, it } from 'vitest';
import type { InboundRequest, WebhookRoute } from '../../src/core/channel-adapter.ts';
import type { ConversationCore, CoreResult } from '../../src/core/conversation-core.ts';
import { createLogger } from '../../src/log.ts';
import { runWebhook } from './route-runner.ts';

const logger = createLogger('silent');
const req: InboundRequest = { method: 'POST', url: '/x', publicUrl: 'http://h/x', headers: {}, rawBody: Buffer.from('{}'), receivedAt: new Date() };
const result = (text: string, duplicate = false): CoreResult => ({ reply: { kind: 'ok', text }, page: 1, duplicate });
const message = { channel: 'api' as const, address: 'a', sender: 'api:owner', text: 'list', providerMessageId: 'p1', receivedAt: new Date() };

function route(over: Partial<WebhookRoute<string>> = {}, late: string[] = []): WebhookRoute<string> {
  return {
    method: 'POST',
    url: '/x',
    ackWithinMs: 50,
    verify: () => ({ ok: true }),
    parse: () => ({ kind: 'message', message, respond: 'r' }),
    inline: (r) => ({ status: 200, contentType: 'text/plain', body: `inline:${r.reply.text}` }),
    deferred: () => ({ status: 200, contentType: 'text/plain', body: 'deferred' }),
    late: async (r) => void late.push(r.reply.text ?? ''),
    ...over,
  };
}

function core(answer: Promise<CoreResult> | Error): ConversationCore {
  return { submit: async () => (answer instanceof Error ? Promise.reject(answer) : { recorded: 'new', answer }) } as unknown as ConversationCore;
}

describe('runWebhook', () => {
  it('answers inline when the core answers in time', async () => {
    const a = await runWebhook(route(), req, { core: core(Promise.resolve(result('done'))), logger });
    expect(a.body).toBe('inline:done');
  });

  it('acknowledges at once and answers late when the core is slow, never holding the ack', async () => {
    const late: string[] = [];
    let finish!: (r: CoreResult) => void;
    const a = await runWebhook(route({}, late), req, { core: core(new Promise((r) => (finish = r))), logger });
    expect(a.body).toBe('deferred');
    finish(result('later'));
    await new Promise((r) => setImmediate(r));
    expect(late).toEqual(['later']);
  });

  it('does not send a late answer twice for a re-delivery', async () => {
    const late: string[] = [];
    await runWebhook(route({ alwaysLate: () => true }, late), req, { core: core(Promise.resolve(result('first', true))), logger });
    await new Promise((r) => setImmediate(r));
    expect(late).toEqual([]);
  });

  it('refuses a bad signature with 401 (or the status the route names) and records nothing', async () => {
    const c = core(new Error('must not be called'));
    expect((await runWebhook(route({ verify: () => ({ ok: false, reason: 'bad' }) }), req, { core: c, logger })).status).toBe(401);
    expect((await runWebhook(route({ verify: () => ({ ok: false, reason: 'bad', status: 403 }) }), req, { core: c, logger })).status).toBe(403);
  });

  it('answers 400 for a body that cannot be read, 503 + Retry-After when it cannot be recorded', async () => {
    const bad = await runWebhook(route({ parse: () => JSON.parse('{') }), req, { core: core(Promise.resolve(result('x'))), logger });
    expect(bad.status).toBe(400);
    const down = await runWebhook(route(), req, { core: core(new Error('connect ECONNREFUSED 127.0.0.1:5432')), logger });
    expect(down.status).toBe(503);
    expect(down.headers?.['retry-after']).toBe('5');
  });
});
