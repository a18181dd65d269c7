/** The HTTP API end to end: auth, validation, Example 2, replica conflicts, time travel, OpenAPI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/hub/hlc.ts';
import type { SyncMessage } from '../../src/sync/sync-message.ts';
import { DB_KINDS } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function replicaEdit(node: string, entityId: string, vclock: Record<string, number>, data: Record<string, unknown>): SyncMessage {
  const wallMs = Date.now();
  return {
    id: `${node}-${Math.random().toString(36).slice(2)}`,
    type: 'state_update',
    source: { nodeId: node, platform: 'replica' },
    payload: { domain: 'todos', operation: 'update', entity: { chittyId: entityId, data } },
    metadata: { timestamp: new Date(wallMs).toISOString(), vectorClock: vclock, hlc: formatHlc({ wallMs, counter: 0, node }) },
  };
}

describe.each(DB_KINDS)('API on %s', (kind) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(kind);
  });
  afterAll(async () => gw?.close());

  it('serves /health without a token (ok per check), with the database status for the token', async () => {
    const r = await gw.call('GET', '/health', undefined, { token: null });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'ok', checks: { database: { ok: true } } });
    expect((await gw.call('GET', '/health')).json).toMatchObject({ status: 'ok', checks: { database: { ok: true, kind: kind } } });
  });

  it('rejects bad input with a clear error and changes nothing', async () => {
    const t = await gw.call('POST', '/api/v1/todos', { content: 'Existing' });
    expect(t.status).toBe(201);
    const id = t.json.chittyId as string;
    const before = await gw.counts();
    const bad: [string, string, { body?: unknown; raw?: string; token?: string | null }, number, RegExp][] = [
      ['POST', '/api/v1/todos', { body: { content: 'x' }, token: null }, 401, /Bearer/],
      ['POST', '/api/v1/todos', { body: { content: 'x' }, token: 'wrong-token' }, 401, /Bearer/],
      ['GET', '/api/v1/todos', { token: null }, 401, /Bearer/],
      ['POST', '/api/v1/todos', { raw: '{"content": "x"' }, 400, /not valid JSON/],
      ['POST', '/api/v1/todos', { raw: '' }, 400, /empty/],
      ['POST', '/api/v1/todos', { body: { content: '' } }, 400, /content/],
      ['POST', '/api/v1/todos', { body: { content: 'x', status: 'finished' } }, 400, /status/],
      ['POST', '/api/v1/todos', { body: { content: 'x', evil: true } }, 400, /evil/],
      ['POST', '/api/v1/todos', { body: [1, 2, 3] }, 400, /body/],
      ['PUT', `/api/v1/todos/${id}`, { body: { status: 'nope' } }, 400, /status/],
      ['PUT', '/api/v1/todos/CHITTY-TODO-UNKNOWN', { body: { status: 'completed' } }, 404, /No todo/],
      ['DELETE', '/api/v1/todos/CHITTY-TODO-UNKNOWN', {}, 404, /No todo/],
      ['GET', `/api/v1/todos/${id}?at=yesterday`, {}, 400, /at/],
      ['POST', '/api/v1/todos', { raw: JSON.stringify({ content: 'x'.repeat(1024 * 1024 + 10) }) }, 413, /larger than/],
      ['POST', '/api/v1/sync/todos', { body: { messages: [{ id: 'm1', type: 'state_update' }] } }, 400, /Invalid body/],
      ['POST', '/api/v1/sync/conflicts/CHITTY-CONFLICT-NOPE/resolve', { body: { version: 0 } }, 404, /conflict/i],
      ['POST', '/api/v1/todos/reconcile', { body: { projectId: 'CHITTY-PROJ-NOPE' } }, 404, /project/],
      ['GET', '/api/v1/nothing-here', {}, 404, /No route/],
    ];
    for (const [method, path, o, status, message] of bad) {
      const r = await gw.call(method, path, o.body, o);
      expect({ method, path, status: r.status }).toEqual({ method, path, status });
      expect(r.json?.error?.message, `${method} ${path}`).toMatch(message);
      expect(r.text).not.toMatch(/at .*\.ts:\d+/); // no stack traces
    }
    // A replica batch with one bad message applies none of it.
    const ok = replicaEdit('laptop', id, { hub: 1, laptop: 1 }, { content: 'fine' });
    const r = await gw.call('POST', '/api/v1/sync/todos', { messages: [ok, { ...ok, id: 'other', payload: { ...ok.payload, entity: { chittyId: id, data: { status: 'nope' } } } }] });
    expect(r.status).toBe(400);
    expect(await gw.counts()).toEqual(before);
    expect((await gw.call('GET', '/health', undefined, { token: null })).status).toBe(200);
  });

  it("reconciles the spec's Example 2 through POST /todos/reconcile (dry run first)", async () => {
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Example 2' })).json.chittyId as string;
    const session = async (title: string) => (await gw.call('POST', '/api/v1/sessions', { title, projectId: P })).json.chittyId as string;
    const [A, B, C] = [await session('A'), await session('B'), await session('C')];
    const todo = async (content: string, s: string, status: string) => (await gw.call('POST', '/api/v1/todos', { content, projectId: P, sessionId: s, status })).json.chittyId as string;
    await todo('Todo 1', A, 'pending');
    const t2a = await todo('Todo 2', A, 'in_progress');
    const t2b = await todo('  todo 2 ', B, 'completed');
    await todo('Todo 3', B, 'pending');
    await todo('Todo 4', C, 'in_progress');
    await todo('Todo 5', C, 'pending');

    const before = await gw.counts();
    const dry = await gw.call('POST', '/api/v1/todos/reconcile', { projectId: P, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.json.groups).toHaveLength(1);
    expect(await gw.counts()).toEqual(before);

    const r = await gw.call('POST', '/api/v1/todos/reconcile', { projectId: P });
    expect(r.json.groups[0]).toMatchObject({ survivor: t2a, merged: [t2b], status: 'completed' });
    const list = await gw.call('GET', `/api/v1/todos?projectId=${P}`);
    const summary = list.json.items.map((t: any) => [t.content, t.status, t.sessions.length]);
    expect(summary).toEqual([
      ['Todo 1', 'pending', 1],
      ['Todo 2', 'completed', 2],
      ['Todo 3', 'pending', 1],
      ['Todo 4', 'in_progress', 1],
      ['Todo 5', 'pending', 1],
    ]);
    const mesh = await gw.call('GET', `/api/v1/todos/mesh?projectId=${P}`);
    expect(mesh.json.merges).toEqual([{ into: t2a, from: t2b }]);
  });

  it("turns two replicas' concurrent content edits into one conflict, resolved everywhere; status merges to completed", async () => {
    const t = (await gw.call('POST', '/api/v1/todos', { content: 'Original', status: 'pending' })).json;
    const status = await gw.call('GET', `/api/v1/sync/todos/${t.chittyId}/status`);
    const base = status.json.vectorClock as Record<string, number>;
    const laptop = replicaEdit('laptop', t.chittyId, { ...base, laptop: 1 }, { content: 'Laptop wording', status: 'completed' });
    const phone = replicaEdit('phone', t.chittyId, { ...base, phone: 1 }, { content: 'Phone wording', status: 'in_progress' });
    const r1 = await gw.call('POST', '/api/v1/sync/todos', laptop);
    expect(r1.status).toBe(200);
    const r2 = await gw.call('POST', '/api/v1/sync/todos', { messages: [phone, laptop] });
    expect(r2.json.results.map((x: any) => x.status)).toEqual(['applied', 'duplicate']);

    const conflicts = (await gw.call('GET', '/api/v1/sync/conflicts')).json.items.filter((c: any) => c.entityId === t.chittyId);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ field: 'content', status: 'open' });
    const merged = (await gw.call('GET', `/api/v1/todos/${t.chittyId}`)).json;
    expect(merged.status).toBe('completed');

    const phoneIndex = conflicts[0].versions.findIndex((v: any) => v.value === 'Phone wording');
    const resolved = await gw.call('POST', `/api/v1/sync/conflicts/${conflicts[0].id}/resolve`, { version: phoneIndex });
    expect(resolved.status).toBe(200);
    expect(resolved.json.entity.content).toBe('Phone wording');
    expect((await gw.call('GET', `/api/v1/todos/${t.chittyId}`)).json).toMatchObject({ content: 'Phone wording', status: 'completed' });
    expect((await gw.call('GET', '/api/v1/sync/conflicts')).json.items.filter((c: any) => c.entityId === t.chittyId)).toEqual([]);
    const again = await gw.call('POST', `/api/v1/sync/conflicts/${conflicts[0].id}/resolve`, { version: 0 });
    expect(again.status).toBe(409);
  });

  it('answers GET /todos/:id?at=T with the state as it was at T', async () => {
    const t = (await gw.call('POST', '/api/v1/todos', { content: 'Draft' })).json;
    await sleep(20);
    const t1 = new Date().toISOString();
    await sleep(20);
    await gw.call('PUT', `/api/v1/todos/${t.chittyId}`, { content: 'Final', status: 'completed' });
    expect((await gw.call('GET', `/api/v1/todos/${t.chittyId}?at=${t1}`)).json).toMatchObject({ content: 'Draft', status: 'pending' });
    expect((await gw.call('GET', `/api/v1/todos/${t.chittyId}`)).json).toMatchObject({ content: 'Final', status: 'completed' });
    expect((await gw.call('GET', `/api/v1/todos/${t.chittyId}?at=2000-01-01T00:00:00Z`)).status).toBe(404);
    const history = await gw.call('GET', `/api/v1/todos/${t.chittyId}/history`);
    expect(history.json.items).toHaveLength(2);
    expect(history.json.items[0].checksum).toMatch(/^sha256:/);
  });
});

describe('OpenAPI document', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
  });
  afterAll(async () => gw?.close());

  it('is OpenAPI 3.1, public, and describes every route the server answers', async () => {
    const r = await gw.call('GET', '/api/v1/openapi.json', undefined, { token: null });
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe('3.1.0');
    const documented = new Set(Object.entries(r.json.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
    for (const spec of [
      'POST /api/v1/sync/{domain}',
      'GET /api/v1/sync/conflicts',
      'POST /api/v1/sync/conflicts/{id}/resolve',
      'POST /api/v1/todos/reconcile',
      'GET /api/v1/todos/mesh',
      'DELETE /api/v1/sessions/{id}',
      'GET /api/v1/sessions/{id}/context',
      'POST /api/v1/contexts/propagate',
      'POST /api/v1/contexts/{id}/enrich',
      'GET /api/v1/topics',
      'GET /health',
    ]) {
      expect(documented, spec).toContain(spec);
    }
    // Every documented route is registered: Fastify's route table has it, and a call WITH the token
    // never reaches the not-found handler ("No route …"; an unknown id answers 404 "No todo …").
    const app = gw.app!;
    for (const key of documented) {
      const [method, path] = key.split(' ') as [string, string];
      expect(app.hasRoute({ method: method as 'GET', url: path.replace(/\{([a-z]+)\}/gi, ':$1') }), `${key} is registered`).toBe(true);
      const res = await gw.call(method, path.replace(/\{domain\}/, 'todos').replace(/\{[a-z]+\}/gi, 'X'));
      expect(res.status, `${key} → ${res.text.slice(0, 200)}`).toBeLessThan(500);
      expect(res.json?.error?.message ?? '', key).not.toMatch(/^No route /);
    }
    const todoBody = r.json.paths['/api/v1/todos'].post.requestBody.content['application/json'].schema;
    expect(todoBody.properties.status.enum).toEqual(['pending', 'in_progress', 'blocked', 'completed']);
  });
});
