/**
 * One destination never holds up the others (issue 14), on real Redis/BullMQ with loopback
 * receivers: hanging receivers hold a bounded number of workers, attempts are counted on the rows
 * (never above CHITTY_DELIVERY_ATTEMPTS, whichever job sent them), 410 disables the subscription
 * with one dead letter, and a deleted subscription's rows stop being retried.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startWebhookReceiver, type ScriptResponse, type WebhookReceiver } from '../support/webhook-receiver.ts';

const SECRET = 'test-webhook-secret';
const receivers: WebhookReceiver[] = [];
async function receiver(script?: () => ScriptResponse | undefined) {
  const r = await startWebhookReceiver({ secret: SECRET, ...(script ? { script } : {}) });
  receivers.push(r);
  return r;
}

async function until(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

describe('delivery isolation', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(
      'postgres',
      { CHITTY_DIGEST_WINDOW_MS: '20', CHITTY_RETRY_BASE_MS: '50', CHITTY_DELIVERY_ATTEMPTS: '3' },
      {
        pipeline: {
          relayPollMs: 50,
          deliveryConcurrency: 8,
          webhookTimeoutMs: 300,
          isolation: { untrustedCap: 2, slotRetryMs: 20, breaker: { threshold: 100, openMs: 50, maxOpenMs: 100 } },
          sweeper: { everyMs: 200, deliveryTimeoutMs: 300, fanoutTimeoutMs: 5000 },
        },
      },
    );
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(async () => gw?.close());

  const project = async (name: string) => (await gw.call('POST', '/api/v1/projects', { name })).json.chittyId as string;
  const subscribe = async (url: string, projectId: string) => (await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: url, projectId, domains: ['todos'] })).json;
  const todo = async (projectId: string, content: string) => (await gw.call('POST', '/api/v1/todos', { content, projectId })).json.chittyId as string;
  type Row = { status: string; attempts: number; subscriptionId: string; lastError: string | null };
  const rowsFor = async (entityId: string) => (await gw.call('GET', `/api/v1/deliveries?entityId=${entityId}`)).json.items as Row[];

  it('hanging receivers hold at most the untrusted slots; a trusted receiver beside them gets every change', async () => {
    const P = await project('Hanging');
    let open = 0;
    let maxOpen = 0;
    const hanging = await Promise.all(
      Array.from({ length: 6 }, () =>
        receiver(() => {
          open++;
          maxOpen = Math.max(maxOpen, open);
          // Counted for 200 ms of the 300 ms send timeout: inside the time the sender holds its slot.
          setTimeout(() => open--, 200);
          return { status: 200, delayMs: 10_000 };
        }),
      ),
    );
    const healthy = await receiver();
    await subscribe(healthy.url, P);
    await todo(P, 'warm up'); // the healthy receiver answers once: it is trusted from now on
    await healthy.waitFor(() => healthy.messageIds().length >= 1, 10_000);
    for (const h of hanging) await subscribe(h.url, P);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await todo(P, `change ${i}`));
    await healthy.waitFor(
      () => ids.every((id) => healthy.received.some((r) => r.messages.some((m: { payload?: { entity?: { chittyId?: string } } } | null) => m?.payload?.entity?.chittyId === id))),
      20_000,
    );
    // Never more concurrent requests at the hanging receivers than the 2 untrusted slots.
    expect(maxOpen).toBeLessThanOrEqual(2);
    expect(maxOpen).toBeGreaterThan(0);
  });

  it('timeouts are attempts counted on the rows: never more than CHITTY_DELIVERY_ATTEMPTS, also across jobs', async () => {
    const P = await project('Timeouts');
    const r = await receiver(() => ({ status: 200, delayMs: 5_000 }));
    await subscribe(r.url, P);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await todo(P, `slow ${i}`)); // several jobs for one destination
    await until(async () => (await Promise.all(ids.map(rowsFor))).flat().every((d) => d.status === 'dead'), 30_000, 'all rows dead');
    const rows = (await Promise.all(ids.map(rowsFor))).flat();
    for (const d of rows) expect(d.attempts).toBeLessThanOrEqual(3);
    expect(r.count()).toBeLessThanOrEqual(3 * ids.length);
  });

  it('410 Gone disables the subscription with one dead letter; subscribing again enables it', async () => {
    const P = await project('Gone');
    const r = await receiver(() => ({ status: 410 }));
    const sub = await subscribe(r.url, P);
    const first = await todo(P, 'to a gone receiver');
    await until(async () => (await rowsFor(first)).some((d) => d.status === 'dead'), 10_000, 'dead letter');
    const listed = (await gw.call('GET', `/api/v1/subscriptions?address=${encodeURIComponent(r.url)}`)).json.items;
    expect(listed).toMatchObject([{ id: sub.id, disabled: true }]);
    expect(listed[0].disabledReason).toMatch(/410|not found/i);
    const second = await todo(P, 'not fanned out any more');
    // The fan-out of the second change is done when the healthy-path sweep would have seen it; it made no row here.
    await until(async () => (await gw.call('GET', `/api/v1/sync/todos/${second}/status`)).status === 200, 5_000, 'status');
    expect((await rowsFor(second)).filter((d) => d.subscriptionId === sub.id)).toEqual([]);
    expect(r.count()).toBe(1);
    const again = await subscribe(r.url, P);
    expect(again).toMatchObject({ id: sub.id, disabled: false });
  });

  it('a paused subscription stops its retries', async () => {
    const P = await project('Paused');
    const r = await receiver(() => ({ status: 500 }));
    const sub = await subscribe(r.url, P);
    const id = await todo(P, 'failing, then paused');
    await r.waitFor(() => r.count() >= 1, 10_000);
    expect((await gw.call('PATCH', `/api/v1/subscriptions/${sub.id}`, { paused: true })).status).toBe(200);
    await until(async () => (await rowsFor(id)).every((d) => d.status === 'dead'), 10_000, 'row dead');
    const [row] = await rowsFor(id);
    expect(row?.attempts).toBeLessThan(3);
    expect(row?.lastError).toMatch(/subscription paused|500/);
  });

  it('a deleted subscription stops its retries', async () => {
    const P = await project('Deleted');
    const r = await receiver(() => ({ status: 500 }));
    const sub = await subscribe(r.url, P);
    const id = await todo(P, 'failing');
    await r.waitFor(() => r.count() >= 1, 10_000);
    await gw.call('DELETE', `/api/v1/subscriptions/${sub.id}`);
    await until(async () => (await rowsFor(id)).every((d) => d.status === 'dead'), 10_000, 'row dead');
    const [row] = await rowsFor(id);
    expect(row?.attempts).toBeLessThan(3);
    expect(row?.lastError).toMatch(/subscription deleted|500/);
  });
});
