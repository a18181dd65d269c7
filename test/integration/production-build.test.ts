/**
 * Issue 15, "Footprint": `npm run build`, then the built gateway — plain `node`, no TypeScript
 * transform, exactly `npm start`'s command — on a fresh DATA_DIR. It answers /health, its embedded
 * database was migrated (a command adds a todo), files found next to a source file still are (the
 * web page's static files, the migrations), and it stops cleanly.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, freshProcessEnv } from '../support/gateway-process.ts';
import { dropRedisPrefix, TEST_TOKEN } from '../support/gateway.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('production build', () => {
  it('builds, and the built gateway starts on a fresh DATA_DIR, answers /health, runs a command and stops', { timeout: 180_000 }, async () => {
    await promisify(execFile)(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT });
    const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!.split(' ');
    expect(start[0]).toBe('node');
    expect(start.join(' ')).not.toMatch(/tsx|\.ts\b/);

    const fresh = freshProcessEnv('built', 'embedded');
    const dataDir = fresh.env.DATA_DIR!;
    const { prefix } = fresh;
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    cleanups.push(() => dropRedisPrefix(prefix));
    const port = await freePort();
    const child = spawn(process.execPath, start.slice(1), {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        ...fresh.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 120_000;
    let health = 0;
    while (health !== 200 && child.exitCode === null && Date.now() < deadline) {
      health = await fetch(`${url}/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (health !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(health, stderr).toBe(200);
    expect(fs.existsSync(path.join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);

    const css = await fetch(`${url}/web/static/style.css`);
    expect(css.status).toBe(200);
    expect(await css.text()).toBe(fs.readFileSync(path.join(ROOT, 'src/web/static/style.css'), 'utf8'));

    const answer = await fetch(`${url}/api/v1/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'todo add Built and running', conversation: 'built', messageId: 'built-1' }),
    });
    expect(answer.status, await answer.clone().text()).toBe(200);
    const todos = (await (await fetch(`${url}/api/v1/todos`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })).json()) as { items: { content: string }[] };
    expect(todos.items.map((t) => t.content)).toEqual(['Built and running']);

    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
  });
});
