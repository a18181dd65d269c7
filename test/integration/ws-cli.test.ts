/** The /ws protocol and the `chitty` CLI against a live gateway. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runCli } from '../../src/cli/chitty.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';

type Msg = Record<string, any>;

/** A WebSocket client that queues what it receives. */
async function connect(gw: TestGateway, token: string | null = TEST_TOKEN) {
  const ws = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/ws${token ? `?token=${token}` : ''}`);
  const inbox: Msg[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (raw) => {
    inbox.push(JSON.parse(raw.toString()));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (req, res) => {
      req.destroy(); // with this listener, ending the refused request is ours to do
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
  async function next(pred: (m: Msg) => boolean = () => true, ms = 3000): Promise<Msg> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = inbox.findIndex(pred);
      if (i >= 0) return inbox.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message; got ${JSON.stringify(inbox)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, left);
      });
    }
  }
  return { ws, inbox, next, send: (o: unknown) => ws.send(typeof o === 'string' ? o : JSON.stringify(o)) };
}

function cliIO(gw: TestGateway, stop?: Promise<void>) {
  const out: string[] = [];
  const err: string[] = [];
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  /** Resolves with the first output line (already printed or still to come) that matches. */
  const line = (re: RegExp) =>
    new Promise<string>((resolve) => {
      const seen = out.find((l) => re.test(l));
      if (seen !== undefined) resolve(seen);
      else waiters.push({ test: (l) => re.test(l), resolve });
    });
  return {
    out,
    err,
    line,
    io: {
      env: { CHITTY_URL: gw.url, CHITTY_API_TOKEN: TEST_TOKEN },
      out: (s: string) => {
        out.push(s);
        for (const w of waiters.splice(0)) w.test(s) ? w.resolve(s) : waiters.push(w);
      },
      err: (s: string) => err.push(s),
      ...(stop ? { untilStopped: () => stop } : {}),
    },
  };
}

describe('WebSocket /ws', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
  });
  afterAll(async () => gw?.close());

  it('refuses a connection without a valid token', async () => {
    await expect(connect(gw, null)).rejects.toThrow('HTTP 401');
    await expect(connect(gw, 'wrong')).rejects.toThrow('HTTP 401');
  });

  it('sends state_update for subscribed domains and filters only, whatever path made the change', async () => {
    const c = await connect(gw);
    await c.next((m) => m.type === 'welcome');
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Watched' })).json.chittyId;
    const Q = (await gw.call('POST', '/api/v1/projects', { name: 'Other' })).json.chittyId;
    c.send({ type: 'subscribe', domains: ['todos'], filters: { projectId: P } });
    expect(await c.next((m) => m.type === 'subscribed')).toMatchObject({ domains: ['todos'], filters: { projectId: P } });

    await gw.call('POST', '/api/v1/todos', { content: 'elsewhere', projectId: Q });
    const mine = (await gw.call('POST', '/api/v1/todos', { content: 'watched todo', projectId: P })).json;
    const created = await c.next((m) => m.type === 'state_update');
    expect(created).toMatchObject({ domain: 'todos', operation: 'create', entity: { chittyId: mine.chittyId, content: 'watched todo' } });
    expect(created.message.metadata.vectorClock).toBeTypeOf('object');

    await gw.hub.update('todos', mine.chittyId, { status: 'completed' }); // a path other than HTTP
    expect(await c.next((m) => m.type === 'state_update')).toMatchObject({ operation: 'update', entity: { chittyId: mine.chittyId, status: 'completed' } });
    expect(c.inbox.filter((m) => m.type === 'state_update')).toEqual([]); // nothing about project Q
    c.ws.close();
  });

  it('applies a client state_update, answers ack, and reports bad messages without closing', async () => {
    const c = await connect(gw);
    c.send('{not json');
    expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'bad_json' });
    c.send({ type: 'subscribe', domains: ['nonsense'] });
    expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'bad_message' });
    c.send({ type: 'state_update', domain: 'todos', entity: { chittyId: 'CHITTY-TODO-NOPE', status: 'completed' }, id: 'r1' });
    expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'not_found', id: 'r1' });
    c.send({ type: 'subscribe', domains: ['todos'] });
    c.send({ type: 'state_update', domain: 'todos', entity: { content: 'from a socket' }, id: 'r2' });
    const ack = await c.next((m) => m.type === 'ack');
    expect(ack).toMatchObject({ id: 'r2', operation: 'create', entity: { content: 'from a socket' } });
    expect(await c.next((m) => m.type === 'state_update')).toMatchObject({ entity: { chittyId: ack.entity.chittyId } });
    expect((await gw.call('GET', `/api/v1/todos/${ack.entity.chittyId}`)).status).toBe(200);
    c.ws.close();
  });
});

describe('chitty CLI', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
  });
  afterAll(async () => gw?.close());

  it('creates and lists projects and todos in the chat grammar, as tables or --json', async () => {
    let c = cliIO(gw);
    expect(await runCli(['project', 'create', 'CLI', 'Project', '--description', 'made by the CLI'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/^Project created\n[\s\S]*CLI Project/); // the chat reply, as every channel gets it
    c = cliIO(gw);
    expect(await runCli(['todo', 'add', 'Write', 'the', 'README', '--project', 'cli project', '--priority', 'high', '--json'], c.io)).toBe(0);
    const todo = JSON.parse(c.out.join('\n'));
    expect(todo).toMatchObject({ content: 'Write the README', priority: 'high' });
    c = cliIO(gw);
    expect(await runCli(['todo', 'start', todo.chittyId], c.io)).toBe(0);
    c = cliIO(gw);
    expect(await runCli(['todo', 'list', '--project', 'CLI Project'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/in_progress.*Write the README/);
    c = cliIO(gw);
    expect(await runCli(['todo', 'done', todo.chittyId.toLowerCase()], c.io)).toBe(0);
    expect((await gw.call('GET', `/api/v1/todos/${todo.chittyId}`)).json.status).toBe('completed');
  });

  it('runs Example 2 with `chitty sync todos --project P`; --dry-run changes nothing', async () => {
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'CHITTY-PROJ-123 stand-in' })).json.chittyId;
    const todos: [string, string, string][] = [
      ['Todo 1', 'A', 'pending'],
      ['Todo 2', 'A', 'in_progress'],
      ['Todo 2', 'B', 'completed'],
      ['Todo 3', 'B', 'pending'],
      ['Todo 4', 'C', 'in_progress'],
      ['Todo 5', 'C', 'pending'],
    ];
    for (const [content, s, status] of todos) await gw.call('POST', '/api/v1/todos', { content, projectId: P, sessionId: `CHITTY-SESSION-${s}`, status });
    const before = await gw.counts();
    let c = cliIO(gw);
    expect(await runCli(['sync', 'todos', '--project', P, '--dry-run'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/would merge 1 duplicate todos into 1; 5 todos would remain/);
    // The broadcast line counts the same 5 todos (not the 6 there are before the merge).
    expect(c.out.join('\n')).toMatch(/Would broadcast todos: 5 entities in 1 message/);
    expect(c.out.join('\n')).toMatch(/Dry run: nothing was changed/);
    expect(await gw.counts()).toEqual(before);

    c = cliIO(gw);
    expect(await runCli(['sync', 'todos', '--project', P, '--json'], c.io)).toBe(0);
    const result = JSON.parse(c.out.join('\n'));
    expect(result.reconciled[0].todos.map((t: any) => `${t.content}:${t.status}`)).toEqual(['Todo 1:pending', 'Todo 2:completed', 'Todo 3:pending', 'Todo 4:in_progress', 'Todo 5:pending']);
    expect(result.broadcast[0]).toMatchObject({ domain: 'todos', entities: 5, messages: 1 });
  });

  it('`chitty say more` after a list shows what comes next, not page 1 again', async () => {
    const say = async (...words: string[]) => {
      const c = cliIO(gw);
      expect(await runCli(['say', ...words], c.io), c.err.join('\n')).toBe(0);
      return c.out.join('\n');
    };
    await say('project', 'create', 'Paged');
    await say('project', 'use', 'Paged');
    for (let i = 0; i < 12; i++) await say('add', `Paged item ${i}`);
    const list = await say('list');
    for (let i = 0; i < 12; i++) expect(list).toContain(`Paged item ${i}`);
    const more = await say('more');
    expect(more).not.toMatch(/Paged item/);
    expect(more).toContain('No more items.');
  });

  it('streams updates with --watch until stopped', async () => {
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Watch me' })).json.chittyId;
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const c = cliIO(gw, stopped);
    const run = runCli(['sync', 'todos', '--project', P, '--watch'], c.io);
    await c.line(/^Watching/); // printed once the gateway confirmed the subscription
    await gw.call('POST', '/api/v1/todos', { content: 'seen live', projectId: P });
    await c.line(/seen live/); // the test's timeout bounds the wait
    stop();
    expect(await run).toBe(0);
    expect(c.out.find((l) => l.includes('seen live'))).toMatch(/state_update\s+todos\s+create\s+CHITTY-TODO-/);
  });

  it('fails with a one-line reason and a non-zero exit code', async () => {
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [['todo', 'done', 'CHITTY-TODO-NOPE'], {}, 1, /No todo with id CHITTY-TODO-NOPE/],
      [['todo', 'frobnicate'], {}, 2, /todo/],
      [['say', 'todo', 'frobnicate'], {}, 2, /todo/],
      [['sync', 'everything'], {}, 2, /invalid for argument 'domain'/],
      [['todo', 'list', '--project', 'no such project'], {}, 1, /no project/i],
      [['project', 'list'], { CHITTY_API_TOKEN: 'wrong' }, 4, /401/],
      [['project', 'list'], { CHITTY_URL: 'http://127.0.0.1:9' }, 3, /cannot reach the gateway/],
    ];
    for (const [argv, env, code, message] of cases) {
      const c = cliIO(gw);
      c.io.env = { ...c.io.env, ...env };
      expect(await runCli(argv, c.io), argv.join(' ')).toBe(code);
      expect(c.err[0], argv.join(' ')).toMatch(message);
    }
  });

  it('runs as the package bin, also through a symlink as npm installs it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chitty-bin-'));
    const link = path.join(dir, 'chitty');
    await symlink(path.resolve('bin/chitty.mjs'), link);
    try {
      for (const bin of ['bin/chitty.mjs', link]) {
        const { stdout } = await promisify(execFile)(process.execPath, [bin, 'project', 'list', '--json'], {
          env: { ...process.env, CHITTY_URL: gw.url, CHITTY_API_TOKEN: TEST_TOKEN },
        });
        expect(
          JSON.parse(stdout).map((p: any) => p.name),
          bin,
        ).toContain('CLI Project');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
