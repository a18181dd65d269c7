/**
 * The hub: the one place hub state changes. Every change — local (API, CLI, commands) or from
 * another replica — is applied in ONE transaction: entity row, event log, outbox row and conflict
 * rows commit together or not at all. This class is the façade; each part lives in its own file:
 * reads.ts, local-changes.ts, commit.ts, replica.ts, conflicts.ts, reconcile-todos.ts, broadcast.ts.
 */
import { EventEmitter } from 'node:events';
import { sql } from 'drizzle-orm';
import { afterCommit, type Database, type Db, type Tx } from '../db.ts';
import type { Domain } from './domains.ts';
import { HybridClock } from './hlc.ts';
import type { HubContext } from './context.ts';
import * as reads from './reads.ts';
import { createEntity, removeEntity, updateEntity } from './local-changes.ts';
import { applyRemote } from './replica.ts';
import { addComment } from './comments.ts';
import type { EntityComment } from './comment-codec.ts';
import { listConflicts, resolveConflict } from './conflicts.ts';
import { reconcileProject, todoMesh, type ReconcileResult } from './reconcile-todos.ts';
import { broadcastState, publishEvent, runSync, type BroadcastTarget } from './broadcast.ts';
import { API_ACTOR, type Actor, type ConflictPage, type ConflictView, type Entity, type ListFilter, type RemoteResult } from './types.ts';
import type { SyncMessage } from '../sync/sync-message.ts';

export { API_ACTOR, tableOf, type Actor, type ConflictPage, type ConflictView, type Entity, type ListFilter, type RemoteResult } from './types.ts';
export { formatIssues } from './local-changes.ts';

interface HubEvents {
  change: [message: SyncMessage];
}

/** Hub state service. Emits `change` with each committed SyncMessage (after commit). */
export class Hub extends EventEmitter<HubEvents> {
  readonly clock: HybridClock;
  private readonly ctx: HubContext;
  private readonly pendingMessages = new WeakMap<Tx, { messages: SyncMessage[]; notify: boolean }>();

  constructor(
    private readonly database: Database,
    readonly nodeId: string,
  ) {
    super();
    this.setMaxListeners(0);
    this.clock = new HybridClock(nodeId);
    this.ctx = {
      // The ambient-aware handle: it joins the caller's transaction on every query.
      db: database.db,
      nodeId,
      clock: this.clock,
      outboxChannel: database.outboxChannel,
      transact: (fn) => this.transact(fn),
      announce: (tx, messages, notified = false) => {
        const pending = this.pendingMessages.get(tx);
        if (!pending) return;
        pending.messages.push(...messages);
        if (!notified && messages.length > 0) pending.notify = true;
      },
    };
  }

  private get db(): Db {
    return this.database.db;
  }

  // ---------------------------------------------------------------- reads

  get(domain: Domain, id: string, opts: { includeDeleted?: boolean } = {}): Promise<Entity | undefined> {
    return reads.get(this.db, domain, id, opts);
  }

  mustGet(domain: Domain, id: string): Promise<Entity> {
    return reads.mustGet(this.db, domain, id);
  }

  list(domain: Domain, f: ListFilter = {}): Promise<Entity[]> {
    return reads.list(this.db, domain, f);
  }

  /** How many entities match a filter (`after` and `limit` are ignored). */
  count(domain: Domain, f: ListFilter = {}): Promise<number> {
    return reads.count(this.db, domain, f);
  }

  /** The entity as it was at time `at`: a replay of its events recorded up to then. */
  getAt(domain: Domain, id: string, at: Date): Promise<Entity | undefined> {
    return reads.getAt(this.db, domain, id, at);
  }

  history(id: string) {
    return reads.history(this.db, id);
  }

  /**
   * Conflicts, newest first, paged by id: `after` is the last id of the previous page (ids sort
   * by creation). `entityIds` narrows to some entities.
   */
  conflicts(status: 'open' | 'resolved' | 'all' = 'open', page: ConflictPage = {}): Promise<ConflictView[]> {
    return listConflicts(this.db, status, page);
  }

  syncStatus(domain: Domain, id: string) {
    return reads.syncStatus(this.db, domain, id);
  }

  /** Hub-wide sync figures: events, outbox backlog, open conflicts. */
  stats(): Promise<{ nodeId: string; events: number; outboxPending: number; openConflicts: number }> {
    return reads.stats(this.db, this.nodeId);
  }

