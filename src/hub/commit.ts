/** The commit path: merge a change into its entity under a row lock, then write row, event, outbox and conflict rows. */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../db.ts';
import * as schema from '../../drizzle/schema.ts';
import { applyChange, conflictsOf, emptyCrdt, materialize, type Change, type EntityCrdt } from './crdt.ts';
import { checksum } from './canonical-json.ts';
import { contentHash } from './content-hash.ts';
import { domainSpec, type Domain } from './domains.ts';
import { NotFoundError } from './errors.ts';
import { conflictId, messageId, stateId } from './ids.ts';
import { incrementClock, type VectorClock } from './vector-clock.ts';
import type { HubContext } from './context.ts';
import { tableOf, type Actor, type Entity } from './types.ts';
import { conflictMessage, stateUpdateMessage } from '../sync/build-message.ts';
import type { SyncMessage } from '../sync/sync-message.ts';

export interface LockedEntity {
  data: Entity;
  crdt: EntityCrdt;
  vclock: VectorClock;
  deleted: boolean;
}

export interface Outcome {
  entity: Entity;
  messages: SyncMessage[];
  duplicate: boolean;
}

export type Operation = 'create' | 'update' | 'delete';

/** Lock one entity row; a missing (or, unless asked, deleted) entity is a NotFoundError. */
export async function lockExisting(tx: Tx, domain: Domain, id: string, includeDeleted = false): Promise<LockedEntity> {
  const locked = (await lockEntities(tx, domain, [id])).get(id);
  if (!locked || (locked.deleted && !includeDeleted)) throw new NotFoundError(`No ${domainSpec(domain).entityType} with id ${id}.`);
  return locked;
}

/**
 * Lock several entity rows in one statement, in id order (byte order, the same in JS and SQL) so
 * two transactions locking overlapping sets cannot deadlock. `mayCreate` first inserts
 * placeholders for missing ids, in the same order.
 */
export async function lockEntities(tx: Tx, domain: Domain, ids: string[], mayCreate = false): Promise<Map<string, LockedEntity>> {
  const sorted = [...new Set(ids)].sort();
  const out = new Map<string, LockedEntity>();
  if (sorted.length === 0) return out;
  const t = tableOf(domain);
  if (mayCreate) {
    const now = new Date();
    // Placeholder rows so concurrent first writers serialize on the row locks below.
    await tx
      .insert(t)
      .values(sorted.map((id) => ({ id, data: {}, crdt: emptyCrdt(), vclock: {}, hlc: '', deleted: true, createdAt: now, updatedAt: now })))
      .onConflictDoNothing();
  }
  const rows = await tx
    .select({ id: t.id, data: t.data, crdt: t.crdt, vclock: t.vclock, deleted: t.deleted })
    .from(t)
    .where(inArray(t.id, sorted))
    .orderBy(asc(sql`${t.id} collate "C"`))
    .for('update');
  for (const r of rows) out.set(r.id, { data: r.data as Entity, crdt: r.crdt as EntityCrdt, vclock: r.vclock, deleted: r.deleted });
  return out;
}

/** Make a change on this node (its id, HLC and next vector clock) and commit it. */
export async function commitLocal(
  hub: HubContext,
  tx: Tx,
  domain: Domain,
  id: string,
  ops: { set?: Record<string, unknown>; add?: Record<string, string[]>; remove?: Record<string, string[]> },
  actor: Actor,
  operation: Operation,
  isNew: boolean,
  current?: { vclock: VectorClock },
  resolution?: unknown,
): Promise<Entity> {
  const change: Change = {
    id: messageId(),
    domain,
    entityId: id,
    node: hub.nodeId,
    hlc: hub.clock.now(),
    vclock: incrementClock(current?.vclock ?? {}, hub.nodeId),
    ...(ops.set && Object.keys(ops.set).length ? { set: ops.set } : {}),
    ...(nonEmpty(ops.add) ? { add: nonEmpty(ops.add)! } : {}),
    ...(nonEmpty(ops.remove) ? { remove: nonEmpty(ops.remove)! } : {}),
  };
  localChanges.add(change);
  const outcome = await commit(hub, tx, domain, change, actor, operation, isNew, resolution);
  return outcome.entity;
}

/**
 * Merge one change into the entity under a row lock and write row, event, outbox, conflicts.
 * Round trips: a create made here is one statement writing the row, the event, the outbox rows
 * and the NOTIFY; a replica's new entity first inserts a placeholder (its lock); an existing one
 * adds the locking read, the open-conflicts read and (for a replayed change) the duplicate check.
 */
