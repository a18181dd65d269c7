import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  DestinationNotFoundError,
  NetworkError,
  RateLimitedError,
  ServerError,
  ValidationError,
} from '../../src/core/channel-errors.ts';
import { startWebhookReceiver, type ScriptResponse, type WebhookReceiver } from '../../test/support/webhook-receiver.ts';
import { WEBHOOK_CAPABILITIES, WEBHOOK_HEADERS, WebhookSender, signWebhook, verifyWebhook } from './index.ts';

const secret = 'test-webhook-secret';
const message = { id: 'msg-1', type: 'state_update', payload: { domain: 'todos', operation: 'create', entity: { chittyId: 'CT-1', data: { text: 'ünïcode ✓' } } } };

let receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

async function receiver(script?: (req: { n: number }) => ScriptResponse | undefined) {
  const r = await startWebhookReceiver(script === undefined ? { secret } : { secret, script });
  receivers.push(r);
  return r;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the send to fail');
}

describe('WebhookSender', () => {
  it('POSTs the signed JSON with the public headers and resolves on 2xx', async () => {
    const r = await receiver((req) => (req.n === 1 ? { status: 202, headers: { 'X-Request-Id': 'rcv-42' } } : undefined));
    const sender = new WebhookSender({ secret });
    const res = await sender.send(r.url, message, 'dlv-1');
    expect(res.status).toBe(202);
    expect(res.providerMessageId).toBe('rcv-42');
    expect(res.ms).toBeGreaterThanOrEqual(0);

    const got = r.received[0]!;
    expect(got.valid).toBe(true);
    expect(got.body).toEqual(message);
    expect(got.raw).toBe(JSON.stringify(message));
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('ChittyChat-Webhook/1');
    expect(got.headers['x-chitty-delivery']).toBe('dlv-1');
    const ts = Number(got.headers['x-chitty-timestamp']);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(5);
    expect(got.headers['x-chitty-signature']).toBe(signWebhook(secret, got.raw, ts));

    const second = await sender.send(r.url, message, 'dlv-2');
    expect(second).toMatchObject({ status: 200, providerMessageId: null });
    expect(r.messageIds()).toEqual(['msg-1', 'msg-1']);
    expect(r.duplicates()).toBe(1);
  });

  it('sends a digest envelope as one request; the receiver flattens it', async () => {
    const r = await receiver();
    const messages = [{ ...message, id: 'a' }, { ...message, id: 'b' }, { ...message, id: 'c' }];
    await new WebhookSender({ secret }).send(r.url, { type: 'digest', count: 3, messages }, 'dlv-d');
    expect(r.count()).toBe(1);
    expect(r.messageIds()).toEqual(['a', 'b', 'c']);
    expect(r.duplicates()).toBe(0);
    expect(r.received[0]!.valid).toBe(true);
  });

  it('a receiver with another secret records the delivery as invalid', async () => {
    const r = await startWebhookReceiver({ secret: 'not-the-same' });
    receivers.push(r);
    await new WebhookSender({ secret }).send(r.url, message, 'dlv-x');
    expect(r.received[0]!.valid).toBe(false);
  });

  it('500 → ServerError (retryable); the script can then recover', async () => {
    const r = await receiver((req) => (req.n <= 2 ? { status: 500, body: 'database on fire' } : undefined));
    const sender = new WebhookSender({ secret });
    for (let i = 0; i < 2; i++) {
      const err = await failure(sender.send(r.url, message, 'dlv-1'));
      expect(err).toBeInstanceOf(ServerError);
      expect((err as ServerError).retryable).toBe(true);
      expect((err as ServerError).status).toBe(500);
      expect((err as ServerError).message).toContain('database on fire');
    }
    await expect(sender.send(r.url, message, 'dlv-1')).resolves.toMatchObject({ status: 200 });
    expect(r.count()).toBe(3);
    expect(r.messageIds()).toEqual(['msg-1']); // only the accepted delivery counts
    expect(r.duplicates()).toBe(0);
  });

  it('429 with Retry-After: 2 → RateLimitedError retryAfterMs 2000', async () => {
    const r = await receiver(() => ({ status: 429, headers: { 'Retry-After': '2' } }));
    const err = await failure(new WebhookSender({ secret }).send(r.url, message, 'dlv-1'));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(2000);
    expect((err as RateLimitedError).retryable).toBe(true);
  });

  it('429 with an HTTP-date Retry-After', async () => {
    const when = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000).toUTCString();
    const r = await receiver(() => ({ status: 429, headers: { 'Retry-After': when } }));
    const err = (await failure(new WebhookSender({ secret }).send(r.url, message, 'dlv-1'))) as RateLimitedError;
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryAfterMs).toBeGreaterThan(55_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(61_000);
  });

  it('400 → ValidationError (not retryable); 401 → AuthError; 410 → DestinationNotFoundError', async () => {
    const statuses = [400, 401, 410];
    const r = await receiver((req) => ({ status: statuses[req.n - 1] ?? 200, body: '{"error":"nope"}' }));
    const sender = new WebhookSender({ secret });
    const e400 = await failure(sender.send(r.url, message, 'd'));
    expect(e400).toBeInstanceOf(ValidationError);
    expect((e400 as ValidationError).retryable).toBe(false);
    const e401 = await failure(sender.send(r.url, message, 'd'));
    expect(e401).toBeInstanceOf(AuthError);
    expect((e401 as AuthError).retryable).toBe(false);
    expect(await failure(sender.send(r.url, message, 'd'))).toBeInstanceOf(DestinationNotFoundError);
  });

  it('does not follow redirects', async () => {
    const target = await receiver();
    const r = await receiver(() => ({ status: 307, headers: { Location: target.url } }));
    const err = await failure(new WebhookSender({ secret }).send(r.url, message, 'd'));
    expect(err).toBeInstanceOf(ValidationError);
    expect(target.count()).toBe(0);
  });

  it('connection refused → NetworkError with the cause', async () => {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as AddressInfo;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const err = (await failure(new WebhookSender({ secret }).send(`http://127.0.0.1:${port}/hook`, message, 'd'))) as NetworkError;
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.retryable).toBe(true);
    expect(err.cause).toBeDefined();
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('timeout → NetworkError', async () => {
    const r = await receiver(() => ({ status: 200, delayMs: 2_000 }));
    const started = Date.now();
    const err = (await failure(new WebhookSender({ secret, timeoutMs: 150 }).send(r.url, message, 'd'))) as NetworkError;
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toContain('timed out after 150 ms');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it.each([
    ['ftp://example.com/hook'],
    ['file:///etc/passwd'],
    ['javascript:alert(1)'],
    ['not a url'],
    ['https://user:pass@example.com/hook'],
  ])('rejects %s before sending → ValidationError', async (url) => {
    const err = await failure(new WebhookSender({ secret }).send(url, message, 'd'));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).retryable).toBe(false);
    expect((err as ValidationError).message).not.toContain('pass@');
  });

  it('rejects bodies over the size limit and bad delivery ids before sending', async () => {
    const r = await receiver();
    const sender = new WebhookSender({ secret, maxBodyBytes: 100 });
    expect(await failure(sender.send(r.url, { text: 'x'.repeat(200) }, 'd'))).toBeInstanceOf(ValidationError);
    expect(await failure(sender.send(r.url, message, 'bad\r\nid'))).toBeInstanceOf(ValidationError);
    expect(await failure(sender.send(r.url, undefined, 'd'))).toBeInstanceOf(ValidationError);
    expect(r.count()).toBe(0);
  });

  it('exports header names and capabilities', () => {
    expect(WEBHOOK_HEADERS).toMatchObject({ timestamp: 'X-Chitty-Timestamp', signature: 'X-Chitty-Signature', delivery: 'X-Chitty-Delivery' });
    expect(WEBHOOK_CAPABILITIES).toMatchObject({ supportsThreads: false, supportsReactions: false, supportsButtons: false, supportsRichText: false, maxMessageLength: 1_000_000 });
  });

  it('keeps up with many concurrent sends over keep-alive (receiver without verification)', async () => {
    const r = await startWebhookReceiver({ secret, verify: false });
    receivers.push(r);
    const sender = new WebhookSender({ secret });
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => sender.send(r.url, { ...message, id: `m${i}` }, `d${i}`)));
    await r.waitFor(() => r.count() === n, 5_000);
    expect(r.messageIds()).toHaveLength(n);
    expect(r.duplicates()).toBe(0);
    expect(verifyWebhook(secret, r.received[0]!.raw, { timestamp: r.received[0]!.headers['x-chitty-timestamp'] as string, signature: r.received[0]!.headers['x-chitty-signature'] as string }, Math.floor(Date.now() / 1000)).ok).toBe(true);
  });
});
