import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REDIS_URL, pingRedis, redisConnection } from '../redis/connect.ts';
import { presentedToken, tokenMatches } from './auth.ts';
import { DASHBOARD_COOKIE, dashboardCookie, registerQueueDashboard, tokenFromCookie } from './queue-dashboard.ts';

describe('tokenFromCookie', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['chitty_token=abc', 'abc'],
    ['a=1; chitty_token=abc; b=2', 'abc'],
    ['a=1;chitty_token=abc', 'abc'],
    ['chitty_token="abc"', 'abc'],
    ['chitty_token=a%2Bb%3D', 'a+b='],
    ['chitty_token=%E0%A4%A', '%E0%A4%A'],
    ['xchitty_token=abc; chitty_tokenx=def', undefined],
    ['chitty_token=; other=1', undefined],
    ['chitty_token=first; chitty_token=second', 'first'],
    ['chitty_token=a=b', 'a=b'],
  ])('%j → %j', (header, expected) => {
    expect(tokenFromCookie(header)).toBe(expected);
  });

  it('round-trips what dashboardCookie sets', () => {
    const token = 'tok+/=;,"x';
    const set = dashboardCookie(token, '/admin/queues', true);
    expect(set).toMatch(/; Path=\/admin\/queues; HttpOnly; SameSite=Strict; Secure$/);
    expect(tokenFromCookie(set.split(';')[0])).toBe(token);
  });
});

const redisUp = await pingRedis(DEFAULT_REDIS_URL).then(
  () => true,
  () => false,
);

describe.skipIf(!redisUp)('registerQueueDashboard (needs Redis on 127.0.0.1:6379)', () => {
  const TOKEN = `t-${randomUUID()}`;
  const prefix = `test-${randomUUID()}`;
  const queueName = 'fanout-dashboard-test';
  const connection = redisConnection(DEFAULT_REDIS_URL, { connectionName: 'queue-dashboard-test' });
  let queue: Queue;
  let app: FastifyInstance;

  beforeAll(async () => {
    queue = new Queue(queueName, { connection, prefix });
    await queue.add('hello', { n: 1 });
    app = Fastify({ logger: false });
    // What the gateway's auth hook does, plus the cookie the dashboard sets.
    app.addHook('onRequest', async (req, reply) => {
      if ((req.routeOptions.config as { public?: boolean } | undefined)?.public) return;
      const presented = presentedToken(req) ?? tokenFromCookie(req.headers.cookie);
      if (!tokenMatches(presented, TOKEN)) return reply.status(401).send({ error: 'unauthorized' });
    });
    await registerQueueDashboard(app, [queue], {});
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    connection.disconnect();
  });

  it('refuses the page, its assets and its API without a token', async () => {
    for (const url of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/images/logo.svg']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['set-cookie'], url).toBeUndefined();
    }
    const wrong = await app.inject({ method: 'GET', url: '/admin/queues?token=nope' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
  });

  it('serves the page for ?token= and hands over an HttpOnly, SameSite=Strict cookie', async () => {
    const res = await app.inject({ method: 'GET', url: `/admin/queues?token=${encodeURIComponent(TOKEN)}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('<base href="/admin/queues/"');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toBe(`${DASHBOARD_COOKIE}=${encodeURIComponent(TOKEN)}; Path=/admin/queues; HttpOnly; SameSite=Strict`);
  });

  it('with only the cookie, serves the queue API and the static assets the page links', async () => {
    const login = await app.inject({ method: 'GET', url: `/admin/queues/?token=${encodeURIComponent(TOKEN)}` });
    expect(login.statusCode).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';

    const api = await app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie } });
    expect(api.statusCode).toBe(200);
    expect(api.headers['content-type']).toMatch(/application\/json/);
    expect(api.headers['set-cookie']).toBeUndefined();
    const body = api.json() as { queues: { name: string; counts: Record<string, number> }[] };
    expect(body.queues.map((q) => q.name)).toContain(queueName);
    expect(body.queues.find((q) => q.name === queueName)?.counts.waiting).toBe(1);

    const assets = [...login.body.matchAll(/(?:src|href)="(static\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.length).toBeGreaterThan(1);
    for (const asset of assets) {
      const res = await app.inject({ method: 'GET', url: `/admin/queues/${asset}`, headers: { cookie } });
      expect(res.statusCode, asset).toBe(200);
    }

    const deep = await app.inject({ method: 'GET', url: `/admin/queues/queue/${queueName}`, headers: { cookie } });
    expect(deep.statusCode).toBe(200);
  });

  it('a Bearer header still works (for scripts)', async () => {
    const res = await app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
  });
});

describe.skipIf(!redisUp)('registerQueueDashboard options', () => {
  it('does not put a token it was told is invalid into a cookie, and honours basePath', async () => {
    const app = Fastify({ logger: false });
    const connection = redisConnection(DEFAULT_REDIS_URL, { lazy: true });
    const queue = new Queue('unused', { connection, prefix: `test-${randomUUID()}` });
    try {
      await registerQueueDashboard(app, [queue], { basePath: '/ops/bull/', isValidToken: (t) => t === 'good' });
      const bad = await app.inject({ method: 'GET', url: '/ops/bull?token=bad' });
      expect(bad.statusCode).toBe(200); // no auth hook in this app: only the cookie is in question
      expect(bad.headers['set-cookie']).toBeUndefined();
      const good = await app.inject({ method: 'GET', url: '/ops/bull?token=good' });
      expect(good.headers['set-cookie']).toBe('chitty_token=good; Path=/ops/bull; HttpOnly; SameSite=Strict');
      expect(good.body).toContain('<base href="/ops/bull/"');
    } finally {
      await app.close();
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    }
  });

  it('refuses "/" as a base path', async () => {
    const app = Fastify({ logger: false });
    await expect(registerQueueDashboard(app, [], { basePath: '/' })).rejects.toThrow(/base path/);
    await app.close();
  });
});