export async function commit(hub: HubContext, tx: Tx, domain: Domain, change: Change, actor: Actor, operation: Operation, mayCreate: boolean, resolution?: unknown): Promise<Outcome> {
  const t = tableOf(domain);
  const spec = domainSpec(domain);
  const now = new Date();
  // A create made on this node now has a new, random id: its row is written whole in the one
  // statement below, no placeholder first.
  const brandNew = mayCreate && operation === 'create' && isLocal(hub, change);
  // Inserted here, now: nobody else has this row, its change, or conflicts about it.
  let fresh = brandNew;
  if (mayCreate && !brandNew) {
    // Placeholder row so concurrent first writers serialize on the row lock below.
    const inserted = await tx
      .insert(t)
      .values({ id: change.entityId, data: {}, crdt: emptyCrdt(), vclock: {}, hlc: '', deleted: true, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning({ id: t.id });
    fresh = inserted.length === 1;
  }
  let crdt = emptyCrdt();
  if (!fresh) {
    const [row] = await tx.select({ crdt: t.crdt, data: t.data }).from(t).where(eq(t.id, change.entityId)).for('update');
    if (!row) throw new NotFoundError(`No ${spec.entityType} with id ${change.entityId}.`);
    // Only now, holding the row lock: a racing transaction that applied this change has committed
    // (read committed: this statement sees it), so a replay is a duplicate, never a unique violation.
    // A change made on this node now (`local`) has a new id: it cannot have been applied before.
    if (!isLocal(hub, change)) {
      const [seen] = await tx.select({ id: schema.events.id }).from(schema.events).where(eq(schema.events.changeId, change.id));
      if (seen) return { entity: row.data as Entity, messages: [], duplicate: true };
    }
    crdt = (row.crdt as EntityCrdt) ?? emptyCrdt();
  }

  const state = applyChange(crdt, change);
  const entity = materialize(spec, change.entityId, state) as Entity;
  const deleted = entity.deleted === true;
  const fields = {
    data: entity,
    crdt: state,
    vclock: state.vclock,
    hlc: state.updated ?? change.hlc,
    deleted,
    projectId: str(entity.projectId),
    sessionId: str(entity.sessionId),
    status: str(entity.status),
    contentHash: domain === 'todos' && typeof entity.content === 'string' ? contentHash(entity.content) : null,
    createdAt: new Date(String(entity.createdAt ?? now.toISOString())),
    updatedAt: now,
  };
  const row = brandNew ? tx.insert(t).values({ id: change.entityId, ...fields }) : tx.update(t).set(fields).where(eq(t.id, change.entityId));
  const event = tx.insert(schema.events).values({
    id: stateId(),
    changeId: change.id,
    domain,
    entityId: change.entityId,
    node: change.node,
    hlc: change.hlc,
    vclock: change.vclock,
    change,
    checksum: checksum(entity),
    recordedAt: now,
  });

  const message = stateUpdateMessage(hub.nodeId, change, actor, operation, entity, state.vclock, now);
  const messages = [message, ...(await syncConflicts(hub, tx, domain, change.entityId, state, entity, now, resolution, fresh))];
  const outbox = tx.insert(schema.outbox).values(messages.map((m) => ({ id: m.id, domain, entityId: change.entityId, message: m })));
  // Row, event and outbox in one statement (one round trip); the NOTIFY that wakes relays in
  // other processes rides along (Postgres sends it only if this transaction commits, and once
  // per transaction however many changes it holds).
  const notify = hub.outboxChannel ? sql`select pg_notify(${hub.outboxChannel}, '')` : sql`select 1`;
  await tx.execute(sql`with u as ${row}, e as ${event}, o as ${outbox} ${notify}`); // drizzle puts each builder in parentheses
  hub.announce(tx, messages, hub.outboxChannel !== undefined);
  return { entity, messages, duplicate: false };
}

/** A change this node made just now (a new id from `commitLocal`), not a replica's replay. */
const localChanges = new WeakSet<Change>();
const isLocal = (hub: HubContext, change: Change) => localChanges.has(change) && change.node === hub.nodeId;

/** Keep the conflicts table in step with the entity's concurrent text versions. */
async function syncConflicts(hub: HubContext, tx: Tx, domain: Domain, id: string, state: EntityCrdt, entity: Entity, now: Date, resolution: unknown, fresh: boolean): Promise<SyncMessage[]> {
  const spec = domainSpec(domain);
  const c = schema.conflicts;
  const current = new Map(conflictsOf(spec, state).map((x) => [x.field, x]));
  // A new entity has no conflict rows yet, and one change alone has no concurrent versions.
  if (fresh && current.size === 0) return [];
  const open = fresh
    ? []
    : await tx
        .select()
        .from(c)
        .where(and(eq(c.entityId, id), eq(c.status, 'open')));
  const messages: SyncMessage[] = [];
  for (const row of open) {
    const still = current.get(row.field);
    if (still) {
      await tx.update(c).set({ versions: still.versions }).where(eq(c.id, row.id));
      current.delete(row.field);
    } else {
      await tx
        .update(c)
        .set({ status: 'resolved', resolvedAt: now, resolution: resolution ?? { value: entity[row.field], by: 'a later edit that saw every version' } })
        .where(eq(c.id, row.id));
    }
  }
  for (const conflict of current.values()) {
    const id2 = conflictId();
    await tx.insert(c).values({ id: id2, domain, entityId: id, field: conflict.field, versions: conflict.versions, status: 'open', createdAt: now });
    messages.push(conflictMessage(hub.nodeId, domain, id, id2, conflict, state.vclock, hub.clock.now(), now));
  }
  return messages;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function nonEmpty(o: Record<string, string[]> | undefined): Record<string, string[]> | undefined {
  if (!o) return undefined;
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v.length > 0));
  return Object.keys(out).length ? out : undefined;
}
