/** Todo reconciliation applied (spec "Example 2"), for one project or many in one pass, and the todo mesh. */
import type { HubContext } from './context.ts';
import { commitLocal, lockEntities } from './commit.ts';
import { encodeComment, type EntityComment } from './comment-codec.ts';
import { NotFoundError } from './errors.ts';
import { planReconciliation, type ReconcileGroup } from './reconcile.ts';
import { listAll, mustGet, list } from './reads.ts';
import type { Actor, Entity } from './types.ts';

export interface ReconcileResult {
  projectId: string;
  dryRun: boolean;
  groups: ReconcileGroup[];
  todos: Entity[];
}

/** Spec "Example 2": merge duplicate todos across a project's sessions. `dryRun` changes nothing. */
export async function reconcileProject(hub: HubContext, opts: { projectId: string; dryRun?: boolean }, actor: Actor): Promise<ReconcileResult> {
  await mustGet(hub.db, 'projects', opts.projectId).catch(async (e: unknown) => {
    // A project known only by the todos that name it (e.g. from a replica) is fine too.
    const any = await list(hub.db, 'todos', { projectId: opts.projectId, limit: 1 });
    if (any.length === 0) throw e;
  });
  const load = async () => new Map([[opts.projectId, await listAll(hub.db, 'todos', { projectId: opts.projectId })]]);
  const [result] = await reconcile(hub, [opts.projectId], load, !!opts.dryRun, actor);
  return result!;
}

/**
 * Reconcile every project at once: all todos read in one paged scan and grouped by project in
 * memory, every merge applied in one transaction.
 */
export async function reconcileAllProjects(hub: HubContext, dryRun: boolean, actor: Actor): Promise<ReconcileResult[]> {
  const projectIds = (await listAll(hub.db, 'projects', {})).map((p) => p.chittyId);
  const load = async () => byProject(await listAll(hub.db, 'todos', {}));
  return reconcile(hub, projectIds, load, dryRun, actor);
}

async function reconcile(hub: HubContext, projectIds: string[], load: () => Promise<Map<string, Entity[]>>, dryRun: boolean, actor: Actor): Promise<ReconcileResult[]> {
  const before = await load();
  const plans = projectIds.map((projectId) => ({ projectId, todos: before.get(projectId) ?? [], groups: planReconciliation(before.get(projectId) ?? []) }));
  if (dryRun) return plans.map(({ projectId, todos, groups }) => ({ projectId, dryRun: true, groups, todos: preview(todos, groups) }));
  const groups = plans.flatMap((p) => p.groups);
  if (groups.length > 0) {
    await hub.transact(async (tx) => {
      // Survivors and losers of every group locked in one statement, in id order.
      const locked = await lockEntities(
        tx,
        'todos',
        groups.flatMap((g) => [g.survivor, ...g.merged]),
      );
      const current = (id: string) => {
        const row = locked.get(id);
        if (!row || row.deleted) throw new NotFoundError(`No todo with id ${id}.`);
        return row;
      };
      for (const g of groups) {
        const survivor = current(g.survivor);
        const set: Record<string, unknown> = {};
        if (survivor.data.status !== g.status) {
          set.status = g.status;
          set.completedAt = g.status === 'completed' ? new Date().toISOString() : null;
        }
        // The duplicates' comments move to the survivor (the same elements: nothing is repeated).
        const comments = g.merged.flatMap((id) => ((current(id).data.comments as EntityComment[] | undefined) ?? []).map(encodeComment));
        await commitLocal(hub, tx, 'todos', g.survivor, { set, add: { sessions: g.sessions, mergedFrom: g.merged, assignees: g.assignees, tags: g.tags, comments } }, actor, 'update', false, survivor);
        for (const loser of g.merged) {
          await commitLocal(hub, tx, 'todos', loser, { set: { mergedInto: g.survivor, deleted: true } }, actor, 'delete', false, current(loser));
        }
      }
    });
  }
  const after = groups.length > 0 ? await load() : before;
  return plans.map(({ projectId, groups: g }) => ({ projectId, dryRun: false, groups: g, todos: after.get(projectId) ?? [] }));
}

/** What a project's todos would look like once its groups are merged. */
function preview(todos: Entity[], groups: ReconcileGroup[]): Entity[] {
  const mergedAway = new Set(groups.flatMap((g) => g.merged));
  return todos
    .filter((t) => !mergedAway.has(t.chittyId))
    .map((t) => {
      const g = groups.find((x) => x.survivor === t.chittyId);
      return g ? { ...t, status: g.status, sessions: g.sessions, mergedFrom: g.merged, assignees: g.assignees, tags: g.tags } : t;
    });
}

function byProject(todos: Entity[]): Map<string, Entity[]> {
  const out = new Map<string, Entity[]>();
  for (const t of todos) {
    if (typeof t.projectId !== 'string') continue;
    const list = out.get(t.projectId);
    if (list) list.push(t);
    else out.set(t.projectId, [t]);
  }
  return out;
}

/** The todo mesh of a project: todos by session, dependency edges and merge provenance. */
export async function todoMesh(hub: HubContext, projectId: string | undefined) {
  const todos = await listAll(hub.db, 'todos', projectId ? { projectId } : {});
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
