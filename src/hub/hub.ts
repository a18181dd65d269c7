/**
 * The hub: the one place hub state changes. Every change — local (API, CLI, commands) or from
 * another replica — is applied in ONE transaction: entity row, event log, outbox row and conflict
 * rows commit together or not at all.
 */
import { EventEmitter } from 'node:events';
import { and, asc, desc, eq, gt, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import { afterCommit, rowsOf, type Database, type Db, type Tx } from '../db.ts';
import * as schema from '../../drizzle/schema.ts';
import { applyChange, conflictsOf, emptyCrdt, materialize, type Change, type EntityCrdt } from './crdt.ts';
import { checksum } from './canonical-json.ts';
import { contentHash } from './content-hash.ts';
import { createSchema, DOMAINS, domainOfId, domainSpec, updateSchema, type Domain } from './domains.ts';
import { ConflictStateError, InvalidChangeError, NotFoundError } from './errors.ts';
import { formatHlc, HybridClock } from './hlc.ts';
import { conflictId, entityId, messageId, stateId } from './ids.ts';
import { planReconciliation, type ReconcileGroup } from './reconcile.ts';
import { incrementClock, mergeClocks, type VectorClock } from './vector-clock.ts';
import type { SyncMessage } from '../sync/sync-message.ts';

export type Entity = Record<string, unknown> & { chittyId: string };

/** Who made a change, for SyncMessage.source. */
export interface Actor {
  platform: string;
  chittyId?: string;
  /** The conversation the change came from (not echoed back there by the fan-out). */
  origin?: { channel: string; address: string; thread?: string };
}

export const API_ACTOR: Actor = { platform: 'api' };

type EntityTable = typeof schema.todos;
const TABLES = {
  topics: schema.topics,
  projects: schema.projects,
  sessions: schema.sessions,
  todos: schema.todos,
  contexts: schema.contexts,
  repos: schema.repos,
  services: schema.services,
} as unknown as Record<Domain, EntityTable>;

export const tableOf = (domain: Domain): EntityTable => TABLES[domain];

export interface ListFilter {
  projectId?: string;
  sessionId?: string;
  status?: string;
  /** Any of these statuses (e.g. the open ones). */
  statuses?: string[];
  assignee?: string;
  /** Todos that are this person's: assigned to them, or created by them and assigned to nobody. */
  mine?: string;
  includeDeleted?: boolean;
  /** Only entities whose id sorts after this one (cursor paging; ids sort by creation). */
  after?: string;
  limit?: number;
}

export interface ConflictPage {
  /** Only conflicts whose id sorts before this one (the last id of the previous page). */
  after?: string;
  /** Page size, at most 1000 (default 500). */
  limit?: number;
  entityIds?: string[];
}

export interface ConflictView {
  id: string;
  domain: string;
  entityId: string;
  field: string;
  status: 'open' | 'resolved';
  versions: { value: unknown; hlc: string; node: string; vclock: VectorClock; change: string }[];
  resolution: unknown;
  createdAt: string;
  resolvedAt: string | null;
}

export interface RemoteResult {
  id: string;
  status: 'applied' | 'duplicate' | 'ignored';
  entityId?: string;
  reason?: string;
}

interface Outcome {
  entity: Entity;
  messages: SyncMessage[];
  duplicate: boolean;
}

interface HubEvents {
  change: [message: SyncMessage];
}

/** Hub state service. Emits `change` with each committed SyncMessage (after commit). */
export class Hub extends EventEmitter<HubEvents> {
  readonly clock: HybridClock;

  constructor(
    private readonly database: Database,
    readonly nodeId: string,
  ) {
    super();
    this.setMaxListeners(0);
    this.clock = new HybridClock(nodeId);
  }

  private get db(): Db {
    return this.database.db;
  }

  // ---------------------------------------------------------------- reads

  async get(domain: Domain, id: string, opts: { includeDeleted?: boolean } = {}): Promise<Entity | undefined> {
    const t = tableOf(domain);
    const [row] = await this.db.select({ data: t.data, deleted: t.deleted }).from(t).where(eq(t.id, id));
    if (!row || (row.deleted && !opts.includeDeleted)) return undefined;
    return row.data as Entity;
  }

  async mustGet(domain: Domain, id: string): Promise<Entity> {
    const e = await this.get(domain, id);
    if (!e) throw new NotFoundError(`No ${domainSpec(domain).entityType} with id ${id}.`);
    return e;
  }

  async list(domain: Domain, f: ListFilter = {}): Promise<Entity[]> {
    const t = tableOf(domain);
    const rows = await this.db
      .select({ data: t.data })
      .from(t)
      .where(and(...listWhere(t, f)))
      .orderBy(asc(t.id))
      .limit(Math.min(f.limit ?? 100, 1000));
    return rows.map((r) => r.data as Entity);
  }

  /** How many entities match a filter (`after` and `limit` are ignored). */
  async count(domain: Domain, f: ListFilter = {}): Promise<number> {
    const t = tableOf(domain);
    const { after: _after, ...rest } = f;
    const [row] = await this.db
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(t)
      .where(and(...listWhere(t, rest)));
    return row?.n ?? 0;
  }

  /** The entity as it was at time `at`: a replay of its events recorded up to then. */
  async getAt(domain: Domain, id: string, at: Date): Promise<Entity | undefined> {
    const rows = await this.db
      .select({ change: schema.events.change, checksum: schema.events.checksum })
      .from(schema.events)
      .where(and(eq(schema.events.entityId, id), eq(schema.events.domain, domain), lte(schema.events.recordedAt, at)))
      .orderBy(asc(schema.events.seq));
    if (rows.length === 0) return undefined;
    const state = rows.reduce((s, r) => applyChange(s, r.change as Change), emptyCrdt());
    const entity = materialize(domainSpec(domain), id, state) as Entity;
    return entity.deleted === true ? undefined : entity;
  }

  async history(id: string): Promise<{ id: string; changeId: string; node: string; hlc: string; vclock: VectorClock; checksum: string; recordedAt: string; change: unknown }[]> {
    const rows = await this.db.select().from(schema.events).where(eq(schema.events.entityId, id)).orderBy(asc(schema.events.seq));
    return rows.map((r) => ({ id: r.id, changeId: r.changeId, node: r.node, hlc: r.hlc, vclock: r.vclock, checksum: r.checksum, recordedAt: r.recordedAt.toISOString(), change: r.change }));
  }

  /**
   * Conflicts, newest first, paged by id: `after` is the last id of the previous page (ids sort
   * by creation). `entityIds` narrows to some entities.
   */
  async conflicts(status: 'open' | 'resolved' | 'all' = 'open', page: ConflictPage = {}): Promise<ConflictView[]> {
    const c = schema.conflicts;
    const where: SQL[] = [];
    if (status !== 'all') where.push(eq(c.status, status));
    if (page.after) where.push(lt(c.id, page.after));
    if (page.entityIds) where.push(page.entityIds.length ? inArray(c.entityId, page.entityIds) : sql`false`);
    const rows = await this.db
      .select()
      .from(c)
      .where(and(...where))
      .orderBy(desc(c.id))
      .limit(Math.min(page.limit ?? 500, 1000));
    return rows.map(toConflictView);
  }

  async syncStatus(domain: Domain, id: string) {
    const t = tableOf(domain);
    const [row] = await this.db.select({ vclock: t.vclock, hlc: t.hlc, deleted: t.deleted, updatedAt: t.updatedAt }).from(t).where(eq(t.id, id));
    if (!row) throw new NotFoundError(`No ${domainSpec(domain).entityType} with id ${id}.`);
    const o = schema.outbox;
    const [counts] = await this.db
      .select({
        pending: sql<number>`count(*) filter (where ${o.dispatchedAt} is null)`.mapWith(Number),
        dispatched: sql<number>`count(*) filter (where ${o.dispatchedAt} is not null)`.mapWith(Number),
      })
      .from(o)
      .where(eq(o.entityId, id));
    const [events] = await this.db
      .select({ n: sql<number>`count(*)`.mapWith(Number) })
      .from(schema.events)
      .where(eq(schema.events.entityId, id));
    const open = await this.db
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
  async stats(): Promise<{ nodeId: string; events: number; outboxPending: number; openConflicts: number }> {
    const r = await this.db.execute(sql`select
      (select count(*) from ${schema.events})::int as events,
      (select count(*) from ${schema.outbox} where ${schema.outbox.dispatchedAt} is null)::int as pending,
      (select count(*) from ${schema.conflicts} where ${schema.conflicts.status} = 'open')::int as conflicts`);
    const row = rowsOf<Record<string, number>>(r)[0] ?? {};
    return { nodeId: this.nodeId, events: Number(row.events ?? 0), outboxPending: Number(row.pending ?? 0), openConflicts: Number(row.conflicts ?? 0) };
  }

  // ---------------------------------------------------------------- local changes

  async create(domain: Domain, body: unknown, actor: Actor = API_ACTOR): Promise<Entity> {
    const parsed = parse(createSchema(domain), body, `new ${domainSpec(domain).entityType}`);
    const id = entityId(domain);
    const { set, add } = splitFields(domain, parsed);
    const spec = domainSpec(domain);
    const registers: Record<string, unknown> = { ...spec.defaults, ...set };
    if (domain === 'todos') {
      if (registers.status === 'completed') registers.completedAt ??= new Date().toISOString();
      if (typeof registers.sessionId === 'string') add.sessions = [...new Set([...(add.sessions ?? []), registers.sessionId])];
    }
    if (domain === 'sessions') registers.startedAt ??= new Date().toISOString();
    return this.transact((tx) => this.commitLocal(tx, domain, id, { set: registers, add }, actor, 'create', true));
  }

  async update(domain: Domain, id: string, body: unknown, actor: Actor = API_ACTOR): Promise<Entity> {
    const parsed = parse(updateSchema(domain), body, `update of ${id}`);
    return this.transact(async (tx) => {
      const current = await this.lockExisting(tx, domain, id);
      const { set, add } = splitFields(domain, parsed);
      const remove: Record<string, string[]> = {};
      // Set fields in an update replace the whole set: diff into adds and removes.
      for (const [field, wanted] of Object.entries(add)) {
        const have = new Set((current.data[field] as string[] | undefined) ?? []);
        add[field] = wanted.filter((v) => !have.has(v));
        remove[field] = [...have].filter((v) => !wanted.includes(v));
      }
      if (domain === 'todos' && set.status !== undefined && set.status !== current.data.status) {
        set.completedAt = set.status === 'completed' ? new Date().toISOString() : null;
      }
      if (domain === 'todos' && typeof set.sessionId === 'string') add.sessions = [...(add.sessions ?? []), set.sessionId];
      if (domain === 'sessions' && set.status === 'ended' && current.data.status !== 'ended') set.endedAt ??= new Date().toISOString();
      return this.commitLocal(tx, domain, id, { set, add, remove }, actor, 'update', false, current);
    });
  }

  async remove(domain: Domain, id: string, actor: Actor = API_ACTOR): Promise<Entity> {
    return this.transact(async (tx) => {
      const current = await this.lockExisting(tx, domain, id);
      return this.commitLocal(tx, domain, id, { set: { deleted: true } }, actor, 'delete', false, current);
    });
  }

  // ---------------------------------------------------------------- replica changes

  /**
   * Apply SyncMessages from another replica (POST /api/v1/sync/:domain) in ONE transaction: the
   * batch is applied whole or not at all. A message already applied (same id, here or in a
   * request racing with this one) is reported as a duplicate and changes nothing.
   */
  async applyRemote(domain: Domain, messages: SyncMessage[]): Promise<RemoteResult[]> {
    // Validate every message before any of them is applied: a bad batch changes nothing.
    const changes = messages.map((m, i) => {
      if (m.type !== 'state_update') return { m, change: undefined };
      return { m, change: toChange(domain, m, i) };
    });
    for (const { change } of changes) if (change) this.clock.observe(change.hlc);
    return this.transact(async (tx) => {
      await this.lockEntities(tx, domain, changes.flatMap(({ change }) => (change ? [change.entityId] : [])), true);
      const out: RemoteResult[] = [];
      for (const { m, change } of changes) {
        if (!change) {
          out.push({ id: m.id, status: 'ignored', reason: `type ${m.type} carries no state change` });
          continue;
        }
        const operation = m.payload.operation === 'delete' ? 'delete' : m.payload.operation === 'create' ? 'create' : 'update';
        const r = await this.commit(tx, domain, change, { platform: m.source.platform, ...(m.source.chittyId ? { chittyId: m.source.chittyId } : {}) }, operation, true);
        out.push({ id: m.id, status: r.duplicate ? 'duplicate' : 'applied', entityId: change.entityId });
      }
      return out;
    });
  }

  // ---------------------------------------------------------------- conflicts

  /** Resolve a conflict by choosing a version (index or change id) or giving a new value. */
  async resolveConflict(id: string, choice: { version?: number | string; value?: string }, actor: Actor = API_ACTOR): Promise<{ conflict: ConflictView; entity: Entity }> {
    const result = await this.transact(async (tx) => {
      const [row] = await tx.select().from(schema.conflicts).where(eq(schema.conflicts.id, id)).for('update');
      if (!row) throw new NotFoundError(`No conflict with id ${id}.`);
      if (row.status !== 'open') throw new ConflictStateError(`Conflict ${id} is already resolved.`);
      const view = toConflictView(row);
      let value: unknown;
      if (choice.value !== undefined) value = choice.value;
      else if (typeof choice.version === 'number') {
        const v = view.versions[choice.version];
        if (!v) throw new InvalidChangeError(`Conflict ${id} has versions 0 to ${view.versions.length - 1}; there is no version ${choice.version}.`);
        value = v.value;
      } else if (typeof choice.version === 'string') {
        const v = view.versions.find((x) => x.change === choice.version || x.node === choice.version);
        if (!v) throw new InvalidChangeError(`Conflict ${id} has no version from change or node ${choice.version}.`);
        value = v.value;
      } else throw new InvalidChangeError('Say which version wins ("version": index, change id or node) or give a "value".');
      const domain = row.domain as Domain;
      const fieldSchema = domainSpec(domain).registers.shape[row.field] as import('zod').ZodType | undefined;
      if (fieldSchema) parse(fieldSchema, value, `value of ${row.field}`);
      const current = await this.lockExisting(tx, domain, row.entityId, true);
      const outcome = await this.commitLocal(tx, domain, row.entityId, { set: { [row.field]: value } }, actor, 'update', false, current, { conflictId: id, value, by: actor });
      const [after] = await tx.select().from(schema.conflicts).where(eq(schema.conflicts.id, id));
      return { conflict: toConflictView(after!), entity: outcome };
    });
    return result;
  }

  // ---------------------------------------------------------------- todo reconciliation

  /** Spec "Example 2": merge duplicate todos across a project's sessions. `dryRun` changes nothing. */
  async reconcileTodos(opts: { projectId: string; dryRun?: boolean }, actor: Actor = API_ACTOR): Promise<{ projectId: string; dryRun: boolean; groups: ReconcileGroup[]; todos: Entity[] }> {
    await this.mustGet('projects', opts.projectId).catch(async (e: unknown) => {
      // A project known only by the todos that name it (e.g. from a replica) is fine too.
      const any = await this.list('todos', { projectId: opts.projectId, limit: 1 });
      if (any.length === 0) throw e;
    });
    const load = () => this.listAll('todos', { projectId: opts.projectId });
    const before = await load();
    const groups = planReconciliation(before);
    if (opts.dryRun) {
      const mergedAway = new Set(groups.flatMap((g) => g.merged));
      const todos = before
        .filter((t) => !mergedAway.has(t.chittyId))
        .map((t) => {
          const g = groups.find((x) => x.survivor === t.chittyId);
          return g ? { ...t, status: g.status, sessions: g.sessions, mergedFrom: g.merged, assignees: g.assignees, tags: g.tags } : t;
        });
      return { projectId: opts.projectId, dryRun: true, groups, todos };
    }
    if (groups.length > 0) {
      await this.transact(async (tx) => {
        const out: Entity[] = [];
        for (const g of groups) {
          const current = await this.lockExisting(tx, 'todos', g.survivor);
          const set: Record<string, unknown> = {};
          if (current.data.status !== g.status) {
            set.status = g.status;
            set.completedAt = g.status === 'completed' ? new Date().toISOString() : null;
          }
          out.push(await this.commitLocal(tx, 'todos', g.survivor, { set, add: { sessions: g.sessions, mergedFrom: g.merged, assignees: g.assignees, tags: g.tags } }, actor, 'update', false, current));
          for (const loser of g.merged) {
            const l = await this.lockExisting(tx, 'todos', loser);
            out.push(await this.commitLocal(tx, 'todos', loser, { set: { mergedInto: g.survivor, deleted: true } }, actor, 'delete', false, l));
          }
        }
        return out[0]!;
      });
    }
    return { projectId: opts.projectId, dryRun: false, groups, todos: await load() };
  }

  /** The todo mesh of a project: todos by session, dependency edges and merge provenance. */
  async mesh(projectId: string | undefined) {
    const todos = await this.listAll('todos', projectId ? { projectId } : {});
    const bySession = new Map<string, string[]>();
    for (const t of todos) {
      for (const s of (t.sessions as string[] | undefined)?.length ? (t.sessions as string[]) : ['(none)']) bySession.set(s, [...(bySession.get(s) ?? []), t.chittyId]);
    }
    return {
      projectId: projectId ?? null,
      todos,
      sessions: [...bySession].map(([sessionId, ids]) => ({ sessionId, todos: ids })),
      edges: todos.flatMap((t) => ((t.dependencies as string[] | undefined) ?? []).map((d) => ({ from: t.chittyId, to: d, kind: 'depends_on' as const }))),
      merges: todos.flatMap((t) => ((t.mergedFrom as string[] | undefined) ?? []).map((m) => ({ into: t.chittyId, from: m }))),
    };
  }

  // ---------------------------------------------------------------- broadcast

  /**
   * What `chitty sync <domain>` and the `sync` command do: for todos (or all), reconcile each
   * project's parallel-session todos (spec Example 2), then broadcast each domain's state. With
   * `reconcile: false` it only broadcasts. `dryRun` reports and writes nothing.
   */
  async sync(opts: { domain: Domain | 'all'; projectId?: string; sessionId?: string; dryRun?: boolean; reconcile?: boolean }, actor: Actor = API_ACTOR) {
    const domains: Domain[] = opts.domain === 'all' ? [...DOMAINS] : [opts.domain];
    const dryRun = !!opts.dryRun;
    const reconciled = [];
    if (opts.reconcile !== false && domains.includes('todos')) {
      const projectIds = opts.projectId ? [opts.projectId] : (await this.listAll('projects', {})).map((p) => p.chittyId);
      for (const projectId of projectIds) reconciled.push(await this.reconcileTodos({ projectId, dryRun }, actor));
    }
    const broadcast = [];
    for (const domain of domains) {
      broadcast.push(await this.broadcast({ domain, dryRun, ...(opts.projectId ? { projectId: opts.projectId } : {}), ...(opts.sessionId ? { sessionId: opts.sessionId } : {}) }, actor));
    }
    return { domain: opts.domain, dryRun, reconciled, broadcast };
  }

  /**
   * Queue a state_snapshot of a domain (optionally one project/session/entity) for every
   * subscriber. `dryRun` reports what would be sent and writes nothing.
   */
  async broadcast(opts: { domain: Domain; projectId?: string; sessionId?: string; entityId?: string; dryRun?: boolean }, actor: Actor = API_ACTOR) {
    let entities: Entity[];
    if (opts.entityId) entities = [await this.mustGet(opts.domain, opts.entityId)];
    else {
      const f: ListFilter = {};
      if (opts.projectId) f.projectId = opts.projectId;
      if (opts.sessionId) f.sessionId = opts.sessionId;
      entities = await this.listAll(opts.domain, f);
    }
    const pages: Entity[][] = [];
    for (let i = 0; i < entities.length; i += SNAPSHOT_PAGE) pages.push(entities.slice(i, i + SNAPSHOT_PAGE));
    if (opts.dryRun || entities.length === 0) return { domain: opts.domain, dryRun: !!opts.dryRun, entities: entities.length, messages: opts.dryRun ? pages.length : 0, ids: entities.map((e) => e.chittyId) };
    const messages: SyncMessage[] = pages.map((page, i) =>
      this.message('state_snapshot', actor, opts.domain, {
        chittyId: opts.entityId ?? opts.projectId ?? opts.sessionId ?? opts.domain,
        type: 'snapshot',
        data: { page: i + 1, pages: pages.length, entities: page },
      }, 3600),
    );
    await this.enqueueMessages(opts.domain, opts.entityId ?? null, messages);
    return { domain: opts.domain, dryRun: false, entities: entities.length, messages: messages.length, ids: entities.map((e) => e.chittyId) };
  }

  /**
   * Publish an `event` SyncMessage about an entity (e.g. a context propagation) through the
   * outbox, optionally aimed at some platforms. Hub state does not change.
   */
  async publishEvent(domain: Domain, entityId: string, data: Record<string, unknown>, platforms: string[], actor: Actor = API_ACTOR): Promise<SyncMessage> {
    const m = this.message('event', actor, domain, { chittyId: entityId, type: 'event', data }, 86_400);
    if (platforms.length > 0) m.target = { broadcast: false, platforms };
    await this.enqueueMessages(domain, entityId, [m]);
    return m;
  }

  private message(type: SyncMessage['type'], actor: Actor, domain: Domain, entity: SyncMessage['payload']['entity'], ttl: number): SyncMessage {
    return {
      id: messageId(),
      type,
      source: { nodeId: this.nodeId, platform: actor.platform, ...(actor.chittyId ? { chittyId: actor.chittyId } : {}) },
      target: { broadcast: true },
      payload: { domain, operation: 'query', entity },
      metadata: { timestamp: new Date().toISOString(), vectorClock: {}, hlc: this.clock.now(), causality: [], ttl },
    };
  }

  /** Write messages to the outbox in one transaction; announced once committed. */
  private async enqueueMessages(domain: Domain, entityId: string | null, messages: SyncMessage[]): Promise<void> {
    await this.transact(async (tx) => {
      for (const m of messages) await tx.insert(schema.outbox).values({ id: m.id, domain, entityId, message: m });
      this.pendingMessages.get(tx)?.push(...messages);
    });
  }

  // ---------------------------------------------------------------- internals

  private async listAll(domain: Domain, f: ListFilter): Promise<Entity[]> {
    const out: Entity[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.list(domain, { ...f, limit: 1000, ...(after ? { after } : {}) });
      out.push(...page);
      if (page.length < 1000) return out;
      after = page[page.length - 1]!.chittyId;
    }
  }

  /** Run `fn` in a transaction, then announce its SyncMessages once it has committed. */
  private async transact<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const pending: SyncMessage[] = [];
    const channel = this.database.outboxChannel;
    // Inside a caller's transaction (a command with its inbound record) this is a savepoint, and
    // the changes are announced when the caller's transaction commits.
    const result = await this.db.transaction(async (tx) => {
      this.pendingMessages.set(tx, pending);
      try {
        const out = await fn(tx);
        // Wakes outbox relays in other processes when (and only if) this commits.
        if (channel && pending.length > 0) await tx.execute(sql`select pg_notify(${channel}, '')`);
        return out;
      } finally {
        this.pendingMessages.delete(tx);
      }
    });
    afterCommit(() => {
      for (const m of pending) this.emit('change', m);
    });
    return result;
  }

  private readonly pendingMessages = new WeakMap<Tx, SyncMessage[]>();

  private async lockExisting(tx: Tx, domain: Domain, id: string, includeDeleted = false): Promise<{ data: Entity; crdt: EntityCrdt; vclock: VectorClock }> {
    const t = tableOf(domain);
    const [row] = await tx.select({ data: t.data, crdt: t.crdt, vclock: t.vclock, deleted: t.deleted }).from(t).where(eq(t.id, id)).for('update');
    if (!row || (row.deleted && !includeDeleted)) throw new NotFoundError(`No ${domainSpec(domain).entityType} with id ${id}.`);
    return { data: row.data as Entity, crdt: row.crdt as EntityCrdt, vclock: row.vclock };
  }

  /**
   * Lock several entity rows in one statement, in id order so two transactions locking
   * overlapping sets cannot deadlock. `mayCreate` first inserts placeholders for missing ids.
   */
  private async lockEntities(tx: Tx, domain: Domain, ids: string[], mayCreate = false): Promise<Map<string, { data: Entity; crdt: EntityCrdt; vclock: VectorClock; deleted: boolean }>> {
    const sorted = [...new Set(ids)].sort();
    const out = new Map<string, { data: Entity; crdt: EntityCrdt; vclock: VectorClock; deleted: boolean }>();
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
    const rows = await tx.select({ id: t.id, data: t.data, crdt: t.crdt, vclock: t.vclock, deleted: t.deleted }).from(t).where(inArray(t.id, sorted)).orderBy(asc(t.id)).for('update');
    for (const r of rows) out.set(r.id, { data: r.data as Entity, crdt: r.crdt as EntityCrdt, vclock: r.vclock, deleted: r.deleted });
    return out;
  }

  private async commitLocal(
    tx: Tx,
    domain: Domain,
    id: string,
    ops: { set?: Record<string, unknown>; add?: Record<string, string[]>; remove?: Record<string, string[]> },
    actor: Actor,
    operation: 'create' | 'update' | 'delete',
    isNew: boolean,
    current?: { vclock: VectorClock },
    resolution?: unknown,
  ): Promise<Entity> {
    const change: Change = {
      id: messageId(),
      domain,
      entityId: id,
      node: this.nodeId,
      hlc: this.clock.now(),
      vclock: incrementClock(current?.vclock ?? {}, this.nodeId),
      ...(ops.set && Object.keys(ops.set).length ? { set: ops.set } : {}),
      ...(nonEmpty(ops.add) ? { add: nonEmpty(ops.add)! } : {}),
      ...(nonEmpty(ops.remove) ? { remove: nonEmpty(ops.remove)! } : {}),
    };
    const outcome = await this.commit(tx, domain, change, actor, operation, isNew, resolution);
    return outcome.entity;
  }

  /** Merge one change into the entity under a row lock and write row, event, outbox, conflicts. */
  private async commit(tx: Tx, domain: Domain, change: Change, actor: Actor, operation: 'create' | 'update' | 'delete', mayCreate: boolean, resolution?: unknown): Promise<Outcome> {
    const t = tableOf(domain);
    const spec = domainSpec(domain);
    const now = new Date();
    if (mayCreate) {
      // Placeholder row so concurrent first writers serialize on the row lock below.
      await tx
        .insert(t)
        .values({ id: change.entityId, data: {}, crdt: emptyCrdt(), vclock: {}, hlc: '', deleted: true, createdAt: now, updatedAt: now })
        .onConflictDoNothing();
    }
    const [row] = await tx.select({ crdt: t.crdt, data: t.data }).from(t).where(eq(t.id, change.entityId)).for('update');
    if (!row) throw new NotFoundError(`No ${spec.entityType} with id ${change.entityId}.`);
    // Only now, holding the row lock: a racing transaction that applied this change has committed
    // (read committed: this statement sees it), so a replay is a duplicate, never a unique violation.
    const [seen] = await tx.select({ id: schema.events.id }).from(schema.events).where(eq(schema.events.changeId, change.id));
    if (seen) return { entity: row.data as Entity, messages: [], duplicate: true };

    const state = applyChange((row.crdt as EntityCrdt) ?? emptyCrdt(), change);
    const entity = materialize(spec, change.entityId, state) as Entity;
    const deleted = entity.deleted === true;
    await tx
      .update(t)
      .set({
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
      })
      .where(eq(t.id, change.entityId));
    await tx.insert(schema.events).values({
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

    const message: SyncMessage = {
      id: change.node === this.nodeId ? change.id : messageId(),
      type: 'state_update',
      source: { nodeId: change.node, platform: actor.platform, ...(actor.chittyId ? { chittyId: actor.chittyId } : {}) },
      target: { broadcast: true },
      payload: {
        domain,
        operation,
        entity: { chittyId: change.entityId, type: spec.entityType, data: entity },
        delta: { ...(change.add ? { add: change.add } : {}), ...(change.remove ? { remove: change.remove } : {}) },
      },
      metadata: {
        timestamp: now.toISOString(),
        vectorClock: state.vclock,
        hlc: change.hlc,
        causality: change.node === this.nodeId ? [] : [change.id],
        ttl: 86_400,
        ...(actor.origin ? { origin: actor.origin } : {}),
      },
    };
    if (change.set) (message.payload.delta as Record<string, unknown>).set = change.set;
    const messages = [message, ...(await this.syncConflicts(tx, domain, change.entityId, state, entity, now, resolution))];
    for (const m of messages) await tx.insert(schema.outbox).values({ id: m.id, domain, entityId: change.entityId, message: m });
    this.pendingMessages.get(tx)?.push(...messages);
    return { entity, messages, duplicate: false };
  }

  /** Keep the conflicts table in step with the entity's concurrent text versions. */
  private async syncConflicts(tx: Tx, domain: Domain, id: string, state: EntityCrdt, entity: Entity, now: Date, resolution: unknown): Promise<SyncMessage[]> {
    const spec = domainSpec(domain);
    const c = schema.conflicts;
    const open = await tx.select().from(c).where(and(eq(c.entityId, id), eq(c.status, 'open')));
    const current = new Map(conflictsOf(spec, state).map((x) => [x.field, x]));
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
      messages.push({
        id: messageId(),
        type: 'conflict',
        source: { nodeId: this.nodeId, platform: 'hub' },
        target: { broadcast: true },
        payload: { domain, operation: 'update', entity: { chittyId: id, type: spec.entityType, data: { conflictId: id2, field: conflict.field, versions: conflict.versions } } },
        metadata: { timestamp: now.toISOString(), vectorClock: state.vclock, hlc: this.clock.now(), causality: conflict.versions.map((v) => v.change), ttl: 86_400 },
      });
    }
    return messages;
  }
}

const SNAPSHOT_PAGE = 100;

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

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function nonEmpty(o: Record<string, string[]> | undefined): Record<string, string[]> | undefined {
  if (!o) return undefined;
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v.length > 0));
  return Object.keys(out).length ? out : undefined;
}

