/** `todo list` in a project with more todos than one page: open and --mine are filtered in SQL, none lost silently. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { Hub } from '../../src/hub/hub.ts';
import { ConversationCore, type CoreResult } from '../../src/core/conversation-core.ts';
import type { Channel } from '../../src/core/inbound.ts';
import { formatHlc } from '../../src/hub/hlc.ts';
import type { Database } from '../../src/db.ts';
import * as schema from '../../drizzle/schema.ts';
import { applyChange, emptyCrdt, materialize, type Change } from '../../src/hub/crdt.ts';
import { domainSpec } from '../../src/hub/domains.ts';
import { openTestDatabase } from '../support/database.ts';

const PHONE = { channel: 'sms' as Channel, sender: 'sms:+15550002222', address: '+15550002222' };
const COMPLETED = 600;
const OTHERS_OPEN = 1100;

let database: Database;
let hub: Hub;
let core: ConversationCore;
let seq = 0;

async function say(text: string): Promise<CoreResult> {
  return core.handle({ ...PHONE, text, providerMessageId: `scale-${++seq}`, receivedAt: new Date('2026-11-25T10:00:00Z') });
}

/** Todo rows written straight to the table (as the hub would store them), ids sorting before anything the hub makes. */
async function bulk(projectId: string, prefix: string, n: number, data: Record<string, unknown>): Promise<void> {
  const spec = domainSpec('todos');
  const wallMs = Date.parse('2026-11-01T00:00:00Z');
  const rows = Array.from({ length: n }, (_, i) => {
    const id = `CHITTY-TODO-00${prefix}${String(i).padStart(5, '0')}`;
    const { assignees, ...set } = { content: `${prefix} ${i}`, projectId, ...spec.defaults, ...data } as Record<string, unknown>;
    const change: Change = {
      id: `bulk-${prefix}-${i}`,
      domain: 'todos',
      entityId: id,
      node: 'bulk',
      hlc: formatHlc({ wallMs, counter: i, node: 'bulk' }),
      vclock: { bulk: 1 },
      set,
      ...(assignees ? { add: { assignees: assignees as string[] } } : {}),
    };
    const crdt = applyChange(emptyCrdt(), change);
    const entity = materialize(spec, id, crdt);
    const now = new Date(wallMs);
    return {
      id,
      data: entity,
      crdt,
      vclock: crdt.vclock,
      hlc: change.hlc,
      deleted: false,
      projectId,
      sessionId: null,
      status: String(entity.status),
      contentHash: null,
      createdAt: now,
      updatedAt: now,
    };
  });
  for (let i = 0; i < rows.length; i += 500) await database.db.insert(schema.todos).values(rows.slice(i, i + 500));
}

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  hub = new Hub(database, 'hub');
  core = new ConversationCore(hub, database, createLogger('silent'), { allowlist: [PHONE.sender] });
});
afterAll(async () => database?.close());

describe('todo list past one page', () => {
  it('lists every open todo and every one of mine when the project holds more than 1000', async () => {
    await say('project create Big');
    await say('project use big');
    const project = (await hub.list('projects')).find((p) => p.name === 'Big')!;
    await say('todo add Mine one');
    await bulk(project.chittyId, 'DONE', COMPLETED, { status: 'completed' });
    await bulk(project.chittyId, 'OTHER', OTHERS_OPEN, { assignees: ['someone-else'] });
    await say('todo add Mine two --assign me');
    await say('todo add Mine three');

    const mine = await say('todo list --mine');
    expect(mine.reply.title).toBe('Your open todos in Big (3)');
    expect(mine.reply.items?.map((i) => i.text)).toEqual(['Mine one', 'Mine two', 'Mine three']);

    const open = await say('todo list');
    const openTotal = OTHERS_OPEN + 3;
    expect(open.reply.title).toBe(`Open todos in Big (first 1000 of ${openTotal})`);
    expect(open.reply.items).toHaveLength(1000);
    expect(open.reply.items?.every((i) => i.status === 'pending')).toBe(true);
    expect(open.reply.footer).toMatch(/Narrow the list/);

    const done = await say('todo list --status completed');
    expect(done.reply.title).toBe(`Completed todos in Big (${COMPLETED})`);
    expect(done.reply.items).toHaveLength(COMPLETED);
  }, 120_000);
});
