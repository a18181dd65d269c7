import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { Hub } from '../../src/hub/hub.ts';
import { InvalidChangeError, NotFoundError } from '../../src/hub/errors.ts';
import { formatHlc } from '../../src/hub/hlc.ts';
import { applyChange, emptyCrdt, materialize, type Change } from '../../src/hub/crdt.ts';
import { checksum } from '../../src/hub/canonical-json.ts';
import { domainSpec } from '../../src/hub/domains.ts';
import type { SyncMessage } from '../../src/sync/sync-message.ts';
import { DB_KINDS, openTestDatabase } from '../support/database.ts';
import type { Database } from '../../src/db.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function remote(node: string, entityId: string, vclock: Record<string, number>, data: Record<string, unknown>, wallMs = Date.now()): SyncMessage {
  return {
    id: `${node}-${Object.values(vclock).join('-')}-${Math.random().toString(36).slice(2)}`,
    type: 'state_update',
    source: { nodeId: node, platform: 'replica' },
    payload: { domain: 'todos', operation: 'update', entity: { chittyId: entityId, data } },
    metadata: { timestamp: new Date(wallMs).toISOString(), vectorClock: vclock, hlc: formatHlc({ wallMs, counter: 0, node }) },
  };
}

async function counts(database: Database) {
  const r = await database.db.execute(
    sql`select (select count(*) from events)::int as events, (select count(*) from outbox)::int as outbox, (select count(*) from todos)::int as todos, (select count(*) from conflicts)::int as conflicts`,
  );
  return (r as unknown as { rows: unknown[] }).rows?.[0] ?? (r as unknown as unknown[])[0];
}

