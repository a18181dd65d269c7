import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_REDIS_URL, RedisUnavailableError, ensureRedis, findExecutable, locateRedisServer, pingRedis, redisConnection, startPrivateRedis } from './connect.ts';

const logger = pino({ level: 'silent' });
const redisServer = await findExecutable('redis-server', process.env.PATH);
const localRedis = await pingRedis(DEFAULT_REDIS_URL).then(
  () => true,
  () => false,
);
const tmpDirs: string[] = [];

afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('ensureRedis', () => {
  it.skipIf(!localRedis)('uses an explicit REDIS_URL that answers', async () => {
    const r = await ensureRedis({ redisUrl: DEFAULT_REDIS_URL, dataDir: 'memory://', logger });
    expect(r).toMatchObject({ url: DEFAULT_REDIS_URL, started: false });
    await r.stop();
  });

  it('says which explicit REDIS_URL failed and what to do', async () => {
    const err = await ensureRedis({ redisUrl: 'redis://127.0.0.1:1', dataDir: 'memory://', logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as Error).message).toMatch(/redis:\/\/127\.0\.0\.1:1.*REDIS_URL.*did not answer/);
    expect((err as Error).message).toContain('Start Redis there or fix REDIS_URL');
  });

  it('keeps a password out of the message', async () => {
    const err = await ensureRedis({ redisUrl: 'redis://:s3cret@127.0.0.1:1', dataDir: 'memory://', logger }).catch((e: unknown) => e);
    expect((err as Error).message).not.toContain('s3cret');
  });

  it.skipIf(!localRedis)('uses the default local Redis when REDIS_URL is unset', async () => {
    const r = await ensureRedis({ redisUrl: undefined, dataDir: 'memory://', logger });
    expect(r).toMatchObject({ url: DEFAULT_REDIS_URL, started: false });
  });
});

describe('locateRedisServer', () => {
  it('with nothing on PATH, says what to install', async () => {
    const err = await locateRedisServer('').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    const msg = (err as Error).message;
    expect(msg).toContain('Redis is not running on 127.0.0.1:6379 and redis-server is not installed');
    expect(msg).toContain('apt-get install redis-server');
    expect(msg).toContain('brew install redis');
    expect(msg).toContain('REDIS_URL');
  });

  it.skipIf(!redisServer)('finds redis-server on PATH like `which`', async () => {
    const which = execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim();
    expect(await locateRedisServer(process.env.PATH)).toBe(which);
  });
});

describe.skipIf(!redisServer)('startPrivateRedis (needs redis-server on PATH)', () => {
  it('starts one with its data in DATA_DIR/redis, answers PING, and stops', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'chitty-redis-test-'));
    tmpDirs.push(dataDir);
    const r = await startPrivateRedis(dataDir, logger);
    expect(r.started).toBe(true);
    expect(r.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const client = redisConnection(r.url, { connectionName: 'connect-test' });
    try {
      expect(await client.set('k', 'v')).toBe('OK');
      expect(await client.get('k')).toBe('v');
      expect(await client.config('GET', 'dir')).toEqual(['dir', path.join(dataDir, 'redis')]);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    } finally {
      client.disconnect();
    }
    await r.stop();
    await expect(pingRedis(r.url, 500)).rejects.toThrow();
    await r.stop(); // idempotent
    expect(existsSync(path.join(dataDir, 'redis', 'redis.log'))).toBe(true);

    // The data survives a restart (append-only file).
    const again = await startPrivateRedis(dataDir, logger);
    const c2 = redisConnection(again.url);
    try {
      expect(await c2.get('k')).toBe('v');
    } finally {
      c2.disconnect();
      await again.stop();
    }
  }, 20_000);

  it('uses a throwaway directory without persistence for memory://', async () => {
    const r = await startPrivateRedis('memory://', logger);
    const client = redisConnection(r.url);
    let dir = '';
    try {
      const reply = (await client.config('GET', 'dir')) as string[];
      dir = reply[1] ?? '';
      expect(dir.startsWith(os.tmpdir()) || dir.startsWith(await realTmp())).toBe(true);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    } finally {
      client.disconnect();
      await r.stop();
    }
    expect(existsSync(dir)).toBe(false);
  }, 20_000);

  it('shuts down a private redis-server an earlier start left running before reusing its directory', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'chitty-redis-test-'));
    tmpDirs.push(dataDir);
    const first = await startPrivateRedis(dataDir, logger);
    const second = await startPrivateRedis(dataDir, logger); // as if the first owner had died
    try {
      await expect(pingRedis(first.url, 500)).rejects.toThrow();
      await pingRedis(second.url);
    } finally {
      await second.stop();
      await first.stop();
    }
  }, 20_000);
});

async function realTmp(): Promise<string> {
  const { realpath } = await import('node:fs/promises');
  return realpath(os.tmpdir());
}
