/**
 * The MCP server, driven by the SDK's own client over both transports: Streamable HTTP at /mcp
 * (behind the bearer token) and stdio (`chitty mcp` through the real bin, against a test gateway).
 * A todo added through MCP shows in the API; one added through the API shows in MCP's todo list;
 * a subscribed `chitty://todos/<id>` resource is announced as updated when it changes.
 */
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway('pglite');
});
afterAll(async () => gw?.close());

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };
const text = (r: unknown) => (r as ToolResult).content.map((c) => c.text).join('\n');
const jsonOf = (r: unknown) => JSON.parse((r as ToolResult).content[0]!.text);

const transports: Record<string, () => Transport> = {
  'Streamable HTTP /mcp': () => new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TEST_TOKEN}` } } }),
  'stdio (chitty mcp)': () =>
    new StdioClientTransport({
      command: process.execPath,
      args: [path.resolve('bin/chitty.mjs'), 'mcp'],
      env: { ...(process.env as Record<string, string>), CHITTY_URL: gw.url, CHITTY_API_TOKEN: TEST_TOKEN },
      stderr: 'pipe',
    }),
};

describe.each(Object.keys(transports))('MCP over %s', (name) => {
  let client: Client;
  const updated: string[] = [];
  const waiters: { uri: string; resolve: () => void }[] = [];
  beforeAll(async () => {
    client = new Client({ name: `vitest-${name.split(' ')[0]}`, version: '1.0.0' });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri);
      for (const w of waiters.splice(0)) w.uri === n.params.uri ? w.resolve() : waiters.push(w);
    });
    await client.connect(transports[name]!());
  });
  afterAll(async () => client?.close());
  const updateOf = (uri: string) => (updated.includes(uri) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ uri, resolve })));

  it('lists tools with JSON-schema inputs and descriptions for every family', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const d of ['todos', 'projects', 'topics', 'sessions']) expect(names).toContain(`list_${d}`);
    for (const one of ['todo', 'project', 'topic', 'session']) for (const verb of ['get', 'add', 'update']) expect(names).toContain(`${verb}_${one}`);
    for (const t of ['command', 'sync_status', 'sync_reconcile', 'list_conflicts', 'resolve_conflict', 'preview_reply']) expect(names).toContain(t);
    for (const t of tools) {
      expect(t.description, t.name).toBeTruthy();
      expect(t.inputSchema.type, t.name).toBe('object');
    }
    expect(tools.find((t) => t.name === 'add_todo')!.inputSchema.required).toEqual(['content']);
  });

  it('a todo added through MCP shows in the API; one added through the API shows in MCP todo list', async () => {
    const added = jsonOf(await client.callTool({ name: 'add_todo', arguments: { content: `From MCP over ${name}`, priority: 'high' } }));
    expect(added.chittyId).toMatch(/^CHITTY-TODO-/);
    const api = await gw.call('GET', `/api/v1/todos/${added.chittyId}`);
    expect(api.json).toMatchObject({ content: `From MCP over ${name}`, priority: 'high' });

    const fromApi = (await gw.call('POST', '/api/v1/todos', { content: `From the API for ${name}` })).json;
    const list = jsonOf(await client.callTool({ name: 'list_todos', arguments: { limit: 1000 } }));
    expect(list.items.map((t: { chittyId: string }) => t.chittyId)).toContain(fromApi.chittyId);
    expect(text(await client.callTool({ name: 'command', arguments: { text: 'todo list' } }))).toContain(`From the API for ${name}`);
  });

  it('runs chat commands as its own identity: "done 1" after its own list', async () => {
    const add = await client.callTool({ name: 'command', arguments: { text: `todo add Pay rent via ${name} --due tomorrow --assign me` } });
    expect(add.isError).toBeFalsy();
    expect(text(add)).toMatch(/Pay rent/);
    expect(text(add)).not.toMatch(/CHITTY-PERSON-/); // "→ you", not a raw id
    const list = text(await client.callTool({ name: 'command', arguments: { text: 'todo list --mine' } }));
    expect(list).toContain(`Pay rent via ${name}`);
    const done = await client.callTool({ name: 'command', arguments: { text: 'done 1' } });
    expect(text(done)).toMatch(/Completed/);
    const bad = await client.callTool({ name: 'command', arguments: { text: 'todo frobnicate' } });
    expect(bad.isError).toBe(true);
  });

  it('gets, updates, previews, reports sync status and reconciles with a dry run', async () => {
    const p = jsonOf(await client.callTool({ name: 'add_project', arguments: { name: `MCP ${name}` } }));
    const t = jsonOf(await client.callTool({ name: 'add_todo', arguments: { content: 'Edit me', projectId: p.chittyId } }));
    const u = jsonOf(await client.callTool({ name: 'update_todo', arguments: { id: t.chittyId, status: 'in_progress' } }));
    expect(u.status).toBe('in_progress');
    expect(jsonOf(await client.callTool({ name: 'get_todo', arguments: { id: t.chittyId } })).status).toBe('in_progress');
    const status = jsonOf(await client.callTool({ name: 'sync_status', arguments: { domain: 'todos', id: t.chittyId } }));
    expect(status).toHaveProperty('vectorClock');
    const before = await gw.counts();
    const dry = jsonOf(await client.callTool({ name: 'sync_reconcile', arguments: { domain: 'todos', projectId: p.chittyId } }));
    expect(dry.dryRun).toBe(true);
    expect(await gw.counts()).toEqual(before);
    const sms = jsonOf(await client.callTool({ name: 'preview_reply', arguments: { text: 'todo list', channel: 'sms' } }));
    expect(Array.isArray(sms)).toBe(true);
    expect(jsonOf(await client.callTool({ name: 'list_conflicts', arguments: {} }))).toHaveProperty('items');
  });

  it('reads chitty:// resources and announces a subscribed one when it changes', async () => {
    const t = (await gw.call('POST', '/api/v1/todos', { content: `Watched by ${name}` })).json;
    const uri = `chitty://todos/${t.chittyId}`;
    const read = await client.readResource({ uri });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ chittyId: t.chittyId });
    const templates = await client.listResourceTemplates();
    expect(templates.resourceTemplates.map((r) => r.uriTemplate)).toContain('chitty://todos/{id}');
    await client.subscribeResource({ uri });
    // The stdio server learns of changes from /ws: change until the subscription is seen to work.
    const changed = updateOf(uri);
    await gw.call('PUT', `/api/v1/todos/${t.chittyId}`, { status: 'completed' });
    await changed; // the test's timeout bounds the wait
    expect(updated).toContain(uri);
  });
});

describe('/mcp without the token', () => {
  it('answers 401', async () => {
    const r = await gw.call('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, { token: null });
    expect(r.status).toBe(401);
  });
});
