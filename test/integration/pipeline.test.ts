/**
 * The delivery pipeline on real Redis and Postgres: outbox → relay → fan-out → ledger →
 * delivery jobs → signed webhooks to loopback receivers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/chitty.ts';
import { RateLimitedError } from '../../src/core/channel-errors.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';
import { Webhook } from 'standardwebhooks';
import { startWebhookReceiver, trustSecret, type WebhookReceiver } from '../support/webhook-receiver.ts';

const SECRET = 'test-webhook-secret';

/** An email "adapter" that is told off platform-wide once (like Discord's global rate limit). */
const emailSends: { at: number; address: string; count: number }[] = [];
const platformLimitedEmail = {
  async send(batch: { address: string; messagesJson: string[] }) {
    emailSends.push({ at: Date.now(), address: batch.address, count: batch.messagesJson.length });
    if (emailSends.length === 1) throw new RateLimitedError('email provider: slow down', 'email', 1500, { scope: 'platform' });
    return { providerMessageId: `mail-${emailSends.length}` };
  },
};

/** Resolves when `pred()` is true (polled); rejects after `timeoutMs`. */
async function until(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
const receivers: WebhookReceiver[] = [];
async function receiver(script?: Parameters<typeof startWebhookReceiver>[0]['script']) {
  const r = await startWebhookReceiver({ secret: SECRET, ...(script ? { script } : {}) });
  receivers.push(r);
  return r;
}

describe('reliable fan-out', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(
      'postgres',
      { CHITTY_DIGEST_WINDOW_MS: '100', CHITTY_RETRY_BASE_MS: '1000', CHITTY_DELIVERY_ATTEMPTS: '4', CHITTY_RATE_LIMITS: 'webhook=100/1000' },
      {
        pipeline: { relayPollMs: 50, sweeper: { everyMs: 500, deliveryTimeoutMs: 5000, fanoutTimeoutMs: 5000 }, senders: { email: platformLimitedEmail } },
      },
    );
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(async () => gw?.close());

  /** The ledger is updated just after the receiver answers: poll it. */
  async function ledgerFor(entityId: string, done: (rows: any[]) => boolean): Promise<any[]> {
    let rows: any[] = [];
    for (let i = 0; i < 100; i++) {
      rows = (await gw.call('GET', `/api/v1/deliveries?entityId=${entityId}`)).json.items;
      if (done(rows)) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    return rows;
  }

  /**
   * Every delivery of these entities is sent and no delivery job is waiting, delayed or running:
   * nothing more can reach a receiver (a request only leaves from inside a job).
   */
  async function settled(entityIds: string[], expectedRows: number): Promise<void> {
    await until(
      async () => {
        let sent = 0;
        for (const id of entityIds) sent += (await gw.call('GET', `/api/v1/deliveries?entityId=${id}`)).json.items.filter((d: any) => d.status === 'sent').length;
        if (sent < expectedRows) return false;
        const c = await gw.queues.deliver.webhook.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children');
        return Object.values(c).every((n) => n === 0);
      },
      20_000,
      `${expectedRows} deliveries sent and the webhook queue idle`,
    );
  }

  async function project(name: string): Promise<string> {
    return (await gw.call('POST', '/api/v1/projects', { name })).json.chittyId;
  }
  async function subscribe(url: string, projectId: string) {
    const r = await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: url, projectId, domains: ['todos'] });
    trustSecret(url, r.json.secret);
    expect(r.status).toBe(201);
    return r.json;
  }

  it('delivers a change to 3 webhook destinations exactly once each, signed', async () => {
    const P = await project('Three');
    const rs = [await receiver(), await receiver(), await receiver()];
    const subs: any[] = [];
    for (const r of rs) subs.push(await subscribe(r.url, P));
    const t = (await gw.call('POST', '/api/v1/todos', { content: 'Tell everyone', projectId: P })).json;
    await Promise.all(rs.map((r) => r.waitFor(() => r.messageIds().length >= 1, 10_000)));
    await settled([t.chittyId], 3); // then nothing else can arrive
    for (const [i, r] of rs.entries()) {
      expect(r.count()).toBe(1);
      expect(r.received[0]!.valid).toBe(true);
      // Each subscription's own secret, shown once at subscribe; the delivery id is signed (v2), no shared-secret v1.
      expect(subs[i].secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(r.received[0]!.headers['x-chitty-signature']).toMatch(/^v2=[0-9a-f]{64}$/);
      // Standard Webhooks: the standardwebhooks library verifies it with the subscription's secret, and refuses another's.
      const h = r.received[0]!.headers as Record<string, string>;
      expect(new Webhook(subs[i].secret).verify(r.received[0]!.raw, h)).toMatchObject({ type: 'state_update' });
      expect(() => new Webhook(subs[(i + 1) % 3].secret).verify(r.received[0]!.raw, h)).toThrow();
      expect(r.received[0]!.body).toMatchObject({ type: 'state_update', payload: { entity: { chittyId: t.chittyId } } });
    }
    const ledger = await ledgerFor(t.chittyId, (rows) => rows.length === 3 && rows.every((d) => d.status === 'sent'));
    expect(ledger.map((d: any) => d.status)).toEqual(['sent', 'sent', 'sent']);
    const status = (await gw.call('GET', `/api/v1/sync/todos/${t.chittyId}/status`)).json;
    expect(status.deliveries).toMatchObject({ sent: 3, dead: 0 });
  });

  it('retries a destination answering 500 twice and delivers on the 3rd try', async () => {
    const P = await project('Flaky');
    const r = await receiver(({ n }) => (n <= 2 ? { status: 500, body: 'boom' } : undefined));
    await subscribe(r.url, P);
    const t = (await gw.call('POST', '/api/v1/todos', { content: 'Eventually', projectId: P })).json;
    await r.waitFor(() => r.messageIds().length >= 1, 15_000);
    expect(r.received.map((x) => x.status)).toEqual([500, 500, 200]);
    const [d] = await ledgerFor(t.chittyId, (rows) => rows[0]?.status === 'sent');
    expect(d).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('waits the Retry-After of a 429 before trying again', async () => {
    const P = await project('Busy');
    const r = await receiver(({ n }) => (n === 1 ? { status: 429, headers: { 'Retry-After': '2' } } : undefined));
    await subscribe(r.url, P);
    await gw.call('POST', '/api/v1/todos', { content: 'Patience', projectId: P });
    await r.waitFor(() => r.messageIds().length >= 1, 15_000);
    expect(r.received.map((x) => x.status)).toEqual([429, 200]);
    expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(2000);
  });

  it('holds a destination for the Retry-After of a 429, also for changes that arrive during the request', async () => {
    const P = await project('Crowded');
    // The first request is answered 429 (Retry-After: 2) only after 1 s: more changes arrive meanwhile.
    const r = await receiver(({ n }) => (n === 1 ? { status: 429, headers: { 'Retry-After': '2' }, delayMs: 1000 } : undefined));
    await subscribe(r.url, P);
    const ids = [(await gw.call('POST', '/api/v1/todos', { content: 'Crowded 0', projectId: P })).json.chittyId as string];
    await r.waitFor(() => r.count() >= 1, 10_000);
    for (let i = 1; i <= 3; i++) ids.push((await gw.call('POST', '/api/v1/todos', { content: `Crowded ${i}`, projectId: P })).json.chittyId);
    await settled(ids, 4);
    expect(r.received[0]!.status).toBe(429);
    const answered = r.received[0]!.at + 1000; // the 429 left the receiver no earlier than this
    expect(r.received[1]!.at - answered).toBeGreaterThanOrEqual(2000);
    const carried = r.received.filter((x) => x.status === 200).flatMap((x) => x.messages.map((m: any) => m.payload.entity.chittyId));
    expect([...carried].sort()).toEqual([...ids].sort()); // each change once: nothing lost, nothing twice
  });

  it('holds a destination during the retry backoff after a 5xx, also for changes that arrive during the request', async () => {
    const P = await project('Shaky');
    const r = await receiver(({ n }) => (n === 1 ? { status: 503, body: 'down', delayMs: 500 } : undefined));
    await subscribe(r.url, P);
    const ids = [(await gw.call('POST', '/api/v1/todos', { content: 'Shaky 0', projectId: P })).json.chittyId as string];
    await r.waitFor(() => r.count() >= 1, 10_000);
    for (let i = 1; i <= 3; i++) ids.push((await gw.call('POST', '/api/v1/todos', { content: `Shaky ${i}`, projectId: P })).json.chittyId);
    await settled(ids, 4);
    expect(r.received[0]!.status).toBe(503);
    // CHITTY_RETRY_BASE_MS=1000 with jitter 0.5: the first retry comes 500–1000 ms after the failure.
    expect(r.received[1]!.at - (r.received[0]!.at + 500)).toBeGreaterThanOrEqual(500);
    const carried = r.received.filter((x) => x.status === 200).flatMap((x) => x.messages.map((m: any) => m.payload.entity.chittyId));
    expect([...carried].sort()).toEqual([...ids].sort());
  });

  it('dead-letters a 400 and sends it again with `chitty deliveries --retry` once fixed', async () => {
    const P = await project('Broken');
    let broken = true;
    const r = await receiver(() => (broken ? { status: 400, body: 'bad payload' } : undefined));
    await subscribe(r.url, P);
    const t = (await gw.call('POST', '/api/v1/todos', { content: 'Try again later', projectId: P })).json;
    let dead: any;
    for (let i = 0; i < 100 && !dead; i++) {
      await new Promise((res) => setTimeout(res, 100));
      dead = (await gw.call('GET', `/api/v1/deliveries?status=dead&entityId=${t.chittyId}`)).json.items[0];
    }
    expect(dead).toMatchObject({ status: 'dead', attempts: 1 });
    expect(dead.lastError).toMatch(/400/);
    expect(r.count()).toBe(1); // a 400 is not retried

    const out: string[] = [];
    const io = { env: { CHITTY_URL: gw.url, CHITTY_API_TOKEN: TEST_TOKEN }, out: (s: string) => out.push(s), err: (s: string) => out.push(`ERR ${s}`) };
    expect(await runCli(['deliveries', '--dead'], io)).toBe(0);
    expect(out.join('\n')).toContain(dead.id);
    broken = false;
    expect(await runCli(['deliveries', '--retry', dead.id], io)).toBe(0);
    await r.waitFor(() => r.messageIds().length >= 1, 10_000);
    expect((await ledgerFor(t.chittyId, (rows) => rows[0]?.status === 'sent'))[0].status).toBe('sent');
  });

  it('coalesces 50 rapid changes to one destination into a few digests', async () => {
    const P = await project('Burst');
    const r = await receiver();
    await subscribe(r.url, P);
    await Promise.all(Array.from({ length: 50 }, (_, i) => gw.call('POST', '/api/v1/todos', { content: `Burst ${i}`, projectId: P })));
    await r.waitFor(() => r.messageIds().length >= 50, 15_000);
    expect(r.count()).toBeLessThanOrEqual(10);
    expect(r.duplicates()).toBe(0);
    const digest = r.received.find((x) => x.body?.type === 'digest');
    expect(digest?.body.count).toBeGreaterThan(1);
  });

  it('sends a change once to a destination subscribed to both the hub and its project', async () => {
    const P = await project('Twice');
    const r = await receiver();
    await subscribe(r.url, P);
    const hubWide = (await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: r.url, domains: ['todos'] })).json;
    const t = (await gw.call('POST', '/api/v1/todos', { content: 'Only once please', projectId: P })).json;
    await r.waitFor(() => r.messageIds().length >= 1, 10_000);
    await settled([t.chittyId], 1); // then nothing else can arrive
    expect(r.messageIds().filter((id) => r.received.some((x) => x.messages.some((m: any) => m.id === id && m.payload.entity.chittyId === t.chittyId)))).toHaveLength(1);
    expect(await ledgerFor(t.chittyId, (rows) => rows.length >= 1)).toHaveLength(1);
    await gw.call('DELETE', `/api/v1/subscriptions/${hubWide.id}`);
  });

  it('does not echo a change back to the conversation it came from', async () => {
    const P = await project('Echo');
    const r = await receiver();
    await subscribe(r.url, P);
    const phone = (await gw.call('POST', '/api/v1/subscriptions', { channel: 'sms', address: '+15550003333', projectId: P })).json;
    await gw.call('POST', '/api/v1/commands', { text: `project use ${P}`, as: 'sms:+15550003333' }); // stranger: not paired
    await gw.call('POST', `/api/v1/pairing/${(await gw.call('GET', '/api/v1/pairing')).json.items[0].code}/approve`);
    await gw.call('POST', '/api/v1/commands', { text: `todo add From my phone --project ${P}`, as: 'sms:+15550003333' });
    await r.waitFor(() => r.messageIds().length >= 1, 10_000);
    const m = r.received[0]!.body;
    expect(m.metadata.origin).toEqual({ channel: 'sms', address: '+15550003333' });
    const rows = (await gw.call('GET', `/api/v1/deliveries?messageId=${m.id}`)).json.items;
    expect(rows.map((d: any) => d.subscriptionId)).not.toContain(phone.id); // not sent back to the phone
    expect(rows).toHaveLength(1);
  });

  it('pauses a whole channel on a platform-wide 429: its other destinations wait too, then all deliver', async () => {
    const P = await project('Mail');
    const Q = await project('More mail');
    for (const [address, projectId] of [
      ['team@example.com', P],
      ['ops@example.com', Q],
    ]) {
      const r = await gw.call('POST', '/api/v1/subscriptions', { channel: 'email', address, projectId, domains: ['todos'] });
      expect(r.status).toBe(201);
    }
    const t = (await gw.call('POST', '/api/v1/todos', { content: 'Mail me', projectId: P })).json;
    await until(() => emailSends.length >= 1, 10_000, 'first email send');
    // The platform said "slow down" for the whole app: a change for another address waits as well.
    const u = (await gw.call('POST', '/api/v1/todos', { content: 'Mail them too', projectId: Q })).json;
    const rows = await ledgerFor(t.chittyId, (x) => x[0]?.status === 'sent');
    expect(rows[0]).toMatchObject({ status: 'sent', channel: 'email' });
    const other = await ledgerFor(u.chittyId, (x) => x[0]?.status === 'sent');
    expect(other[0]).toMatchObject({ status: 'sent', channel: 'email' });
    const limitedAt = emailSends[0]!.at;
    const team = emailSends.filter((s) => s.address === 'team@example.com');
    const ops = emailSends.filter((s) => s.address === 'ops@example.com');
    expect(team).toHaveLength(2);
    expect(ops).toHaveLength(1);
    expect(team[1]!.at - limitedAt).toBeGreaterThanOrEqual(1490);
    expect(ops[0]!.at - limitedAt).toBeGreaterThanOrEqual(1490);
  });
});
