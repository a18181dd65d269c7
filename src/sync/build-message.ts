/** Builds the SyncMessages the hub writes to its outbox: state updates, conflicts, snapshots and events. */
import type { Change, FieldConflict } from '../hub/crdt.ts';
import { domainSpec, type Domain } from '../hub/domains.ts';
import { messageId } from '../hub/ids.ts';
import type { Actor, Entity } from '../hub/types.ts';
import type { VectorClock } from '../hub/vector-clock.ts';
import type { SyncMessage } from './sync-message.ts';
import { traceMetadata } from '../telemetry/tracing.ts';

const DAY_S = 86_400;

/**
 * The `state_update` for a committed change. A local change keeps its own id; a replica's
 * change gets a new id and names the original in `causality`.
 */
export function stateUpdateMessage(nodeId: string, change: Change, actor: Actor, operation: 'create' | 'update' | 'delete', entity: Entity, vclock: VectorClock, now: Date): SyncMessage {
  const local = change.node === nodeId;
  const message: SyncMessage = {
    id: local ? change.id : messageId(),
    type: 'state_update',
    source: { nodeId: change.node, platform: actor.platform, ...(actor.chittyId ? { chittyId: actor.chittyId } : {}) },
    target: { broadcast: true },
    payload: {
      domain: change.domain,
      operation,
      entity: { chittyId: change.entityId, type: domainSpec(change.domain).entityType, data: entity },
      delta: { ...(change.add ? { add: change.add } : {}), ...(change.remove ? { remove: change.remove } : {}) },
    },
    metadata: {
      timestamp: now.toISOString(),
      vectorClock: vclock,
      hlc: change.hlc,
      causality: local ? [] : [change.id],
      ttl: DAY_S,
      ...(actor.origin ? { origin: actor.origin } : {}),
      ...traceMetadata(),
    },
  };
  if (change.set) (message.payload.delta as Record<string, unknown>).set = change.set;
  return message;
}

/** A `conflict` message: a text field of an entity now holds concurrent versions. */
export function conflictMessage(nodeId: string, domain: Domain, entityId: string, conflictId: string, conflict: FieldConflict, vclock: VectorClock, hlc: string, now: Date): SyncMessage {
  return {
    id: messageId(),
    type: 'conflict',
    source: { nodeId, platform: 'hub' },
    target: { broadcast: true },
    payload: { domain, operation: 'update', entity: { chittyId: entityId, type: domainSpec(domain).entityType, data: { conflictId, field: conflict.field, versions: conflict.versions } } },
    metadata: { timestamp: now.toISOString(), vectorClock: vclock, hlc, causality: conflict.versions.map((v) => v.change), ttl: DAY_S, ...traceMetadata() },
  };
}

/** A message that changes no state (a snapshot page or an event), from this node. */
export function hubMessage(nodeId: string, hlc: string, type: SyncMessage['type'], actor: Actor, domain: Domain, entity: SyncMessage['payload']['entity'], ttl: number): SyncMessage {
  return {
    id: messageId(),
    type,
    source: { nodeId, platform: actor.platform, ...(actor.chittyId ? { chittyId: actor.chittyId } : {}) },
    target: { broadcast: true },
    payload: { domain, operation: 'query', entity },
    metadata: { timestamp: new Date().toISOString(), vectorClock: {}, hlc, causality: [], ttl, ...traceMetadata() },
  };
}
