/**
 * Which SyncMessages a subscriber wants: by domain and by project / session / topic / entity.
 * Used by WebSocket clients now and by fan-out subscriptions later, so both agree.
 */
import { z } from 'zod';
import { DomainSchema, type Domain } from '../hub/domains.ts';
import type { SyncMessage } from './sync-message.ts';

export const SubscriptionFilterSchema = z.strictObject({
  projectId: z.string().min(1).max(200).optional(),
  sessionId: z.string().min(1).max(200).optional(),
  topicId: z.string().min(1).max(200).optional(),
  entityId: z.string().min(1).max(200).optional(),
});
export type SubscriptionFilter = z.infer<typeof SubscriptionFilterSchema>;

export const SubscriptionSchema = z.strictObject({
  /** Domains wanted; empty or absent means every domain. */
  domains: z.array(DomainSchema).max(7).optional(),
  filters: SubscriptionFilterSchema.optional(),
});
export type Subscription = z.infer<typeof SubscriptionSchema>;

function has(value: unknown, wanted: string): boolean {
  if (value === wanted) return true;
  return Array.isArray(value) && value.includes(wanted);
}

/** Does one entity (its id and data) fall under the filter? */
export function entityMatches(id: string, data: Record<string, unknown>, f: SubscriptionFilter): boolean {
  if (f.entityId && id !== f.entityId) return false;
  if (f.projectId && id !== f.projectId && !has(data.projectId, f.projectId)) return false;
  if (f.sessionId && id !== f.sessionId && !has(data.sessionId, f.sessionId) && !has(data.sessions, f.sessionId)) return false;
  if (f.topicId && id !== f.topicId && !has(data.topicId, f.topicId) && !has(data.topics, f.topicId)) return false;
  return true;
}

/** Does the message concern what the subscription asks for? Snapshots match if any entity does. */
export function messageMatches(message: SyncMessage, sub: Subscription): boolean {
  const domain: Domain = message.payload.domain;
  if (sub.domains && sub.domains.length > 0 && !sub.domains.includes(domain)) return false;
  const f = sub.filters ?? {};
  if (!f.projectId && !f.sessionId && !f.topicId && !f.entityId) return true;
  const { chittyId, data } = message.payload.entity;
  if (message.type === 'state_snapshot') {
    const entities = (data.entities as Record<string, unknown>[] | undefined) ?? [];
    return entities.some((e) => entityMatches(String(e.chittyId), e, f));
  }
  return entityMatches(chittyId, data, f);
}
