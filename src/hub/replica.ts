/** Changes from other replicas: validate a batch of SyncMessages and apply it in one transaction. */
import type { HubContext } from './context.ts';
import type { Change } from './crdt.ts';
import { domainOfId, domainSpec, updateSchema, type Domain } from './domains.ts';
import { InvalidChangeError } from './errors.ts';
import { formatHlc } from './hlc.ts';
import { commit, lockEntities } from './commit.ts';
import { remoteComments } from './comment-codec.ts';
import { formatIssues } from './local-changes.ts';
import type { RemoteResult } from './types.ts';
import { mergeClocks } from './vector-clock.ts';
import type { SyncMessage } from '../sync/sync-message.ts';

/**
 * Apply SyncMessages from another replica (POST /api/v1/sync/:domain) in ONE transaction: the
 * batch is applied whole or not at all. A message already applied (same id, here or in a
 * request racing with this one) is reported as a duplicate and changes nothing.
 */
export async function applyRemote(hub: HubContext, domain: Domain, messages: SyncMessage[]): Promise<RemoteResult[]> {
  // Validate every message before any of them is applied: a bad batch changes nothing.
  const changes = messages.map((m, i) => {
    if (m.type !== 'state_update') return { m, change: undefined };
    return { m, change: toChange(domain, m, i) };
  });
  for (const { change } of changes) if (change) hub.clock.observe(change.hlc);
  return hub.transact(async (tx) => {
    // Every entity of the batch locked up front, in id order: racing batches cannot deadlock.
    await lockEntities(
      tx,
      domain,
      changes.flatMap(({ change }) => (change ? [change.entityId] : [])),
      true,
    );
    const out: RemoteResult[] = [];
    for (const { m, change } of changes) {
      if (!change) {
        out.push({ id: m.id, status: 'ignored', reason: `type ${m.type} carries no state change` });
        continue;
      }
      const operation = m.payload.operation === 'delete' ? 'delete' : m.payload.operation === 'create' ? 'create' : 'update';
      const r = await commit(hub, tx, domain, change, { platform: m.source.platform, ...(m.source.chittyId ? { chittyId: m.source.chittyId } : {}) }, operation, true);
      out.push({ id: m.id, status: r.duplicate ? 'duplicate' : 'applied', entityId: change.entityId });
    }
    return out;
  });
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
  for (const f of spec.logFields ?? []) {
    // Comments travel as encoded elements in delta.add; the decoded list in the data is the same ones.
    const values = [...(Array.isArray(adds[f]) ? adds[f] : []), ...(Array.isArray(data[f]) ? (data[f] as unknown[]) : [])];
    if (values.length) adds[f] = [...new Set(remoteComments(values, where))];
    else delete adds[f];
    delete data[f];
  }
  let set: Record<string, unknown> = {};
  if (Object.keys(data).length) {
    const r = updateSchema(domain).safeParse(data);
    if (!r.success) throw new InvalidChangeError(`${where}: ${formatIssues(r.error.issues)}`, r.error.issues);
    set = r.data;
  }
  for (const f of spec.setFields) {
    if ((adds[f] ?? []).some((v) => typeof v !== 'string' || v.length > 200)) throw new InvalidChangeError(`${where}: the elements of ${f} are strings of at most 200 characters.`);
  }
  for (const field of Object.keys(m.payload.delta?.remove ?? {})) {
    if (spec.logFields?.includes(field)) throw new InvalidChangeError(`${where}: ${field} is append-only: nothing can be removed from it.`);
  }
  for (const field of [...Object.keys(adds), ...Object.keys(m.payload.delta?.remove ?? {})]) {
    if (!spec.setFields.includes(field) && !spec.logFields?.includes(field)) throw new InvalidChangeError(`${where}: ${field} is not a set field of ${domain} (sets: ${spec.setFields.join(', ')}).`);
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
