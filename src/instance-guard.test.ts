/** One gateway per embedded DATA_DIR; one hub per Redis queue prefix. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { startGateway } from './app.ts';
import { LOCK_FILE, lockDataDir } from './instance-guard.ts';
import { resolveSecret } from './api/auth.ts';
import { dropRedisPrefix, startTestGateway, TEST_REDIS_URL } from '../test/support/gateway.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** A pid that is not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('DATA_DIR lock', () => {
  it('refuses a second holder with a sentence, and takes over the lock of a process that is gone', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chitty-lock-'));
    const release = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toThrow(/Another gateway \(pid \d+\) is using DATA_DIR .*own DATA_DIR/);
    await release();
    await writeFile(path.join(dir, LOCK_FILE), String(await deadPid()));
    const again = await lockDataDir(dir);
    expect(await readFile(path.join(dir, LOCK_FILE), 'utf8')).toBe(String(process.pid));
    await again();
  });

  it('a second gateway on the same embedded DATA_DIR does not start', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chitty-lock-gw-'));
    const prefix = `{lk${Date.now().toString(36)}}`;
    cleanups.push(() => dropRedisPrefix(prefix));
    const env = { NODE_ENV: 'test', PORT: '0', DATA_DIR: dir, REDIS_URL: TEST_REDIS_URL, CHITTY_QUEUE_PREFIX: prefix };
    const a = await startGateway(loadConfig(env), { mode: 'web' });
    cleanups.push(() => a.close());
    await expect(startGateway(loadConfig(env), { mode: 'web' })).rejects.toThrow(/Another gateway .* DATA_DIR/);
    await a.close();
    const b = await startGateway(loadConfig(env), { mode: 'web' }); // free again once the first stopped
    await b.close();
  }, 60_000);
});

describe('queue prefix bound to the hub', () => {
  it('refuses a hub with another database on a prefix in use, naming CHITTY_QUEUE_PREFIX', async () => {
    const a = await startTestGateway('pglite', {}, { mode: 'web' });
    cleanups.push(() => a.close());
    await expect(startTestGateway('pglite', { CHITTY_QUEUE_PREFIX: a.config.queuePrefix }, { mode: 'web' })).rejects.toThrow(/queue prefix .* belongs to another hub.*CHITTY_QUEUE_PREFIX/);
    // The same database (another process of the same hub) may share it.
    const b = await startTestGateway('postgres', {}, { mode: 'web' });
    cleanups.push(() => b.close());
    const c = await startTestGateway('postgres', { DATABASE_SCHEMA: b.config.databaseSchema!, CHITTY_QUEUE_PREFIX: b.config.queuePrefix }, { mode: 'web' });
    await c.close();
  }, 60_000);
});

describe('generated secret files', () => {
  it('are written without a trailing newline, and read with or without one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chitty-secret-'));
    const made = await resolveSecret(undefined, dir, 'webhook-secret');
    expect(await readFile(path.join(dir, 'webhook-secret'), 'utf8')).toBe(made.token);
    await writeFile(path.join(dir, 'webhook-secret'), `${made.token}\n`);
    expect((await resolveSecret(undefined, dir, 'webhook-secret')).token).toBe(made.token);
  });
});
