/**
 * Issue 14, "Safe defaults and honest health": live/ready split (503 when Redis is down, no error
 * texts or versions without the token), ?token= only on /ws and the admin sign-in, slow request
 * bodies cut off (also after a 401), split processes need REDIS_URL, the banner hides the Redis password.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/gateway-process.ts';
import { startRedisServer, stopProcess } from '../support/processes.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';
import { TEST_DATABASE_URL } from '../support/database.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const startRedis = (port: number, password?: string) => startRedisServer(port, { password });
const stop = (child: ChildProcess) => stopProcess(child);

describe('health', () => {
  it('/health/live stays 200, /health/ready and /health answer 503 while Redis is down; details only with the token', async () => {
    const port = await freePort();
    const redis = await startRedis(port);
    cleanups.push(() => stop(redis));
    const gw = await startTestGateway('pglite', { REDIS_URL: `redis://127.0.0.1:${port}` }, { mode: 'web' });
    cleanups.push(() => gw.close());
    const get = (p: string, token: string | null = null) => gw.call('GET', p, undefined, { token });

    expect((await get('/health/live')).status).toBe(200);
    const ready = await get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'ready', checks: { database: { ok: true }, redis: { ok: true } } });
    const summary = await get('/health');
    expect(summary.status).toBe(200);
    expect(summary.json.version).toBeUndefined();
    expect((await get('/health', TEST_TOKEN)).json).toMatchObject({ status: 'ok', version: expect.any(String), checks: { database: { ok: true, kind: 'pglite' } } });

    await stop(redis);
    expect((await get('/health/live')).status).toBe(200);
    const down = await get('/health/ready');
    expect(down.status).toBe(503);
    expect(down.json).toEqual({ status: 'not_ready', checks: { database: { ok: true }, redis: { ok: false } } });
    const degraded = await get('/health');
    expect(degraded.status).toBe(503);
    expect(degraded.json.status).toBe('degraded');
    expect(degraded.text).not.toMatch(/ECONNREFUSED|Connection|version|nodeId/i);
    const detailed = await get('/health', TEST_TOKEN);
    expect(detailed.status).toBe(503);
    expect(detailed.json.checks.redis).toMatchObject({ ok: false, error: expect.any(String) });
    const back = await startRedis(port); // so the gateway can close cleanly
    cleanups.push(() => stop(back));
    await gw.close();
  }, 60_000);
});

describe('tokens and slow clients', () => {
  let gw: TestGateway;
  it('takes ?token= only on /ws and the admin sign-in', async () => {
    gw = await startTestGateway('pglite', { CHITTY_REQUEST_TIMEOUT_MS: '500' }, { mode: 'web' });
    cleanups.push(() => gw.close());
    expect((await gw.call('GET', `/api/v1/todos?token=${TEST_TOKEN}`, undefined, { token: null })).status).toBe(401);
    expect((await gw.call('POST', `/api/v1/todos?token=${TEST_TOKEN}`, { content: 'x' }, { token: null })).status).toBe(401);
    expect((await gw.call('GET', `/admin/queues?token=${TEST_TOKEN}`, undefined, { token: null })).status).not.toBe(401);
    const ws = await fetch(`${gw.url}/ws?token=${TEST_TOKEN}`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    }).catch((e: Error) => e);
    expect(ws instanceof Error ? 'upgraded' : ws.status).not.toBe(401);
  });

  it('cuts off a request whose body trickles in, also after it was answered 401', async () => {
    const { port } = new URL(gw.url);
    for (const auth of [`Authorization: Bearer ${TEST_TOKEN}\r\n`, '']) {
      const socket = net.connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (d) => (received += d.toString()));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => undefined);
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write(`POST /api/v1/todos HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"content":"`);
      const drip = setInterval(() => socket.writable && socket.write('a'), 50);
      await closed; // without request/headers timeouts this never happens and the test times out
      clearInterval(drip);
      expect(received === '' || /^HTTP\/1\.1 (408|401)/.test(received)).toBe(true);
    }
  }, 20_000);
});

describe('split processes', () => {
  it('a web or worker process without REDIS_URL refuses to start with a sentence', async () => {
    for (const mode of ['web', 'worker']) {
      const env: Record<string, string> = {
        ...(process.env as Record<string, string>),
        NODE_ENV: 'test',
        DATABASE_URL: TEST_DATABASE_URL,
        CHITTY_API_TOKEN: TEST_TOKEN,
        CHITTY_WEBHOOK_SECRET: 'test-webhook-secret',
        DATA_DIR: 'memory://',
      };
      delete env.REDIS_URL;
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', mode], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect({ mode, code }).toEqual({ mode, code: 2 });
      expect(err).toMatch(new RegExp(`The ${mode} process needs REDIS_URL`));
    }
  }, 60_000);
});

describe('start banner', () => {
  it('shows REDIS_URL without its password', async () => {
    const redisPort = await freePort();
    const redis = await startRedis(redisPort, 'banner-s3cret');
    cleanups.push(() => stop(redis));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: 'memory://',
        REDIS_URL: `redis://:banner-s3cret@127.0.0.1:${redisPort}`,
        CHITTY_API_TOKEN: TEST_TOKEN,
        CHITTY_WEBHOOK_SECRET: 'test-webhook-secret',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => stop(child));
    let out = '';
    const banner = new Promise<void>((resolve) => {
      const on = (d: Buffer) => {
        out += d.toString();
        if (out.includes('queues:')) resolve();
      };
      child.stdout?.on('data', on);
      child.stderr?.on('data', on);
    });
    await banner;
    await stop(child);
    expect(out).toMatch(/Redis redis:\/\/:\*\*\*@127\.0\.0\.1/);
    expect(out).not.toMatch(/banner-s3cret/);
  }, 60_000);
});
