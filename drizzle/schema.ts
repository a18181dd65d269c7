/**
 * Database schema (drizzle-orm, Postgres dialect). Migrations are generated from this file by
 * `npm run db:generate` into drizzle/migrations and applied at start. Append-only: never edit or
 * reorder a generated migration.
 */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Columns every domain table shares: the materialized entity, its CRDT state, and indexed fields. */
const entityColumns = () => ({
  id: text('id').primaryKey(),
  /** The materialized entity as readers see it. */
  data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  /** Per-field CRDT state (registers, sets, clocks). */
  crdt: jsonb('crdt').$type<unknown>().notNull(),
  vclock: jsonb('vclock').$type<Record<string, number>>().notNull(),
  /** HLC of the latest change. */
  hlc: text('hlc').notNull(),
  deleted: boolean('deleted').notNull().default(false),
  projectId: text('project_id'),
  sessionId: text('session_id'),
  status: text('status'),
  /** Normalized content hash (todos): finds duplicates across sessions. */
  contentHash: text('content_hash'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});

const entityTable = <N extends string>(name: N) =>
  pgTable(name, entityColumns(), (t) => [
    index(`${name}_project_idx`).on(t.projectId, t.deleted),
    index(`${name}_session_idx`).on(t.sessionId),
    index(`${name}_hash_idx`).on(t.projectId, t.contentHash),
  ]);

export const topics = entityTable('topics');
export const projects = entityTable('projects');
export const sessions = entityTable('sessions');
export const todos = entityTable('todos');
export const contexts = entityTable('contexts');
export const repos = entityTable('repos');
export const services = entityTable('services');

/** Append-only event log: every accepted change (the spec's TemporalState). */
export const events = pgTable(
  'events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: text('id').notNull(),
    changeId: text('change_id').notNull(),
    domain: text('domain').notNull(),
    entityId: text('entity_id').notNull(),
    node: text('node').notNull(),
    hlc: text('hlc').notNull(),
    vclock: jsonb('vclock').$type<Record<string, number>>().notNull(),
    change: jsonb('change').$type<unknown>().notNull(),
    /** Checksum of the entity state after this change. */
    checksum: text('checksum').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('events_id_uq').on(t.id), uniqueIndex('events_change_uq').on(t.changeId), index('events_entity_idx').on(t.entityId, t.seq)],
);

/** Transactional outbox: SyncMessages committed with the change that caused them. */
export const outbox = pgTable(
  'outbox',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: text('id').notNull(),
    domain: text('domain').notNull(),
    entityId: text('entity_id'),
    message: jsonb('message').$type<unknown>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('outbox_id_uq').on(t.id), index('outbox_pending_idx').on(t.seq).where(sql`${t.dispatchedAt} is null`)],
);

/** Concurrent edits of a text field, kept for a person to resolve. */
export const conflicts = pgTable(
  'conflicts',
  {
    id: text('id').primaryKey(),
    domain: text('domain').notNull(),
    entityId: text('entity_id').notNull(),
    field: text('field').notNull(),
    versions: jsonb('versions').$type<unknown[]>().notNull(),
    status: text('status').$type<'open' | 'resolved'>().notNull(),
    resolution: jsonb('resolution').$type<unknown>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('conflicts_open_uq').on(t.entityId, t.field).where(sql`${t.status} = 'open'`), index('conflicts_status_idx').on(t.status)],
);