  // ---------------------------------------------------------------- changes

  create(domain: Domain, body: unknown, actor: Actor = API_ACTOR): Promise<Entity> {
    return createEntity(this.ctx, domain, body, actor);
  }

  update(domain: Domain, id: string, body: unknown, actor: Actor = API_ACTOR): Promise<Entity> {
    return updateEntity(this.ctx, domain, id, body, actor);
  }

  remove(domain: Domain, id: string, actor: Actor = API_ACTOR): Promise<Entity> {
    return removeEntity(this.ctx, domain, id, actor);
  }

  /** Add a comment to an entity (an append-only list; concurrent comments from replicas all survive). */
  comment(domain: Domain, id: string, input: { text: string; by?: string | null; name?: string | null }, actor: Actor = API_ACTOR): Promise<{ entity: Entity; comment: EntityComment }> {
    return addComment(this.ctx, domain, id, input, actor);
  }

  /**
   * Apply SyncMessages from another replica (POST /api/v1/sync/:domain) in ONE transaction: the
   * batch is applied whole or not at all; a message already applied is reported as a duplicate.
   */
  applyRemote(domain: Domain, messages: SyncMessage[]): Promise<RemoteResult[]> {
    return applyRemote(this.ctx, domain, messages);
  }

  /** Resolve a conflict by choosing a version (index or change id) or giving a new value. */
  resolveConflict(id: string, choice: { version?: number | string; value?: string }, actor: Actor = API_ACTOR): Promise<{ conflict: ConflictView; entity: Entity }> {
    return resolveConflict(this.ctx, id, choice, actor);
  }

  // ---------------------------------------------------------------- todo reconciliation and sync

  /** Spec "Example 2": merge duplicate todos across a project's sessions. `dryRun` changes nothing. */
  reconcileTodos(opts: { projectId: string; dryRun?: boolean }, actor: Actor = API_ACTOR): Promise<ReconcileResult> {
    return reconcileProject(this.ctx, opts, actor);
  }

  /** The todo mesh of a project: todos by session, dependency edges and merge provenance. */
  mesh(projectId: string | undefined) {
    return todoMesh(this.ctx, projectId);
  }

  /**
   * What `chitty sync <domain>` and the `sync` command do: for todos (or all), reconcile
   * parallel-session todos (spec Example 2), then broadcast each domain's state. With
   * `reconcile: false` it only broadcasts. `dryRun` reports and writes nothing.
   */
  sync(opts: { domain: Domain | 'all'; projectId?: string; sessionId?: string; dryRun?: boolean; reconcile?: boolean; target?: BroadcastTarget }, actor: Actor = API_ACTOR) {
    return runSync(this.ctx, opts, actor);
  }

  /**
   * Queue a state_snapshot of a domain (optionally one project/session/entity) for every
   * subscriber. `dryRun` reports what would be sent and writes nothing.
   */
  broadcast(opts: { domain: Domain; projectId?: string; sessionId?: string; entityId?: string; dryRun?: boolean }, actor: Actor = API_ACTOR) {
    return broadcastState(this.ctx, opts, actor);
  }

  /**
   * Publish an `event` SyncMessage about an entity (e.g. a context propagation) through the
   * outbox, optionally aimed at some platforms. Hub state does not change.
   */
  publishEvent(domain: Domain, entityId: string, data: Record<string, unknown>, platforms: string[], actor: Actor = API_ACTOR): Promise<SyncMessage> {
    return publishEvent(this.ctx, domain, entityId, data, platforms, actor);
  }

  // ---------------------------------------------------------------- unit of work

  /** Run `fn` in a transaction, then announce its SyncMessages once it has committed. */
  private async transact<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const pending = { messages: [] as SyncMessage[], notify: false };
    const channel = this.database.outboxChannel;
    // Inside a caller's transaction (a command with its inbound record) this is a savepoint, and
    // the changes are announced when the caller's transaction commits.
    const result = await this.db.transaction(async (tx) => {
      this.pendingMessages.set(tx, pending);
      try {
        const out = await fn(tx);
        // Wakes outbox relays in other processes when (and only if) this commits (unless the commit path sent it already).
        if (channel && pending.notify) await tx.execute(sql`select pg_notify(${channel}, '')`);
        return out;
      } finally {
        this.pendingMessages.delete(tx);
      }
    });
    afterCommit(() => {
      for (const m of pending.messages) this.emit('change', m);
    });
    return result;
  }
}
