import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, type ChannelError, DestinationNotFoundError, NetworkError, RateLimitedError, ServerError, ValidationError } from '../../src/core/channel-errors.ts';
import { startWebhookReceiver, type ScriptResponse, type WebhookReceiver } from '../../test/support/webhook-receiver.ts';
import { RawJson, WEBHOOK_CAPABILITIES, WEBHOOK_HEADERS, WebhookSender, signWebhook, verifyWebhook } from './index.ts';
import { signWebhookV2 } from './sign.ts';

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
  it('POSTs the exact JSON, signed with its own clock, with the public headers, and resolves on 2xx', async () => {
    const r = await receiver((req) => (req.n === 1 ? { status: 202, headers: { 'X-Request-Id': 'rcv-42' } } : undefined));
    const clock = 1_700_000_000_999; // ms: the timestamp header is whole seconds of the injected clock
    const sender = new WebhookSender({ secret, now: () => clock });
    const res = await sender.send(r.url, message, 'dlv-1');
    expect(res.status).toBe(202);
    expect(res.providerMessageId).toBe('rcv-42');

    const got = r.received[0]!;
    expect(got.raw).toBe(JSON.stringify(message));
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('ChittyChat-Webhook/1');
    expect(got.headers['x-chitty-delivery']).toBe('dlv-1');
    expect(got.headers['x-chitty-timestamp']).toBe('1700000000');
    // Shared secret (no per-subscription one): v2 (delivery id signed), then v1 for receivers that predate v2.
    expect(got.headers['x-chitty-signature']).toBe(`${signWebhookV2(secret, 'dlv-1', JSON.stringify(message), 1_700_000_000)} ${signWebhook(secret, JSON.stringify(message), 1_700_000_000)}`);

    const second = await sender.send(r.url, message, 'dlv-2');
    expect(second).toMatchObject({ status: 200, providerMessageId: null });
    expect(r.received.map((x) => [x.headers['x-chitty-delivery'], x.raw])).toEqual([
      ['dlv-1', JSON.stringify(message)],
      ['dlv-2', JSON.stringify(message)],
    ]);
  });

  it('calls beforeRequest once, after signing and before the receiver sees anything; not for a body it refuses', async () => {
    const r = await receiver();
    const seen: number[] = [];
    await new WebhookSender({ secret }).send(r.url, message, 'dlv-before', undefined, () => seen.push(r.received.length));
    expect(seen).toEqual([0]);
    expect(r.received).toHaveLength(1);
    const calls: string[] = [];
    const err = await failure(new WebhookSender({ secret, maxBodyBytes: 10 }).send(r.url, message, 'dlv-big', undefined, () => calls.push('before')));
    expect(err).toBeInstanceOf(ValidationError);
    expect(calls).toEqual([]);
  });

  it('reports how long the request took (ms covers a slow receiver)', async () => {
    const r = await receiver(() => ({ status: 200, delayMs: 150 }));
    const res = await new WebhookSender({ secret }).send(r.url, message, 'dlv-slow');
    expect(res.ms).toBeGreaterThanOrEqual(140); // the receiver held the answer back 150 ms
    const fast = await receiver();
    const quick = await new WebhookSender({ secret }).send(fast.url, message, 'dlv-fast');
    expect(quick.ms).toBeLessThan(res.ms);
  });

  it('sends a digest envelope as one request, byte for byte', async () => {
    const r = await receiver();
    const messages = [
      { ...message, id: 'a' },
      { ...message, id: 'b' },
      { ...message, id: 'c' },
    ];
    const envelope = { type: 'digest', count: 3, messages };
    await new WebhookSender({ secret }).send(r.url, envelope, 'dlv-d');
    expect(r.count()).toBe(1);
    expect(r.received[0]!.raw).toBe(JSON.stringify(envelope));
    expect(r.received[0]!.valid).toBe(true);
  });

  it('sends RawJson as it is, without serializing it again', async () => {
    const r = await receiver();
    const json = '{"id":"raw-1", "spaced" : true}';
    await new WebhookSender({ secret }).send(r.url, new RawJson(json), 'dlv-raw');
    expect(r.received[0]!.raw).toBe(json);
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
    expect(r.received.map((x) => [x.status, x.raw])).toEqual(
      Array(3)
        .fill(0)
        .map((_, i) => [i < 2 ? 500 : 200, JSON.stringify(message)]),
    );
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

  it('400 → ValidationError (not retryable); 401 → AuthError; 410 → DestinationNotFoundError; 404 is retried', async () => {
    const statuses = [400, 401, 410, 404];
    const r = await receiver((req) => ({ status: statuses[req.n - 1] ?? 200, body: '{"error":"nope"}' }));
    const sender = new WebhookSender({ secret });
    const e400 = await failure(sender.send(r.url, message, 'd'));
    expect(e400).toBeInstanceOf(ValidationError);
    expect((e400 as ValidationError).retryable).toBe(false);
    const e401 = await failure(sender.send(r.url, message, 'd'));
    expect(e401).toBeInstanceOf(AuthError);
    expect((e401 as AuthError).retryable).toBe(false);
    expect(await failure(sender.send(r.url, message, 'd'))).toBeInstanceOf(DestinationNotFoundError);
    // A missing route is more often a deploy than a goodbye: retried, and it disables nothing.
    const e404 = await failure(sender.send(r.url, message, 'd'));
    expect(e404).not.toBeInstanceOf(DestinationNotFoundError);
    expect((e404 as ChannelError).retryable).toBe(true);
    expect((e404 as ChannelError).message).toMatch(/410 Gone/);
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

  it('refuses a port fetch blocks (25, SMTP) → NetworkError, nothing sent', async () => {
    const err = (await failure(new WebhookSender({ secret }).send('http://127.0.0.1:25/hook', message, 'd'))) as NetworkError;
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toContain('bad port');
  });

  it('timeout → NetworkError', async () => {
    const r = await receiver(() => ({ status: 200, delayMs: 2_000 }));
    const started = Date.now();
    const err = (await failure(new WebhookSender({ secret, timeoutMs: 150 }).send(r.url, message, 'd'))) as NetworkError;
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toContain('timed out after 150 ms');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a receiver that answers 2xx and then stalls mid-body → the whole-request timeout still fires', async () => {
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
        res.write('partial'); // and never the rest
      });
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
    try {
      const started = Date.now();
      const err = (await failure(new WebhookSender({ secret, timeoutMs: 150 }).send(url, message, 'd'))) as NetworkError;
      expect(err).toBeInstanceOf(NetworkError);
      expect(err.message).toContain('timed out after 150 ms');
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });

  it('a 2xx whose body is cut off → NetworkError (the delivery is not counted as done)', async () => {
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
        res.write('partial', () => req.socket.destroy());
      });
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
    try {
      const err = (await failure(new WebhookSender({ secret }).send(url, message, 'd'))) as NetworkError;
      expect(err).toBeInstanceOf(NetworkError);
      expect(err.retryable).toBe(true);
      expect(err.message).toContain('request failed');
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });

  it('reads at most a few KiB of an endless answer: a 2xx resolves, an error quotes the start of its body', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let n = 0;
    const srv = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        n++;
        res.writeHead(n === 2 ? 503 : 200, { 'content-type': 'text/plain' });
        res.write(n === 2 ? 'busy busy ' : 'ok ');
        const more = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', more);
        };
        more(); // streams until the sender hangs up
      });
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
    try {
      const sender = new WebhookSender({ secret, timeoutMs: 2_000 });
      await expect(sender.send(url, message, 'd1')).resolves.toMatchObject({ status: 200 });
      const err = (await failure(sender.send(url, message, 'd2'))) as ServerError;
      expect(err).toBeInstanceOf(ServerError);
      expect(err.status).toBe(503);
      expect(err.message).toContain('busy busy xxx');
      await expect(sender.send(url, message, 'd3')).resolves.toMatchObject({ status: 200 });
      expect(n).toBe(3);
      await sender.close();
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });

  it.each([['ftp://example.com/hook'], ['file:///etc/passwd'], ['javascript:alert(1)'], ['not a url'], ['https://user:pass@example.com/hook']])(
    'rejects %s before sending → ValidationError',
    async (url) => {
      const err = await failure(new WebhookSender({ secret }).send(url, message, 'd'));
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).retryable).toBe(false);
      expect((err as ValidationError).message).not.toContain('pass@');
    },
  );

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

  it('reuses keep-alive connections for sequential sends, also after an error answer', async () => {
    const sockets = new Set<unknown>();
    let connections = 0;
    let n = 0;
    const srv = createServer((req, res) => {
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => {
        n++;
        res.writeHead(n === 3 ? 500 : 200, { 'content-type': 'text/plain' });
        res.end(n === 3 ? 'try again' : 'ok');
      });
    });
    srv.on('connection', () => connections++);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;
    try {
      const sender = new WebhookSender({ secret });
      for (let i = 0; i < 10; i++) {
        if (i === 2) await expect(sender.send(url, message, `d${i}`)).rejects.toBeInstanceOf(ServerError);
        else await sender.send(url, message, `d${i}`);
      }
      expect(n).toBe(10);
      // undici may open a second connection while the first is being released, never one per request.
      expect(sockets.size).toBe(connections);
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });

  it('keeps up with many concurrent sends: each delivery arrives once, signed', async () => {
    const r = await startWebhookReceiver({ secret, verify: false });
    receivers.push(r);
    const sender = new WebhookSender({ secret });
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => sender.send(r.url, { ...message, id: `m${i}` }, `d${i}`)));
    expect(r.count()).toBe(n); // every send resolved only after its request was answered
    const deliveries = r.received.map((x) => x.headers['x-chitty-delivery']);
    expect(new Set(deliveries).size).toBe(n);
    const now = Math.floor(Date.now() / 1000);
    for (const x of r.received) {
      const signed = verifyWebhook(secret, x.raw, { timestamp: x.headers['x-chitty-timestamp'] as string, signature: x.headers['x-chitty-signature'] as string }, now);
      expect(signed.ok, String(x.headers['x-chitty-delivery'])).toBe(true);
      expect(JSON.parse(x.raw).id).toBe(`m${String(x.headers['x-chitty-delivery']).slice(1)}`);
    }
  });
});
