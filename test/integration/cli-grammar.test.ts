/**
 * The CLI on the one grammar, through the real bin (`node bin/chitty.mjs`) against a test gateway:
 * `chitty todo add "Pay rent" --due tomorrow`, `chitty todo list`, `chitty todo done 1` as the CLI's
 * own identity (cli:<CHITTY_USER>, one conversation per user); names instead of raw person ids;
 * exit codes of usage and error replies; `chitty sync --platform/--channel/--model` narrowing.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway('pglite');
});
afterAll(async () => gw?.close());

/** Run the package bin as a user would; resolves with the exit code and both streams. */
async function chitty(user: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.resolve('bin/chitty.mjs'), ...argv], {
      env: { ...process.env, CHITTY_URL: gw.url, CHITTY_API_TOKEN: TEST_TOKEN, CHITTY_USER: user },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('chitty todo … on the chat grammar (real bin)', () => {
  it('`todo add "Pay rent" --due tomorrow`, `todo list`, `todo done 1` work', async () => {
    const add = await chitty('ada', 'todo', 'add', 'Pay rent', '--due', 'tomorrow');
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/Todo added/);
    expect(add.stdout).toMatch(/Pay rent/);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(add.stdout).toContain(`due ${tomorrow}`);

    const list = await chitty('ada', 'todo', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/│ 1 +│ pending +│ Pay rent/); // a table: # · status · text · detail · id

    const done = await chitty('ada', 'todo', 'done', '1');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/Completed/);
    const todos = (await gw.call('GET', '/api/v1/todos?limit=1000')).json.items as { content: string; status: string; deadline: string | null }[];
    const rent = todos.find((t) => t.content === 'Pay rent')!;
    expect(rent.status).toBe('completed');
    expect(rent.deadline?.slice(0, 10)).toBe(tomorrow);
  });

  it('each user has their own conversation: "done 1" means their own last list', async () => {
    expect((await chitty('bea', 'todo', 'add', 'Bea only')).code).toBe(0);
    expect((await chitty('cy', 'todo', 'add', 'Cy only')).code).toBe(0);
    expect((await chitty('bea', 'todo', 'list')).code).toBe(0);
    expect((await chitty('cy', 'todo', 'list', '--mine')).code).toBe(0);
    const done = await chitty('cy', 'todo', 'done', '1');
    expect(done.stdout).toMatch(/Cy only/);
  });

  it('--assign me shows the person by name, not a raw id; --json prints the entity', async () => {
    const r = await chitty('dee', 'todo', 'add', 'Water plants', '--assign', 'me', '--json');
    expect(r.code, r.stderr).toBe(0);
    const todo = JSON.parse(r.stdout);
    expect(todo).toMatchObject({ content: 'Water plants' });
    expect(todo.assignees[0]).toMatch(/^CHITTY-PERSON-/);
    // Someone else lists it: the assignee shows as "dee", not CHITTY-PERSON-….
    const list = await chitty('eve', 'todo', 'list');
    expect(list.stdout).toMatch(/Water plants.*→ dee/);
    expect(list.stdout).not.toMatch(/→ CHITTY-PERSON-/);
  });

  it('a usage reply exits 2 and an error reply 1, the reason on stderr (also for `chitty say`)', async () => {
    const usage = await chitty('ada', 'todo', 'add');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/todo add/);
    const say = await chitty('ada', 'say', 'todo', 'add');
    expect(say.code).toBe(2);
    const missing = await chitty('ada', 'todo', 'done', '99');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^chitty: /);
  });
});

describe('chitty sync --platform/--channel/--model', () => {
  it('aims the broadcast at those destinations only: a cli watcher gets it, a web one does not', async () => {
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Aimed' })).json.chittyId as string;
    await gw.call('POST', '/api/v1/todos', { content: 'aimed todo', projectId: P });
    const watcher = async (platform: string) => {
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/ws?token=${TEST_TOKEN}`);
      const seen: { type: string; message: { target?: unknown } }[] = [];
      let subscribed!: () => void;
      const ready = new Promise<void>((resolve) => (subscribed = resolve));
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.type === 'subscribed') subscribed();
        if (m.type === 'state_snapshot') seen.push(m);
      });
      await new Promise<void>((resolve) => ws.once('open', () => resolve()));
      ws.send(JSON.stringify({ type: 'subscribe', platform, domains: ['todos'] }));
      await ready;
      return { ws, seen };
    };
    const cli = await watcher('cli');
    const web = await watcher('web');
    const snapshotAtCli = new Promise<void>((resolve) => {
      cli.ws.on('message', (raw) => JSON.parse(raw.toString()).type === 'state_snapshot' && resolve());
    });
    // After the aimed broadcast, an unaimed one: the web watcher's first snapshot must be the second.
    const r = await chitty('ada', 'sync', 'todos', '--project', P, '--platform', 'cli', '--channel', 'slack', '--model', 'claude');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Did broadcast todos: 1 entities to cli, slack, model claude only/);
    await snapshotAtCli;
    expect(cli.seen[0]!.message.target).toEqual({ broadcast: false, platforms: ['cli', 'slack'], models: ['claude'] });
    const webSnapshot = new Promise<void>((resolve) => {
      web.ws.on('message', (raw) => JSON.parse(raw.toString()).type === 'state_snapshot' && resolve());
    });
    expect((await chitty('ada', 'sync', 'todos', '--project', P)).code).toBe(0);
    await webSnapshot;
    expect(web.seen.map((m) => m.message.target)).toEqual([{ broadcast: true }]);
    cli.ws.close();
    web.ws.close();
  });
});

describe('webhook subscriptions labelled with a model', () => {
  it('keep the model (webhooks only) for chitty sync --model', async () => {
    const s = await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: 'https://models.example.com/claude', model: 'Claude' });
    expect(s.status, s.text).toBe(201);
    expect(s.json.model).toBe('claude');
    const listed = (await gw.call('GET', '/api/v1/subscriptions?channel=webhook')).json.items;
    expect(listed.find((x: { id: string }) => x.id === s.json.id).model).toBe('claude');
    const bad = await gw.call('POST', '/api/v1/subscriptions', { channel: 'slack', address: 'C123', model: 'claude' });
    expect(bad.status).toBe(400);
  });
});
