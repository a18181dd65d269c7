/** Sync orchestration: reconcile then broadcast state snapshots, and publish events, through the outbox. */
import type { HubContext } from './context.ts';
import { DOMAINS, type Domain } from './domains.ts';
import { listAll, mustGet } from './reads.ts';
import { writeOutbox } from './outbox-write.ts';
import { reconcileAllProjects, reconcileProject, type ReconcileResult } from './reconcile-todos.ts';
import type { Actor, Entity, ListFilter } from './types.ts';
import { hubMessage } from '../sync/build-message.ts';
import type { SyncMessage } from '../sync/sync-message.ts';

const SNAPSHOT_PAGE = 100;

/**
 * Narrows a broadcast to some destinations (`chitty sync --platform web,cli --channel slack --model
 * claude`): a subscription whose channel is in `platforms`, or whose model label is in `models`.
 */
export interface BroadcastTarget {
  platforms?: string[];
  models?: string[];
}

function aimed(target: BroadcastTarget | undefined): SyncMessage['target'] {
  if (!target || (!target.platforms?.length && !target.models?.length)) return { broadcast: true };
  return { broadcast: false, platforms: target.platforms ?? [], ...(target.models?.length ? { models: target.models } : {}) };
}

/**
 * What `chitty sync <domain>` and the `sync` command do: for todos (or all), reconcile each
 * project's parallel-session todos (spec Example 2), then broadcast each domain's state. With
 * `reconcile: false` it only broadcasts. `dryRun` reports and writes nothing.
 */
export async function runSync(
  hub: HubContext,
  opts: { domain: Domain | 'all'; projectId?: string; sessionId?: string; dryRun?: boolean; reconcile?: boolean; target?: BroadcastTarget },
  actor: Actor,
) {
  const domains: Domain[] = opts.domain === 'all' ? [...DOMAINS] : [opts.domain];
  const dryRun = !!opts.dryRun;
  let reconciled: ReconcileResult[] = [];
  if (opts.reconcile !== false && domains.includes('todos')) {
    reconciled = opts.projectId ? [await reconcileProject(hub, { projectId: opts.projectId, dryRun }, actor)] : await reconcileAllProjects(hub, dryRun, actor);
  }
  // A dry run merged nothing, so the todos it would broadcast are the ones that would remain.
  const mergedAway = new Set(dryRun ? reconciled.flatMap((r) => r.groups.flatMap((g) => g.merged)) : []);
  const broadcast = [];
  for (const domain of domains) {
    const r = await broadcastState(
      hub,
      { domain, dryRun, ...(opts.projectId ? { projectId: opts.projectId } : {}), ...(opts.sessionId ? { sessionId: opts.sessionId } : {}), ...(opts.target ? { target: opts.target } : {}) },
      actor,
    );
    if (domain === 'todos' && mergedAway.size > 0) {
      r.ids = r.ids.filter((id) => !mergedAway.has(id));
      r.entities = r.ids.length;
      r.messages = Math.ceil(r.entities / SNAPSHOT_PAGE);
    }
    broadcast.push(opts.target ? { ...r, target: opts.target } : r);
  }
  return { domain: opts.domain, dryRun, reconciled, broadcast };
}

/**
 * Queue a state_snapshot of a domain (optionally one project/session/entity) for every
 * subscriber. `dryRun` reports what would be sent and writes nothing.
 */
export async function broadcastState(hub: HubContext, opts: { domain: Domain; projectId?: string; sessionId?: string; entityId?: string; dryRun?: boolean; target?: BroadcastTarget }, actor: Actor) {
  let entities: Entity[];
  if (opts.entityId) entities = [await mustGet(hub.db, opts.domain, opts.entityId)];
  else {
    const f: ListFilter = {};
    if (opts.projectId) f.projectId = opts.projectId;
    if (opts.sessionId) f.sessionId = opts.sessionId;
    entities = await listAll(hub.db, opts.domain, f);
  }
  const pages: Entity[][] = [];
  for (let i = 0; i < entities.length; i += SNAPSHOT_PAGE) pages.push(entities.slice(i, i + SNAPSHOT_PAGE));
  if (opts.dryRun || entities.length === 0)
    return { domain: opts.domain, dryRun: !!opts.dryRun, entities: entities.length, messages: opts.dryRun ? pages.length : 0, ids: entities.map((e) => e.chittyId) };
  const messages: SyncMessage[] = pages.map((page, i) =>
    hubMessage(
      hub.nodeId,
      hub.clock.now(),
      'state_snapshot',
      actor,
      opts.domain,
      {
        chittyId: opts.entityId ?? opts.projectId ?? opts.sessionId ?? opts.domain,
        type: 'snapshot',
        data: { page: i + 1, pages: pages.length, entities: page },
      },
      3600,
    ),
  );
  const target = aimed(opts.target);
  for (const m of messages) m.target = target;
  await enqueueMessages(hub, opts.domain, opts.entityId ?? null, messages);
  return { domain: opts.domain, dryRun: false, entities: entities.length, messages: messages.length, ids: entities.map((e) => e.chittyId) };
}

/**
 * Publish an `event` SyncMessage about an entity (e.g. a context propagation) through the
 * outbox, optionally aimed at some platforms. Hub state does not change.
 */
export async function publishEvent(hub: HubContext, domain: Domain, entityId: string, data: Record<string, unknown>, platforms: string[], actor: Actor): Promise<SyncMessage> {
  const m = hubMessage(hub.nodeId, hub.clock.now(), 'event', actor, domain, { chittyId: entityId, type: 'event', data }, 86_400);
  if (platforms.length > 0) m.target = { broadcast: false, platforms };
  await enqueueMessages(hub, domain, entityId, [m]);
  return m;
}

/** Write messages to the outbox in one transaction; announced once committed. */
async function enqueueMessages(hub: HubContext, domain: Domain, entityId: string | null, messages: SyncMessage[]): Promise<void> {
  await hub.transact(async (tx) => {
    await writeOutbox(tx, domain, messages, entityId);
    hub.announce(tx, messages);
  });
}
