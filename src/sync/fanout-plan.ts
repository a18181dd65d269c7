/**
 * Which subscriptions a SyncMessage goes to: the subscription's scope (whole hub, a project, a
 * topic) and domains must match, the message's target must allow the channel, and the
 * conversation the change came from is left out (its person already got a direct reply).
 */
import type { SubscriptionRecord } from '../core/subscription-store.ts';
import { messageMatches, type Subscription } from './subscription-filter.ts';
import type { SyncMessage } from './sync-message.ts';

/** Message types people are told about. Heartbeats, acks and queries are protocol chatter. */
const FANNED_OUT = new Set<SyncMessage['type']>(['state_update', 'state_snapshot', 'conflict', 'event']);

/** Scopes a message could concern, for looking subscriptions up ('' = whole hub is added by the store). */
export function scopesOf(m: SyncMessage): string[] {
  const { domain, entity } = m.payload;
  const d = entity.data ?? {};
  const scopes = new Set<string>();
  const add = (v: unknown) => typeof v === 'string' && v && scopes.add(v);
  add(d.projectId);
  add(d.topicId);
  if (Array.isArray(d.topics)) d.topics.forEach(add);
  if (domain === 'projects' || domain === 'topics') add(entity.chittyId);
  if (m.type === 'state_snapshot') {
    add(entity.chittyId);
    for (const e of (d.entities as Record<string, unknown>[] | undefined) ?? []) {
      add(e.projectId);
      add(e.topicId);
    }
  }
  return [...scopes];
}

/** A message aimed at some platforms or models reaches a subscription on one of those channels or labelled with one of those models. */
function aimedAt(target: NonNullable<SyncMessage['target']>, s: SubscriptionRecord): boolean {
  if (target.platforms?.includes(s.channel)) return true;
  const model = s.model?.toLowerCase();
  return !!model && !!target.models?.some((m) => model.includes(m.toLowerCase()));
}

/**
 * The change came from the conversation `s` delivers to: the person there has the answer already,
 * so no notice goes back. An address-wide email subscription is one mailbox whose replies run in
 * per-todo threads of it; their answers reach that mailbox, so any of its threads counts.
 */
function answeredThere(origin: { channel: string; address: string; thread?: string | undefined }, s: SubscriptionRecord): boolean {
  if (origin.channel !== s.channel || origin.address !== s.address) return false;
  if (s.channel === 'email' && !s.thread) return true;
  return (origin.thread ?? null) === (s.thread ?? null);
}

export function planFanout(m: SyncMessage, subscriptions: SubscriptionRecord[]): SubscriptionRecord[] {
  if (!FANNED_OUT.has(m.type)) return [];
  const aimed = m.target && !m.target.broadcast ? m.target : undefined;
  const origin = m.metadata.origin;
  return subscriptions.filter((s) => {
    if (aimed && !aimedAt(aimed, s)) return false;
    if (origin && answeredThere(origin, s)) return false;
    const sub: Subscription = {
      ...(s.domains.length ? { domains: s.domains } : {}),
      filters: s.projectId ? { projectId: s.projectId } : s.topicId ? { topicId: s.topicId } : {},
    };
    return messageMatches(m, sub);
  });
}
