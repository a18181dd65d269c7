/**
 * A whole gateway as its own OS process (`node --import tsx src/main.ts`), for tests that must
 * kill it the hard way (SIGKILL) and start it again on the same database and Redis prefix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TEST_DATABASE_URL } from './database.ts';
import { TEST_REDIS_URL, TEST_TOKEN } from './gateway.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface GatewayProcess {
  url: string;
  /** SIGKILL: no shutdown hooks, in-flight work is cut wherever it is. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** What the process wrote to stderr (for failure messages). */
  stderr(): string;
}

/** Start `src/main.ts` with `env` and wait until `/health` answers. */
export async function startGatewayProcess(env: Record<string, string>, mode: 'all' | 'web' = 'all'): Promise<GatewayProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...(mode === 'all' ? [] : [mode])], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode} before it was ready:\n${err}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not answer /health within 60 s:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
    stderr: () => err,
  };
}

/**
 * The environment of a gateway process on a fresh Redis prefix, DATA_DIR and Postgres schema
 * (drop them after), or on an embedded database in that DATA_DIR (`database: 'embedded'`).
 */
export function freshProcessEnv(tag: string, database: 'postgres' | 'embedded' = 'postgres'): { env: Record<string, string>; schema: string; prefix: string } {
  const schema = `t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const prefix = `{t${randomUUID().slice(0, 8)}}`;
  const env = {
    ...(database === 'postgres' ? { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema } : {}),
    REDIS_URL: TEST_REDIS_URL,
    CHITTY_QUEUE_PREFIX: prefix,
    CHITTY_API_TOKEN: TEST_TOKEN,
    CHITTY_WEBHOOK_SECRET: 'test-webhook-secret',
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), `chitty-${tag}-`)),
  };
  return { env, schema, prefix };
}

/**
 * POST `add c<conversation> n<n>` as the token owner in conversation `conv-<conversation>` with a
 * stable message id (as a client re-sending what got no answer would). Resolves to the HTTP status,
 * or the error's message when no answer came.
 */
export async function postNumberedCommand(url: string, conversation: number, n: number, timeoutMs: number): Promise<{ ok: boolean; why: string }> {
  try {
    const r = await fetch(`${url}/api/v1/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: `add c${conversation} n${n}`, conversation: `conv-${conversation}`, messageId: `c${conversation}-n${n}` }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    return { ok: r.status === 200, why: `HTTP ${r.status} ${text.slice(0, 300)}` };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
}
