/**
 * Failures users of comparable systems report, reproduced for real: a worker SIGKILLed in the
 * middle of 2,000 deliveries, Redis stopped (and its data lost) while changes are made, and live
 * updates across two web processes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';
import { freePort } from '../support/gateway-process.ts';
import { startRedisServer as startRedis, startWorkerProcess, stopProcess } from '../support/processes.ts';
import { startWebhookReceiver, trustSecret, type WebhookReceiver } from '../support/webhook-receiver.ts';

const SECRET = 'test-webhook-secret';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const startWorker = (gw: TestGateway, env: Record<string, string> = {}) => startWorkerProcess(gw, { webhookSecret: SECRET, env });

describe('a worker killed mid-delivery', () => {
  it('loses none of 2,000 deliveries when the worker is SIGKILLed and another takes over', async () => {
    const gw = await startTestGateway('postgres', {}, { mode: 'web' });
    cleanups.push(() => gw.close());
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Kill' })).json.chittyId;
    const receivers: WebhookReceiver[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await startWebhookReceiver({ secret: SECRET });
      receivers.push(r);
      cleanups.push(() => r.close());
      trustSecret(r.url, (await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: r.url, projectId: P, domains: ['todos'] })).json.secret);
    }
    let worker = startWorker(gw);
    cleanups.push(() => stopProcess(worker, 'SIGKILL'));
    const CHANGES = 400; // × 5 destinations = 2,000 deliveries
    const ids: string[] = [];
    const total = () => receivers.reduce((n, r) => n + new Set(r.messageIds()).size, 0);
    for (let i = 0; i < CHANGES; i++) {
      ids.push((await gw.hub.create('todos', { content: `Change ${i}`, projectId: P })).chittyId);
      if (i === 150) {
        // Wait until deliveries are flowing, then kill the worker without warning.
        for (let k = 0; k < 200 && total() < 200; k++) await sleep(25);
        await stopProcess(worker, 'SIGKILL');
        worker = startWorker(gw);
      }
    }
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && receivers.some((r) => new Set(r.messageIds()).size < CHANGES)) await sleep(200);
    const counts = receivers.map((r) => new Set(r.messageIds()).size);
    const duplicates = receivers.reduce((n, r) => n + r.duplicates(), 0);
    console.info(`[worker-kill] delivered per destination: ${counts.join(', ')} of ${CHANGES}; duplicates (at-least-once re-sends after the kill): ${duplicates}`);
    expect(counts).toEqual(Array(5).fill(CHANGES));
    expect(receivers.every((r) => r.received.every((x) => x.valid))).toBe(true);
    await stopProcess(worker, 'SIGTERM');
  }, 120_000);
});

describe('Redis stopped while changes are made', () => {
  it('delivers every change once Redis is back, even though Redis lost its data', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    cleanups.push(() => stopProcess(redis));
    const gw = await startTestGateway(
      'postgres',
      { REDIS_URL: `redis://127.0.0.1:${port}`, CHITTY_DIGEST_WINDOW_MS: '50', CHITTY_RATE_LIMITS: 'webhook=1000/1000', CHITTY_SWEEP_MS: '500' },
      { pipeline: { relayPollMs: 50 } },
    );
    cleanups.push(() => gw.close());
    const r = await startWebhookReceiver({ secret: SECRET });
    cleanups.push(() => r.close());
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Outage' })).json.chittyId;
    trustSecret(r.url, (await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: r.url, projectId: P, domains: ['todos'] })).json.secret);

    const made: string[] = [];
    for (let i = 0; i < 10; i++) made.push((await gw.hub.create('todos', { content: `Before ${i}`, projectId: P })).chittyId);
    await stopProcess(redis); // some of those may be in Redis only, and are lost with it
    for (let i = 0; i < 20; i++) {
      const res = await gw.call('POST', '/api/v1/todos', { content: `During ${i}`, projectId: P });
      expect(res.status).toBe(201); // the API keeps working: changes wait in the outbox
      made.push(res.json.chittyId);
    }
    const health = await gw.call('GET', '/health', undefined, { token: null });
    expect(health.json.checks.redis.ok).toBe(false);
    await sleep(500);
    redis = await startRedis(port);
    const want = new Set(made);
    const got = () => new Set(r.messageIds().length ? r.received.filter((x) => x.status === 200).flatMap((x) => x.messages.map((m: any) => m.payload.entity.chittyId)) : []);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && [...want].some((id) => !got().has(id))) await sleep(200);
    expect([...want].filter((id) => !got().has(id))).toEqual([]);
    console.info(`[redis-restart] ${want.size} changes delivered after the restart; duplicates: ${r.duplicates()}`);
  }, 90_000);
});

describe('live updates across web processes', () => {
  it('a /ws client on one web process sees a change made through another', async () => {
    const a = await startTestGateway('postgres', {}, { mode: 'web' });
    cleanups.push(() => a.close());
    const b = await startTestGateway('postgres', { DATABASE_SCHEMA: a.config.databaseSchema!, CHITTY_QUEUE_PREFIX: a.config.queuePrefix }, { mode: 'web' });
    cleanups.push(() => b.close());
    const ws = new WebSocket(`${b.url.replace(/^http/, 'ws')}/ws?token=${TEST_TOKEN}`);
    const seen: any[] = [];
    const waiting: { type: string; resolve: () => void }[] = [];
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      seen.push(m);
      for (const w of waiting.splice(0)) w.type === m.type ? w.resolve() : waiting.push(w);
    });
    /** Resolves when a message of this type has arrived (the test's timeout bounds the wait). */
    const arrived = (type: string) => new Promise<void>((resolve) => (seen.some((m) => m.type === type) ? resolve() : waiting.push({ type, resolve })));
    await new Promise((res) => ws.once('open', res));
    ws.send(JSON.stringify({ type: 'subscribe', domains: ['todos'] }));
    await arrived('subscribed');
    const t = (await a.call('POST', '/api/v1/todos', { content: 'Made on A' })).json;
    await arrived('state_update');
    expect(seen.filter((m) => m.type === 'state_update').map((m) => m.entity.chittyId)).toEqual([t.chittyId]);
    ws.close();
  }, 60_000);
});
