/**
 * The real pipeline on a local 3-master Redis Cluster (REDIS_URL=redis+cluster://…): a change →
 * fan-out → a signed webhook delivery, live changes over cluster pub/sub, health and dashboard;
 * and where the keys landed: each queue's keys on one node, the queues spread over more than one,
 * a destination's keys in its channel queue's slot. Skipped, saying so, without redis-server.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../drizzle/schema.ts';
import { changesChannel, deliveryTag, FANOUT_QUEUE, pendingKey, lockKey, bucketKey, queueTag, destinationKey } from '../../queues/names.ts';
import { holdKey, platformHoldKey } from '../../queues/token-bucket.ts';
import { createRedis } from '../../src/redis/client.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';
import { nodeOfKey, redisServerBinary, startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.ts';
import { startWebhookReceiver, trustSecret, type WebhookReceiver } from '../support/webhook-receiver.ts';

const binary = await redisServerBinary();
if (!binary) console.warn('redis-cluster.test.ts: skipped — redis-server is not installed (apt-get install redis-server)');

/** Chosen so that, with the starter's even slot split, fan-out and webhook deliveries sit on different masters (checked below). */
const PREFIX = '{cit}';

describe.skipIf(!binary)('the pipeline on a 3-master Redis Cluster (needs redis-server)', () => {
  let cluster: RedisClusterHandle;
  let gw: TestGateway;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    gw = await startTestGateway('pglite', { REDIS_URL: cluster.url, CHITTY_QUEUE_PREFIX: PREFIX, CHITTY_DIGEST_WINDOW_MS: '20' }, { pipeline: { relayPollMs: 50 } });
    receiver = await startWebhookReceiver({ secret: 'test-webhook-secret' });
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
    await gw?.close();
    await cluster?.stop();
  });

  it('delivers a change through fan-out to a webhook, and publishes it on the live-change channel', async () => {
    const live = createRedis(cluster.url);
    const heard: string[] = [];
    live.on('message', (_ch: string, raw: string) => heard.push(raw));
    await live.subscribe(changesChannel(PREFIX));
    try {
      const P = (await gw.call('POST', '/api/v1/projects', { name: 'Cluster' })).json.chittyId as string;
      const sub = await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: receiver.url, projectId: P, domains: ['todos'] });
      expect(sub.status).toBe(201);
      trustSecret(receiver.url, sub.json.secret);
      // A second channel in the same fan-out: its flags go to another node (scheduler pipelines per channel).
      expect((await gw.call('POST', '/api/v1/subscriptions', { channel: 'email', address: 'ops@example.com', projectId: P, domains: ['todos'] })).status).toBe(201);
      const todo = (await gw.call('POST', '/api/v1/todos', { content: 'Spread out', projectId: P })).json;
      await receiver.waitFor(() => receiver.messageIds().length >= 1, 15_000);
      expect(receiver.received[0]!.valid).toBe(true);
      expect(receiver.received[0]!.body).toMatchObject({ type: 'state_update', payload: { entity: { chittyId: todo.chittyId } } });
      for (let i = 0; i < 100 && !heard.some((m) => m.includes(todo.chittyId)); i++) await new Promise((r) => setTimeout(r, 50));
      expect(heard.some((m) => m.includes(todo.chittyId))).toBe(true);
      // The webhook row is sent; the email row (no email adapter here) is a dead letter: both were scheduled.
      let rows: { channel: string; status: string }[] = [];
      for (let i = 0; i < 100; i++) {
        rows = (await gw.call('GET', `/api/v1/deliveries?entityId=${todo.chittyId}`)).json.items;
        if (rows.length === 2 && rows.every((d) => d.status === 'sent' || d.status === 'dead')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(Object.fromEntries(rows.map((d) => [d.channel, d.status]))).toEqual({ webhook: 'sent', email: 'dead' });
    } finally {
      live.disconnect();
    }
  });

  it("keeps each queue's keys on one node and spreads the queues over more than one", async () => {
    // Every key on every master, by hash tag.
    const nodesByTag = new Map<string, Set<number>>();
    for (const [i, c] of cluster.clients.entries()) {
      let cursor = '0';
      do {
        const [next, keys] = await c.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) {
          const tag = /^\{[^}]+\}/.exec(k)?.[0];
          if (tag) nodesByTag.set(tag, (nodesByTag.get(tag) ?? new Set()).add(i));
        }
      } while (cursor !== '0');
    }
    const fanoutTag = queueTag(PREFIX, FANOUT_QUEUE);
    const webhookTag = deliveryTag(PREFIX, 'webhook');
    expect(gw.queues.fanout.opts.prefix).toBe(fanoutTag);
    expect(gw.queues.deliver.webhook.opts.prefix).toBe(webhookTag);
    // The two queues that carried the change hold keys, each on exactly one node: the node that serves its tag.
    for (const tag of [fanoutTag, webhookTag]) {
      expect([...(nodesByTag.get(tag) ?? [])], tag).toEqual([await nodeOfKey(cluster, tag)]);
    }
    const queueNodes = new Set<number>();
    for (const q of gw.queues.all()) {
      const held = nodesByTag.get(q.opts.prefix!);
      if (held) {
        expect(held.size, q.name).toBe(1);
        for (const n of held) queueNodes.add(n);
      }
    }
    expect(queueNodes.size).toBeGreaterThan(1);
    expect(await nodeOfKey(cluster, fanoutTag)).not.toBe(await nodeOfKey(cluster, webhookTag));
  });

  it("puts a destination's keys in its channel queue's slot (one Lua script reads them together)", async () => {
    const tag = deliveryTag(PREFIX, 'webhook');
    const dest = destinationKey('webhook', receiver.url);
    const slotOf = async (key: string) => Number(await cluster.clients[0]!.call('CLUSTER', 'KEYSLOT', key));
    const queueSlot = await slotOf(gw.queues.deliver.webhook.keys.wait!);
    for (const key of [pendingKey(tag, dest), lockKey(tag, dest), bucketKey(tag, dest), holdKey(tag, dest), platformHoldKey(tag, 'webhook')]) {
      expect(await slotOf(key), key).toBe(queueSlot);
    }
  });

  it('the sweeper reschedules lost deliveries of channels on different masters', async () => {
    // Rows waiting for a minute with no job: lost (e.g. in a Redis failover). Slack and WhatsApp queues sit on different masters.
    expect(await nodeOfKey(cluster, deliveryTag(PREFIX, 'slack'))).not.toBe(await nodeOfKey(cluster, deliveryTag(PREFIX, 'whatsapp')));
    const old = new Date(Date.now() - 60_000);
    await gw.database.db.insert(schema.outbox).values({ id: 'm-lost', domain: 'todos', entityId: 'e-lost', message: { id: 'm-lost' }, createdAt: old, dispatchedAt: old, fannedOutAt: old });
    for (const channel of ['slack', 'whatsapp'] as const) {
      await gw.database.db.insert(schema.deliveries).values({
        id: `m-lost__${channel}`,
        messageId: 'm-lost',
        subscriptionId: `s-${channel}`,
        channel,
        destinationKey: `lost-${channel}`,
        address: `lost-${channel}`,
        domain: 'todos',
        status: 'queued',
        createdAt: old,
        updatedAt: old,
      });
    }
    await gw.workers!.sweeper.sweep(); // one pipeline and one script per channel: no cross-slot error
    // Rescheduled onto each channel's queue, whose worker dead-letters them (no Slack or WhatsApp adapter here).
    const statuses = async () => Object.fromEntries((await gw.database.db.select().from(schema.deliveries).where(eq(schema.deliveries.messageId, 'm-lost'))).map((d) => [d.channel, d.status]));
    for (let i = 0; i < 100 && Object.values(await statuses()).some((x) => x !== 'dead'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await statuses()).toEqual({ slack: 'dead', whatsapp: 'dead' });
  });

  it('refuses a second hub (another database) on the same prefix of the cluster', async () => {
    await expect(startTestGateway('pglite', { REDIS_URL: cluster.url, CHITTY_QUEUE_PREFIX: PREFIX }, { mode: 'web' })).rejects.toThrow(/queue prefix \{cit\} belongs to another hub/);
  });

  it('answers health from every master and shows the queues on the dashboard', async () => {
    expect(await gw.queues.ping()).toMatchObject({ ok: true, nodes: 3 });
    const health = await gw.call('GET', '/health');
    expect(health.status).toBe(200);
    const dash = await gw.call('GET', '/admin/queues/api/queues', undefined, { token: TEST_TOKEN });
    expect(dash.status).toBe(200);
    const names = (dash.json.queues as { name: string }[]).map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining([expect.stringContaining('fanout'), expect.stringContaining('deliver-webhook')]));
  });
});