function parse<T>(schemaOf: import('zod').ZodType<T>, body: unknown, what: string): T {
  const r = schemaOf.safeParse(body);
  if (!r.success) throw new InvalidChangeError(`Invalid ${what}: ${formatIssues(r.error.issues)}`, r.error.issues);
  return r.data;
}

export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function splitFields(domain: Domain, body: Record<string, unknown>): { set: Record<string, unknown>; add: Record<string, string[]> } {
  const spec = domainSpec(domain);
  const set: Record<string, unknown> = {};
  const add: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined) continue;
    if (spec.setFields.includes(k)) add[k] = [...new Set(v as string[])];
    else set[k] = v;
  }
  return { set, add };
}

/** Turn a replica's SyncMessage into a validated Change. */
function toChange(domain: Domain, m: SyncMessage, index: number): Change {
  const where = `message ${index} (${m.id})`;
  if (m.payload.domain !== domain) throw new InvalidChangeError(`${where}: payload.domain is ${m.payload.domain} but was sent to /sync/${domain}.`);
  const id = m.payload.entity.chittyId;
  const idDomain = domainOfId(id);
  if (idDomain !== undefined && idDomain !== domain) throw new InvalidChangeError(`${where}: ${id} is not a ${domainSpec(domain).entityType} id.`);
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(id)) throw new InvalidChangeError(`${where}: entity.chittyId may only hold letters, digits, ".", "-", "_".`);
  const node = m.source.nodeId;
  if ((m.metadata.vectorClock[node] ?? 0) < 1) throw new InvalidChangeError(`${where}: metadata.vectorClock must count this change for its source node "${node}" (≥ 1).`);
  const spec = domainSpec(domain);
  const data = { ...m.payload.entity.data };
  for (const k of ['chittyId', 'createdAt', 'updatedAt', 'deleted']) delete data[k];
  const adds: Record<string, string[]> = { ...(m.payload.delta?.add ?? {}) };
  for (const f of spec.setFields) {
    if (Array.isArray(data[f])) adds[f] = [...(adds[f] ?? []), ...(data[f] as string[])];
    delete data[f];
  }
  let set: Record<string, unknown> = {};
  if (Object.keys(data).length) {
    const r = updateSchema(domain).safeParse(data);
    if (!r.success) throw new InvalidChangeError(`${where}: ${formatIssues(r.error.issues)}`, r.error.issues);
    set = r.data;
  }
  for (const field of [...Object.keys(adds), ...Object.keys(m.payload.delta?.remove ?? {})]) {
    if (!spec.setFields.includes(field)) throw new InvalidChangeError(`${where}: ${field} is not a set field of ${domain} (sets: ${spec.setFields.join(', ')}).`);
  }
  if (m.payload.operation === 'delete') set.deleted = true;
  if (m.payload.operation === 'create') {
    for (const f of spec.required) if (set[f] === undefined) throw new InvalidChangeError(`${where}: a create must carry ${f}.`);
  }
  const hlc = m.metadata.hlc ?? formatHlc({ wallMs: Date.parse(m.metadata.timestamp), counter: 0, node });
  if (!hlc.endsWith(`:${node}`)) throw new InvalidChangeError(`${where}: metadata.hlc must end with the source node id "${node}".`);
  const change: Change = { id: m.id, domain, entityId: id, node, hlc, vclock: mergeClocks(m.metadata.vectorClock) };
  if (Object.keys(set).length) change.set = set;
  if (Object.keys(adds).length) change.add = adds;
  if (m.payload.delta?.remove && Object.keys(m.payload.delta.remove).length) change.remove = m.payload.delta.remove;
  if (!change.set && !change.add && !change.remove) throw new InvalidChangeError(`${where}: the message changes nothing.`);
  return change;
}

function toConflictView(row: typeof schema.conflicts.$inferSelect): ConflictView {
  return {
    id: row.id,
    domain: row.domain,
    entityId: row.entityId,
    field: row.field,
    status: row.status,
    versions: row.versions as ConflictView['versions'],
    resolution: row.resolution ?? null,
    createdAt: row.createdAt.toISOString(),
    resolvedAt: row.resolvedAt ? row.resolvedAt.toISOString() : null,
  };
}

