/**
 * Paused subscriptions: PATCH /api/v1/subscriptions/:id {"paused": true} keeps the subscription but
 * the fan-out skips it; resumed, it gets the next change again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

describe('paused subscriptions', () => {
  let gw: TestGateway;
  const receivers: WebhookReceiver[] = [];
  beforeAll(async () => {
    gw = await startTestGateway('pglite', { CHITTY_DIGEST_WINDOW_MS: '50' }, { pipeline: { relayPollMs: 50 } });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await gw?.close();
  });

  it('the fan-out skips a paused subscription and serves it again once resumed', async () => {
    const [paused, active] = [await startWebhookReceiver({ secret: 'test-webhook-secret' }), await startWebhookReceiver({ secret: 'test-webhook-secret' })];
    receivers.push(paused, active);
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Paused or not' })).json.chittyId as string;
    const subP = (await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: paused.url, projectId: P, domains: ['todos'] })).json;
    const subA = (await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: active.url, projectId: P, domains: ['todos'] })).json;
    expect(subP.paused).toBe(false);

    const p = await gw.call('PATCH', `/api/v1/subscriptions/${subP.id}`, { paused: true });
    expect(p.status).toBe(200);
    expect(p.json).toMatchObject({ id: subP.id, paused: true });
    expect((await gw.call('GET', '/api/v1/subscriptions')).json.items.find((s: { id: string }) => s.id === subP.id).paused).toBe(true);

    const t = (await gw.call('POST', '/api/v1/todos', { content: 'Only for the active one', projectId: P })).json;
    await active.waitFor(() => active.received.some((r) => r.messages.some((m) => m.payload.entity.chittyId === t.chittyId)), 15_000);
    // One fan-out pass writes every destination's ledger row for a message: the active one's row is
    // there, so the paused one would be too.
    const rows = (await gw.call('GET', `/api/v1/deliveries?entityId=${t.chittyId}`)).json.items;
    expect(rows.map((d: { subscriptionId: string }) => d.subscriptionId)).toEqual([subA.id]);
    expect(paused.count()).toBe(0);

    expect((await gw.call('PATCH', `/api/v1/subscriptions/${subP.id}`, { paused: false })).json.paused).toBe(false);
    await gw.call('PUT', `/api/v1/todos/${t.chittyId}`, { status: 'completed' });
    await paused.waitFor(() => paused.received.some((r) => r.messages.some((m) => m.payload.entity.data.status === 'completed')), 15_000);

    expect((await gw.call('PATCH', '/api/v1/subscriptions/CHITTY-SUB-NOPE', { paused: true })).status).toBe(404);
    expect((await gw.call('PATCH', `/api/v1/subscriptions/${subP.id}`, { paused: 'yes' })).status).toBe(400);
  });
});
