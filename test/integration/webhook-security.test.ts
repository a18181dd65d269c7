/**
 * Webhook egress policy and per-subscription secrets through the API (issue 14): what is refused
 * at subscribe time, the secret shown once, rotation with a grace period, and a refused delivery
 * that keeps nothing of the internal service's answer.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../bots/webhook/sign.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

describe('webhook egress policy (CHITTY_WEBHOOK_ALLOW_PRIVATE=false)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite', { CHITTY_WEBHOOK_ALLOW_PRIVATE: 'false', CHITTY_WEBHOOK_ALLOW_HOSTS: 'allowed.example' });
  });
  afterAll(async () => gw?.close());
  const subscribe = (address: string) => gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address });

  it.each([
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_INFO',
    'not a url',
    'http://127.0.0.1:8080/hook',
    'http://[::1]/',
    'http://0.0.0.0/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.7/',
    'http://192.168.1.1/',
    'http://localhost/',
  ])('refuses %s with a 400 naming the address', async (address) => {
    const r = await subscribe(address);
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toMatch(/address/);
  });

  it('accepts a public https URL and a host in CHITTY_WEBHOOK_ALLOW_HOSTS', async () => {
    expect((await subscribe('https://hooks.example.com/chitty')).status).toBe(201);
    expect((await subscribe('http://allowed.example:8080/in')).status).toBe(201);
  });
});

describe('per-subscription webhook secrets', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite', { CHITTY_DIGEST_WINDOW_MS: '20' }, { pipeline: { relayPollMs: 50 } });
  });
  afterAll(async () => gw?.close());

  it('shows the secret once, never in the list; rotation signs with old and new during the grace period', async () => {
    const r = await startWebhookReceiver({ secret: 'unused', verify: false });
    try {
      const P = (await gw.call('POST', '/api/v1/projects', { name: 'Secrets' })).json.chittyId;
      const created = (await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: r.url, projectId: P, domains: ['todos'] })).json;
      expect(created.secret).toMatch(/^whsec_/);
      const again = (await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: r.url, projectId: P, domains: ['todos'] })).json;
      expect(again.secret).toBeUndefined();
      const listed = (await gw.call('GET', '/api/v1/subscriptions')).json.items;
      expect(JSON.stringify(listed)).not.toContain(created.secret);

      const rotated = (await gw.call('POST', `/api/v1/subscriptions/${created.id}/rotate-secret`, { graceSeconds: 3600 })).json;
      expect(rotated.secret).toMatch(/^whsec_/);
      expect(rotated.secret).not.toBe(created.secret);
      await gw.call('POST', '/api/v1/todos', { content: 'after rotation', projectId: P });
      await r.waitFor(() => r.count() >= 1, 10_000);
      const got = r.received[0]!;
      const h = got.headers as Record<string, string>;
      const now = Math.floor(Date.now() / 1000);
      // Both secrets verify, through the X-Chitty v2 signature (delivery id signed) and Standard Webhooks.
      for (const k of [created.secret, rotated.secret]) {
        expect(verifyWebhook(k, got.raw, { timestamp: h['x-chitty-timestamp'], signature: h['x-chitty-signature'], delivery: h['x-chitty-delivery'] }, now)).toEqual({ ok: true });
        expect(() => new Webhook(k).verify(got.raw, h)).not.toThrow();
      }
      // Another delivery id under the same signature is refused (the id is inside the signed string).
      expect(verifyWebhook(rotated.secret, got.raw, { timestamp: h['x-chitty-timestamp'], signature: h['x-chitty-signature'], delivery: 'other-id' }, now).ok).toBe(false);
      // Neither the shared secret nor a v1= signature for subscriptions with their own secret.
      expect(h['x-chitty-signature']).not.toMatch(/v1=/);
      expect(verifyWebhook('test-webhook-secret', got.raw, { timestamp: h['x-chitty-timestamp'], signature: h['x-chitty-signature'], delivery: h['x-chitty-delivery'] }, now).ok).toBe(false);
    } finally {
      await r.close();
    }
  });

  it('rotate-secret answers 404 for a subscription that is not a webhook', async () => {
    const sms = (await gw.call('POST', '/api/v1/subscriptions', { channel: 'sms', address: '+15550001111' })).json;
    expect((await gw.call('POST', `/api/v1/subscriptions/${sms.id}/rotate-secret`)).status).toBe(404);
  });
});