describe.each(DB_KINDS)('hub on %s', (kind) => {
  let database: Database;
  let hub: Hub;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    hub = new Hub(database, 'hub');
  });
  afterAll(async () => database?.close());

  it('creates, updates, lists and deletes entities with ChittyIDs sortable by creation', async () => {
    const p = await hub.create('projects', { name: 'Alpha' });
    expect(p.chittyId).toMatch(/^CHITTY-PROJ-[0-9A-Z]{26}$/);
    const a = await hub.create('todos', { content: 'First', projectId: p.chittyId, tags: ['x'] });
    const b = await hub.create('todos', { content: 'Second', projectId: p.chittyId });
    expect(a.chittyId < b.chittyId).toBe(true);
    expect(a).toMatchObject({ status: 'pending', priority: 'medium', tags: ['x'], deleted: false });
    const u = await hub.update('todos', a.chittyId, { status: 'completed', tags: ['y'] });
    expect(u).toMatchObject({ status: 'completed', tags: ['y'] });
    expect(typeof u.completedAt).toBe('string');
    expect((await hub.list('todos', { projectId: p.chittyId })).map((t) => t.chittyId)).toEqual([a.chittyId, b.chittyId]);
    expect((await hub.list('todos', { projectId: p.chittyId, status: 'completed' })).map((t) => t.chittyId)).toEqual([a.chittyId]);
    await hub.remove('todos', b.chittyId);
    expect(await hub.get('todos', b.chittyId)).toBeUndefined();
    await expect(hub.update('todos', b.chittyId, { content: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    for (const domain of ['topics', 'sessions', 'contexts', 'repos', 'services'] as const) {
      const body = { topics: { title: 'T' }, sessions: { title: 'S' }, contexts: { summary: 'C' }, repos: { url: 'https://git.example/r' }, services: { name: 'svc' } }[domain];
      const e = await hub.create(domain, body);
      expect(e.chittyId).toMatch(new RegExp(`^CHITTY-${domainSpec(domain).idPrefix}-`));
    }
  });

  it('writes an event with a checksum and an outbox SyncMessage in the same transaction as each change', async () => {
    const t = await hub.create('todos', { content: 'Audit me' });
    await hub.update('todos', t.chittyId, { status: 'in_progress' });
    const history = await hub.history(t.chittyId);
    expect(history).toHaveLength(2);
    let state = emptyCrdt();
    for (const e of history) {
      state = applyChange(state, e.change as Change);
      expect(checksum(materialize(domainSpec('todos'), t.chittyId, state))).toBe(e.checksum);
    }
    const status = await hub.syncStatus('todos', t.chittyId);
    expect(status).toMatchObject({ events: 2, outbox: { pending: 2, dispatched: 0 }, vectorClock: { hub: 2 } });
  });

  it('reproduces spec Example 2: three sessions, a duplicate, most advanced status wins', async () => {
    const project = await hub.create('projects', { name: 'CHITTY-PROJ-123 stand-in' });
    const P = project.chittyId;
    const [A, B, C] = await Promise.all(['A', 'B', 'C'].map((s) => hub.create('sessions', { title: `Session ${s}`, projectId: P, platform: 'claude-code' })));
    const todo = (content: string, s: typeof A, status: string) => hub.create('todos', { content, projectId: P, sessionId: s!.chittyId, status });
    const t1 = await todo('Todo 1', A, 'pending');
    const t2a = await todo('Todo 2', A, 'in_progress');
    const t2b = await todo('todo 2.', B, 'completed'); // same content once normalized
    const t3 = await todo('Todo 3', B, 'pending');
    const t4 = await todo('Todo 4', C, 'in_progress');
    const t5 = await todo('Todo 5', C, 'pending');

    const before = await counts(database);
    const dry = await hub.reconcileTodos({ projectId: P, dryRun: true });
    expect(dry.groups).toHaveLength(1);
    expect(await counts(database)).toEqual(before); // dry run changes nothing

    const r = await hub.reconcileTodos({ projectId: P });
    expect(r.groups).toEqual([expect.objectContaining({ survivor: t2a.chittyId, merged: [t2b.chittyId], status: 'completed', sessions: [A!.chittyId, B!.chittyId].sort() })]);
    const byId = new Map(r.todos.map((t) => [t.chittyId, t]));
    expect(r.todos).toHaveLength(5);
    expect(byId.get(t1.chittyId)).toMatchObject({ status: 'pending', sessions: [A!.chittyId] });
    expect(byId.get(t2a.chittyId)).toMatchObject({ status: 'completed', mergedFrom: [t2b.chittyId], sessions: [A!.chittyId, B!.chittyId].sort() });
    expect(byId.get(t3.chittyId)).toMatchObject({ status: 'pending', sessions: [B!.chittyId] });
    expect(byId.get(t4.chittyId)).toMatchObject({ status: 'in_progress', sessions: [C!.chittyId] });
    expect(byId.get(t5.chittyId)).toMatchObject({ status: 'pending', sessions: [C!.chittyId] });
    expect(await hub.get('todos', t2b.chittyId)).toBeUndefined();
    expect((await hub.get('todos', t2b.chittyId, { includeDeleted: true }))?.mergedInto).toBe(t2a.chittyId);
    // Reconciling again is a no-op.
    expect((await hub.reconcileTodos({ projectId: P })).groups).toEqual([]);
  });

  it('keeps concurrent content edits from two replicas as one conflict and resolves it everywhere', async () => {
    const t = await hub.create('todos', { content: 'Original' });
    const base = (await hub.syncStatus('todos', t.chittyId)).vectorClock as Record<string, number>;
    const edits = [remote('laptop', t.chittyId, { ...base, laptop: 1 }, { content: 'Laptop wording' }), remote('phone', t.chittyId, { ...base, phone: 1 }, { content: 'Phone wording' })];
    expect((await hub.applyRemote('todos', edits)).map((r) => r.status)).toEqual(['applied', 'applied']);
    expect((await hub.applyRemote('todos', [edits[0]!])).map((r) => r.status)).toEqual(['duplicate']);
    const open = (await hub.conflicts()).filter((c) => c.entityId === t.chittyId);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ field: 'content', status: 'open' });
    expect(open[0]!.versions.map((v) => v.value).sort()).toEqual(['Laptop wording', 'Phone wording']);

    const { conflict, entity } = await hub.resolveConflict(open[0]!.id, { version: 'phone' });
    expect(conflict.status).toBe('resolved');
    expect(entity.content).toBe('Phone wording');
    expect((await hub.conflicts()).filter((c) => c.entityId === t.chittyId)).toEqual([]);
    // The resolution is itself a change that dominates both versions, broadcast like any other.
    const status = await hub.syncStatus('todos', t.chittyId);
    expect(status.vectorClock).toMatchObject({ laptop: 1, phone: 1 });
  });

  it('merges concurrent completed vs in_progress to completed without a conflict', async () => {
    const t = await hub.create('todos', { content: 'Race' });
    const base = (await hub.syncStatus('todos', t.chittyId)).vectorClock as Record<string, number>;
    const now = Date.now();
    await hub.applyRemote('todos', [remote('a', t.chittyId, { ...base, a: 1 }, { status: 'completed' }, now), remote('b', t.chittyId, { ...base, b: 1 }, { status: 'in_progress' }, now + 1000)]);
    expect((await hub.get('todos', t.chittyId))?.status).toBe('completed');
    expect((await hub.conflicts()).filter((c) => c.entityId === t.chittyId)).toEqual([]);
  });

  it('answers the state of an entity at a past time by replaying events', async () => {
    const t = await hub.create('todos', { content: 'v1' });
    await sleep(15);
    const t1 = new Date();
    await sleep(15);
    await hub.update('todos', t.chittyId, { content: 'v2', status: 'in_progress' });
    await sleep(15);
    const t2 = new Date();
    await sleep(15);
    await hub.remove('todos', t.chittyId);
    expect(await hub.getAt('todos', t.chittyId, t1)).toMatchObject({ content: 'v1', status: 'pending' });
    expect(await hub.getAt('todos', t.chittyId, t2)).toMatchObject({ content: 'v2', status: 'in_progress' });
    expect(await hub.getAt('todos', t.chittyId, new Date())).toBeUndefined();
    expect(await hub.getAt('todos', t.chittyId, new Date(Date.parse(t.createdAt as string) - 1000))).toBeUndefined();
  });

  it('rejects a bad batch of replica messages before applying any of them', async () => {
    const t = await hub.create('todos', { content: 'Stable' });
    const before = await counts(database);
    const good = remote('x', t.chittyId, { x: 1 }, { content: 'changed' });
    const bad = remote('y', t.chittyId, { y: 1 }, { status: 'exploded' });
    await expect(hub.applyRemote('todos', [good, bad])).rejects.toBeInstanceOf(InvalidChangeError);
    const missingClock = remote('z', t.chittyId, { other: 1 }, { content: 'no clock' });
    await expect(hub.applyRemote('todos', [missingClock])).rejects.toThrow(/vectorClock/);
    expect(await counts(database)).toEqual(before);
    expect((await hub.get('todos', t.chittyId))?.content).toBe('Stable');
  });

  it('serializes concurrent local writes to one entity without losing any', async () => {
    const t = await hub.create('todos', { content: 'Busy' });
    await Promise.all(Array.from({ length: 10 }, (_, i) => hub.update('todos', t.chittyId, { tags: [`t${i}`] })));
    const status = await hub.syncStatus('todos', t.chittyId);
    expect(status.events).toBe(11);
    expect(status.vectorClock).toEqual({ hub: 11 });
  });
});
