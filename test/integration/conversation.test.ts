/**
 * The whole command language through the conversation core, checked against hub state: the
 * table runs in order in one SMS-style conversation and a few others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createLogger } from '../../src/log.ts';
import { Hub, type Entity } from '../../src/hub/hub.ts';
import { ConversationCore, type CoreResult } from '../../src/core/conversation-core.ts';
import { OWNER_IDENTITY } from '../../src/core/identity-directory.ts';
import type { Channel } from '../../src/core/inbound.ts';
import { formatHlc } from '../../src/hub/hlc.ts';
import { rowsOf, type Database } from '../../src/db.ts';
import { openTestDatabase } from '../support/database.ts';
import { renderText, renderWhatsApp } from '../../renderers/index.ts';

let database: Database;
let hub: Hub;
let core: ConversationCore;
let seq = 0;

const OWNER = { channel: 'api' as Channel, sender: OWNER_IDENTITY, address: 'owner' };
const PHONE = { channel: 'sms' as Channel, sender: 'sms:+15550001111', address: '+15550001111' };
const STRANGER = { channel: 'sms' as Channel, sender: 'sms:+15559990000', address: '+15559990000' };
const DISCORD = { channel: 'discord' as Channel, sender: 'discord:80351110224678912', address: '111222333444555666' };

async function say(who: { channel: Channel; sender: string; address: string }, text: string, providerMessageId = `m${++seq}`): Promise<CoreResult> {
  return core.handle({ ...who, text, providerMessageId, receivedAt: new Date('2026-11-25T10:00:00Z') });
}

async function events(): Promise<number> {
  const r = await database.db.execute(sql`select count(*)::int as n from events`);
  return Number(rowsOf<{ n: number }>(r)[0]!.n);
}

const todos = async (projectId?: string): Promise<Entity[]> => hub.list('todos', { ...(projectId ? { projectId } : {}), limit: 1000 });
const byContent = async (content: string) => (await hub.list('todos', { limit: 1000, includeDeleted: true })).find((t) => t.content === content);
const replyText = (r: CoreResult) => JSON.stringify(r.reply);

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  hub = new Hub(database, 'hub');
  core = new ConversationCore(hub, database, createLogger('silent'), { allowlist: ['sms:+15550001111'] });
});
afterAll(async () => database?.close());

describe('the command language, end to end through the core', () => {
  let project: Entity;

  type Step = [who: typeof OWNER, text: string, check: (r: CoreResult) => Promise<void> | void];
  const steps: Step[] = [
    [
      PHONE,
      '/project create Groceries --description "weekly shop"',
      async (r) => {
        expect(r.reply.kind).toBe('ok');
        project = (await hub.list('projects')).find((p) => p.name === 'Groceries')!;
        expect(project).toMatchObject({ description: 'weekly shop' });
      },
    ],
    [PHONE, 'project use groceries', async (r) => expect(r.reply.title).toMatch(/Using Groceries/)],
    [
      PHONE,
      '/todo add Buy milk --priority high --due fri',
      async () => {
        const t = await byContent('Buy milk');
        expect(t).toMatchObject({ projectId: project.chittyId, priority: 'high' });
        expect(new Date(String(t!.deadline)).getUTCDay()).toBe(5);
      },
    ],
    [
      PHONE,
      'add “Call the plumber” --assign me',
      async () => {
        const person = await core.identities.personOfIdentity('sms:+15550001111');
        expect((await byContent('Call the plumber'))?.assignees).toEqual([person!.id]);
      },
    ],
    [PHONE, 'todo add Fix bike', async () => expect(await byContent('Fix bike')).toBeDefined()],
    [
      PHONE,
      'list',
      (r) => {
        expect(r.reply.items?.map((i) => [i.ref, i.text])).toEqual([
          ['1', 'Buy milk'],
          ['2', 'Call the plumber'],
          ['3', 'Fix bike'],
        ]);
      },
    ],
    [PHONE, 'done 2', async () => expect((await byContent('Call the plumber'))?.status).toBe('completed')],
    [PHONE, 'start 1', async () => expect((await byContent('Buy milk'))?.status).toBe('in_progress')],
    [PHONE, 'todo block #3', async () => expect((await byContent('Fix bike'))?.status).toBe('blocked')],
    [PHONE, 'TODO REOPEN 3', async () => expect((await byContent('Fix bike'))?.status).toBe('pending')],
    [PHONE, 'todo edit 1 Buy oat milk', async () => expect(await byContent('Buy oat milk')).toMatchObject({ priority: 'high' })],
    [PHONE, 'todo assign 3 discord:80351110224678912', async () => expect((await byContent('Fix bike'))?.assignees).toEqual(['discord:80351110224678912'])],
    [PHONE, 'todo list --mine --status completed', (r) => expect(r.reply.items?.map((i) => i.text)).toEqual(['Call the plumber'])],
    [
      PHONE,
      'todo list --status done',
      (r) => {
        expect(r.reply.items?.map((i) => i.text)).toEqual(['Call the plumber']);
        expect(r.reply.footer).toMatch(/^Reply "done 1" to complete #1/); // the example names an item that is listed
      },
    ],
    [
      PHONE,
      'list',
      (r) => {
        expect(r.reply.items?.map((i) => i.text)).toEqual(['Buy oat milk', 'Fix bike']);
        expect(r.reply.footer).toMatch(/^Reply "done 2" to complete #2/);
      },
    ],
    [PHONE, 'todo delete 2', async () => expect(await hub.get('todos', (await byContent('Fix bike'))!.chittyId)).toBeUndefined()],
    [PHONE, 'add buy OAT milk.', async () => expect((await todos(project.chittyId)).length).toBe(3)],
    [
      PHONE,
      'todo reconcile',
      async (r) => {
        expect(r.reply.title).toMatch(/Merged 1 duplicate/);
        expect((await todos(project.chittyId)).map((t) => t.content).sort()).toEqual(['Buy oat milk', 'Call the plumber']);
      },
    ],
    [
      PHONE,
      'sync todos --dry-run',
      async (r) => {
        expect(r.reply.title).toMatch(/Dry run/);
      },
    ],
    [PHONE, 'sync todos --project Groceries', (r) => expect(r.reply.text).toMatch(/Broadcast 2 entities/)],
    [PHONE, 'sync status', (r) => expect(r.reply.fields?.find((f) => f.label === 'Open conflicts')?.value).toBe('0')],
    [PHONE, 'topic create Design --description "look and feel"', async () => expect((await hub.list('topics')).map((t) => t.title)).toEqual(['Design'])],
    [PHONE, 'topic list', (r) => expect(r.reply.items?.map((i) => i.text)).toEqual(['Design'])],
    [PHONE, 'topic show design', (r) => expect(r.reply.text).toBe('look and feel')],
    [PHONE, 'topic archive Design', async () => expect((await hub.list('topics'))[0]?.status).toBe('archived')],
    [PHONE, 'session start Sprint 1', async () => expect((await hub.list('sessions'))[0]).toMatchObject({ title: 'Sprint 1', status: 'active', platform: 'sms', projectId: project.chittyId })],
    [PHONE, 'session list', (r) => expect(r.reply.items?.map((i) => i.text)).toEqual(['Sprint 1'])],
    [PHONE, 'session show Sprint 1', (r) => expect(r.reply.fields?.find((f) => f.label === 'Platform')?.value).toBe('sms')],
    [PHONE, 'session end', async () => expect((await hub.list('sessions'))[0]?.status).toBe('ended')],
    [PHONE, 'project list', (r) => expect(r.reply.items?.map((i) => i.text)).toEqual(['Groceries'])],
    [PHONE, 'project show Groceries', (r) => expect(r.reply.fields?.find((f) => f.label === 'Todos')?.value).toBe('0 pending · 1 in progress · 0 blocked · 1 done')],
    [
      PHONE,
      'subscribe project Groceries --domains todos,sessions',
      async () => {
        expect(await core.subscriptions.list({ channel: 'sms' })).toEqual([expect.objectContaining({ address: '+15550001111', projectId: project.chittyId, domains: ['sessions', 'todos'] })]);
      },
    ],
    [PHONE, 'subscribe', async () => expect(await core.subscriptions.list({ channel: 'sms' })).toHaveLength(2)],
    [PHONE, 'subscriptions', (r) => expect(r.reply.items).toHaveLength(2)],
    [PHONE, 'unsubscribe project Groceries', async () => expect(await core.subscriptions.list({ channel: 'sms' })).toHaveLength(1)],
    [PHONE, 'stop', async () => expect(await core.subscriptions.list({ channel: 'sms' })).toHaveLength(0)],
    [PHONE, 'help', (r) => expect(r.reply.text).toMatch(/todo add/)],
    [PHONE, 'help todo', (r) => expect(r.reply.text).toMatch(/todo reconcile/)],
  ];

  it.each(steps.map((s, i) => [i + 1, s[1], s] as const))('step %i: %s', async (_i, _text, [who, text, check]) => {
    const r = await say(who, text);
    expect(r.reply.kind, replyText(r)).not.toMatch(/error|usage/);
    await check(r);
  });

  it('answers bad commands with a one-line usage and changes nothing', async () => {
    const before = await events();
    for (const text of [
      'todo frobnicate 2',
      'todo add',
      'done',
      'done 99',
      'todo add x --priority urgent',
      'todo add x --due "the twelfth of never"',
      'todo done CHITTY-TODO-01ARZ3NDEKTSV4RRFFQ69G5FAV',
      'sync everything',
      'project show Nope',
      'frobnicate',
      '',
      '"unterminated',
      'x'.repeat(5000),
    ]) {
      const r = await say(PHONE, text);
      expect(['usage', 'error'], `${text.slice(0, 30)} → ${replyText(r)}`).toContain(r.reply.kind);
      expect(replyText(r)).not.toMatch(/\bat .*\.ts:\d+|TypeError|undefined/);
    }
    expect(await events()).toBe(before);
  });

  it('resolves a replica conflict with sync conflicts / sync resolve', async () => {
    const t = (await byContent('Buy oat milk'))!;
    const base = (await hub.syncStatus('todos', t.chittyId)).vectorClock;
    const edit = (node: string, content: string) => ({
      id: `${node}-${Math.random().toString(36).slice(2)}`,
      type: 'state_update' as const,
      source: { nodeId: node, platform: 'replica' },
      payload: { domain: 'todos' as const, operation: 'update' as const, entity: { chittyId: t.chittyId, data: { content } } },
      metadata: { timestamp: new Date().toISOString(), vectorClock: { ...base, [node]: 1 }, hlc: formatHlc({ wallMs: Date.now(), counter: 0, node }) },
    });
    await hub.applyRemote('todos', [edit('laptop', 'Buy almond milk'), edit('phone', 'Buy soy milk')]);
    const list = await say(PHONE, 'sync conflicts');
    expect(list.reply.items).toHaveLength(1);
    const conflict = (await hub.conflicts())[0]!;
    const soy = conflict.versions.findIndex((v) => v.value === 'Buy soy milk') + 1;
    const r = await say(PHONE, `sync resolve 1 ${soy}`);
    expect(r.reply.kind).toBe('ok');
    expect((await hub.get('todos', t.chittyId))?.content).toBe('Buy soy milk');
    expect(await hub.conflicts()).toEqual([]);
  });
});

describe('names that look like ids', () => {
  it('finds a project by a name that starts like a ChittyID, and by its id in any case', async () => {
    await say(OWNER, 'project create CHITTY-PROJ-123 stand-in');
    const p = (await hub.list('projects', { limit: 1000 })).find((x) => x.name === 'CHITTY-PROJ-123 stand-in')!;
    expect((await say(OWNER, 'project show CHITTY-PROJ-123 stand-in')).reply.footer).toBe(p.chittyId);
    expect((await say(OWNER, `project show ${p.chittyId.toLowerCase()}`)).reply.title).toBe('CHITTY-PROJ-123 stand-in');
    expect((await say(OWNER, 'project show CHITTY-PROJ-01ARZ3NDEKTSV4RRFFQ69G5FAV')).reply.kind).toBe('error');
  });
});

describe('identities, pairing and linking', () => {
  it('an unpaired phone cannot change anything and is told how to pair; a member approves it', async () => {
    const before = await events();
    const r = await say(STRANGER, 'add Steal the cookies');
    expect(r.reply.title).toMatch(/not paired/);
    const code = /link approve ([A-Z0-9]{6})/.exec(r.reply.text ?? '')?.[1];
    expect(code).toBeDefined();
    expect((await say(STRANGER, 'list')).reply.text).toContain(code); // same code while pending
    expect(await events()).toBe(before);
    expect(await byContent('Steal the cookies')).toBeUndefined();

    expect((await say(STRANGER, `link approve ${code}`)).reply.title).toMatch(/not paired/); // cannot approve itself
    expect((await say(PHONE, `link approve ${code!.toLowerCase()}`)).reply.title).toMatch(/Approved sms:\+15559990000/);
    expect((await say(STRANGER, 'add Bake cookies')).reply.kind).toBe('ok');
    expect(await byContent('Bake cookies')).toBeDefined();
    expect((await say(PHONE, `link approve ${code}`)).reply.kind).toBe('error'); // one-time
  });

  it('`link` joins a Discord identity to the same person, so --mine works there', async () => {
    const r = await say(PHONE, 'link');
    const code = /link ([A-Z0-9]{6})/.exec(r.reply.text ?? '')?.[1];
    expect(code).toBeDefined();
    const linked = await say(DISCORD, `link ${code}`);
    expect(linked.reply.title).toMatch(/Linked/);
    const phonePerson = await core.identities.personOfIdentity('sms:+15550001111');
    expect((await core.identities.personOfIdentity('discord:80351110224678912'))?.id).toBe(phonePerson!.id);
    const mine = await say(DISCORD, 'todo list --mine --status completed');
    expect(mine.reply.items?.map((i) => i.text)).toEqual(['Call the plumber']);
    expect((await say(DISCORD, `link ${code}`)).reply.kind).toBe('error'); // used
  });

  it('runs the same inbound message once, and answers a re-delivery with the first answer', async () => {
    const before = await events();
    const [a, b] = await Promise.all([say(PHONE, 'add Only once', 'twilio-SM123'), say(PHONE, 'add Only once', 'twilio-SM123')]);
    const c = await say(PHONE, 'add Only once', 'twilio-SM123');
    expect((await hub.list('todos', { limit: 1000 })).filter((t) => t.content === 'Only once')).toHaveLength(1);
    expect(await events()).toBe(before + 1);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(c.duplicate).toBe(true);
    expect(c.reply).toEqual(a.reply);
  });

  it("keeps one conversation's commands in order while the bot is busy", async () => {
    const texts = Array.from({ length: 8 }, (_, i) => `add Ordered ${i}`);
    await Promise.all(texts.map((t) => say(OWNER, t)));
    const ordered = (await hub.list('todos', { limit: 1000 })).filter((t) => String(t.content).startsWith('Ordered')).map((t) => t.content);
    expect(ordered).toEqual(texts.map((t) => t.slice(4))); // ids sort by creation
  });

  it('pages a long list: `more` shows the next page of the last reply', async () => {
    // Long items, so WhatsApp (4096 chars a message) needs several pages for 30 of them.
    const contents = Array.from({ length: 30 }, (_, i) => `Long list item ${String(i).padStart(2, '0')} ${'words to fill the line '.repeat(8)}`.trim());
    for (const c of contents) await say(OWNER, `add ${c}`);
    const shown = (r: CoreResult) => [...renderWhatsApp(r.reply, { page: r.page }).matchAll(/Long list item (\d\d)/g)].map((m) => Number(m[1]));
    const list = await say(OWNER, 'list');
    expect(list.page).toBe(1);
    const listed = (list.reply.items ?? []).map((i) => i.text).filter((t) => t.startsWith('Long list item'));
    expect(listed).toEqual(contents);
    const page1 = shown(list);
    expect(page1.length).toBeGreaterThan(0);
    expect(page1).toEqual(Array.from({ length: page1.length }, (_, i) => i)); // 0, 1, 2 … in order
    expect(page1.length).toBeLessThan(30);

    const more = await say(OWNER, 'more');
    expect(more.page).toBe(2);
    const page2 = shown(more);
    expect(page2.length).toBeGreaterThan(0);
    expect(page2).toEqual(Array.from({ length: page2.length }, (_, i) => page1.length + i)); // starts where page 1 ended

    // Every further `more` goes on where the last page ended, until all 30 were shown exactly once.
    const seen = [...page1, ...page2];
    for (let page = 3; seen.length < 30 && page < 10; page++) {
      const next = await say(OWNER, 'more');
      expect(next.page).toBe(page);
      seen.push(...shown(next));
    }
    expect(seen).toEqual(contents.map((_, i) => i));
    // Plain text (CLI, API) shows every item on page 1, so a later page repeats none of them.
    expect(renderText(more.reply, { page: more.page })).not.toMatch(/Long list item/);
    expect(renderText(more.reply, { page: more.page })).toContain('No more items.');
    // A new list starts again at page 1.
    expect((await say(OWNER, 'list')).page).toBe(1);
  });
});
