/** Reads of hub state: entities (current, listed, counted, as of a time), their history and sync figures. */
import { and, asc, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../db.ts';
import * as schema from '../../drizzle/schema.ts';
import { applyChange, emptyCrdt, materialize, type Change } from './crdt.ts';
import { domainSpec, type Domain } from './domains.ts';
import { NotFoundError } from './errors.ts';
import { tableOf, type Entity, type EntityTable, type ListFilter } from './types.ts';
import type { VectorClock } from './vector-clock.ts';

export async function get(db: Db, domain: Domain, id: string, opts: { includeDeleted?: boolean } = {}): Promise<Entity | undefined> {
  const t = tableOf(domain);
  const [row] = await db.select({ data: t.data, deleted: t.deleted }).from(t).where(eq(t.id, id));
  if (!row || (row.deleted && !opts.includeDeleted)) return undefined;
  return row.data as Entity;
}

export async function mustGet(db: Db, domain: Domain, id: string): Promise<Entity> {
  const e = await get(db, domain, id);
  if (!e) throw new NotFoundError(`No ${domainSpec(domain).entityType} with id ${id}.`);
  return e;
}

export async function list(db: Db, domain: Domain, f: ListFilter = {}): Promise<Entity[]> {
  const t = tableOf(domain);
  const rows = await db
    .select({ data: t.data })
    .from(t)
    .where(and(...listWhere(t, f)))
    .orderBy(asc(t.id))
    .limit(Math.min(f.limit ?? 100, 1000));
  return rows.map((r) => r.data as Entity);
}

/** How many entities match a filter (`after` and `limit` are ignored). */
export async function count(db: Db, domain: Domain, f: ListFilter = {}): Promise<number> {
  const t = tableOf(domain);
  const { after: _after, ...rest } = f;
  const [row] = await db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(t)
    .where(and(...listWhere(t, rest)));
  return row?.n ?? 0;
}

/** The entity as it was at time `at`: a replay of its events recorded up to then. */
export async function getAt(db: Db, domain: Domain, id: string, at: Date): Promise<Entity | undefined> {
  const rows = await db
    .select({ change: schema.events.change, checksum: schema.events.checksum })
    .from(schema.events)
    .where(and(eq(schema.events.entityId, id), eq(schema.events.domain, domain), lte(schema.events.recordedAt, at)))
    .orderBy(asc(schema.events.seq));
  if (rows.length === 0) return undefined;
  const state = rows.reduce((s, r) => applyChange(s, r.change as Change), emptyCrdt());
  const entity = materialize(domainSpec(domain), id, state) as Entity;
  return entity.deleted === true ? undefined : entity;
}

export async function history(db: Db, id: string): Promise<{ id: string; changeId: string; node: string; hlc: string; vclock: VectorClock; checksum: string; recordedAt: string; change: unknown }[]> {
  const rows = await db.select().from(schema.events).where(eq(schema.events.entityId, id)).orderBy(asc(schema.events.seq));
  return rows.map((r) => ({ id: r.id, changeId: r.changeId, node: r.node, hlc: r.hlc, vclock: r.vclock, checksum: r.checksum, recordedAt: r.recordedAt.toISOString(), change: r.change }));
}

export async function syncStatus(db: Db, domain: Domain, id: string) {
  const t = tableOf(domain);
  const [row] = await db.select({ vclock: t.vclock, hlc: t.hlc, deleted: t.deleted, updatedAt: t.updatedAt }).from(t).where(eq(t.id, id));
  if (!row) throw new NotFoundError(`No ${domainSpec(domain).entityType} with id ${id}.`);
  const o = schema.outbox;
  const [counts] = await db
    .select({
      pending: sql<number>`count(*) filter (where ${o.dispatchedAt} is null)`.mapWith(Number),
      dispatched: sql<number>`count(*) filter (where ${o.dispatchedAt} is not null)`.mapWith(Number),
    })
    .from(o)
    .where(eq(o.entityId, id));
  const [events] = await db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(schema.events)
    .where(eq(schema.events.entityId, id));
  const open = await db
    .select({ id: schema.conflicts.id, field: schema.conflicts.field })
    .from(schema.conflicts)
    .where(and(eq(schema.conflicts.entityId, id), eq(schema.conflicts.status, 'open')));
  return {
    entityId: id,
    domain,
    deleted: row.deleted,
    vectorClock: row.vclock,
    hlc: row.hlc,
    updatedAt: row.updatedAt.toISOString(),
    events: events?.n ?? 0,
    outbox: { pending: counts?.pending ?? 0, dispatched: counts?.dispatched ?? 0 },
    openConflicts: open,
  };
}

/** Hub-wide sync figures: events, outbox backlog, open conflicts. */
export async function stats(db: Db, nodeId: string): Promise<{ nodeId: string; events: number; outboxPending: number; openConflicts: number }> {
  const r = await db.execute(sql`select
    (select count(*) from ${schema.events})::int as events,
    (select count(*) from ${schema.outbox} where ${schema.outbox.dispatchedAt} is null)::int as pending,
    (select count(*) from ${schema.conflicts} where ${schema.conflicts.status} = 'open')::int as conflicts`);
  const row = rowsOf<Record<string, number>>(r)[0] ?? {};
  return { nodeId, events: Number(row.events ?? 0), outboxPending: Number(row.pending ?? 0), openConflicts: Number(row.conflicts ?? 0) };
}

/** Every entity matching a filter, read page by page. */
export async function listAll(db: Db, domain: Domain, f: ListFilter): Promise<Entity[]> {
  const out: Entity[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await list(db, domain, { ...f, limit: 1000, ...(after ? { after } : {}) });
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1]!.chittyId;
  }
}

function listWhere(t: EntityTable, f: ListFilter): SQL[] {
  const where: SQL[] = [];
  if (!f.includeDeleted) where.push(eq(t.deleted, false));
  if (f.projectId) where.push(eq(t.projectId, f.projectId));
  if (f.sessionId) where.push(eq(t.sessionId, f.sessionId));
  if (f.status) where.push(eq(t.status, f.status));
  if (f.statuses) where.push(f.statuses.length ? inArray(t.status, f.statuses) : sql`false`);
  if (f.after) where.push(gt(t.id, f.after));
  if (f.assignee) where.push(sql`${t.data} -> 'assignees' @> ${JSON.stringify([f.assignee])}::jsonb`);
  if (f.mine) {
    where.push(sql`(${t.data} -> 'assignees' @> ${JSON.stringify([f.mine])}::jsonb
      or (${t.data} ->> 'createdBy' = ${f.mine} and coalesce(jsonb_array_length(${t.data} -> 'assignees'), 0) = 0))`);
  }
  return where;
}
