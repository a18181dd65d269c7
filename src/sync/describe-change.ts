/**
 * A SyncMessage told as a neutral Reply, for people: "Todo completed: Buy milk". The fan-out and
 * /api/v1/preview use it, so every channel words a change the same way before rendering it.
 */
import { commentLines, todoItem } from '../../commands/handlers/views.ts';
import { decodeComment, type EntityComment } from '../hub/comment-codec.ts';
import type { Reply, ReplyItem } from '../core/reply.ts';
import type { Entity } from '../hub/hub.ts';
import type { SyncMessage } from './sync-message.ts';

const NAME_FIELDS = ['content', 'title', 'name', 'summary'] as const;

/** The human name of an entity: its content, title or name, else its id. */
export function entityLabel(data: Record<string, unknown>, id: string): string {
  for (const f of NAME_FIELDS) {
    const v = data[f];
    if (typeof v === 'string' && v.trim()) return v.trim();
  }
  return id;
}

const SINGULAR: Record<string, string> = {
  topics: 'Topic',
  projects: 'Project',
  sessions: 'Session',
  todos: 'Todo',
  contexts: 'Context',
  repos: 'Repo',
  services: 'Service',
};

function verb(m: SyncMessage, data: Record<string, unknown>): string {
  const op = m.payload.operation;
  if (op === 'create') return 'added';
  if (op === 'delete') return data.mergedInto ? 'merged' : 'deleted';
  const set = ((m.payload as { delta?: { set?: Record<string, unknown> } }).delta?.set ?? {}) as Record<string, unknown>;
  if ('status' in set) {
    const s = String(set.status);
    return { completed: 'completed', in_progress: 'started', blocked: 'blocked', pending: 'reopened', ended: 'ended', archived: 'archived' }[s] ?? `now ${s}`;
  }
  if ('assignees' in set) return 'reassigned';
  return 'updated';
}

/** The comment a change added (the last, if several), when it added one. */
function commentAdded(m: SyncMessage): EntityComment | undefined {
  const added = (m.payload as { delta?: { add?: Record<string, unknown> } }).delta?.add?.comments;
  const last = Array.isArray(added) ? added.at(-1) : undefined;
  return typeof last === 'string' ? decodeComment(last) : undefined;
}

/** `Ann commented: Looks good` (one line, cut to fit a title). */
function commentTitle(c: EntityComment): string {
  const text = c.text.replace(/\s+/g, ' ').trim();
  return `${c.name?.trim() || 'Someone'} commented: ${text.length > 120 ? `${text.slice(0, 119)}…` : text}`;
}

/** An entity as a list item: todos as the todo commands show them, others by name. */
function itemOf(domain: string, id: string, data: Record<string, unknown>, ref: number): ReplyItem {
  if (domain === 'todos') return todoItem({ ...data, chittyId: id } as Entity, ref);
  return { ref: String(ref), id, text: entityLabel(data, id) };
}

export function describeChange(m: SyncMessage): Reply {
  const { domain, entity } = m.payload;
  const kind = SINGULAR[domain] ?? domain;
  const data = entity.data ?? {};
  if (m.type === 'conflict') {
    const versions = (data.versions as { value: unknown; node: string }[] | undefined) ?? [];
    return {
      kind: 'update',
      title: `Conflict on a ${kind.toLowerCase()}'s ${String(data.field ?? 'field')}`,
      text: `Two edits were made at the same time to ${entity.chittyId}. Pick the one to keep.`,
      items: versions.map((v, i) => ({ ref: String(i + 1), text: String(v.value), detail: `from ${v.node}` })),
      actions: versions.slice(0, 5).map((_, i) => ({ id: `resolve-${i + 1}`, label: `Keep ${i + 1}`, command: `sync resolve ${String(data.conflictId ?? '')} ${i + 1}` })),
      footer: `conflict ${String(data.conflictId ?? '')}`,
    };
  }
  if (m.type === 'state_snapshot') {
    const entities = (data.entities as Record<string, unknown>[] | undefined) ?? [];
    return {
      kind: 'update',
      title: `${kind}s: current state${data.pages && Number(data.pages) > 1 ? ` (part ${String(data.page)} of ${String(data.pages)})` : ''}`,
      items: entities.map((e, i) => itemOf(domain, String(e.chittyId), e, i + 1)),
      footer: `${entities.length} ${domain} · synced from ${m.source.nodeId}`,
    };
  }
  if (m.type === 'event') {
    return {
      kind: 'update',
      title: `${kind} event: ${String(data.kind ?? 'event')}`,
      text: typeof data.summary === 'string' ? data.summary : entityLabel(data, entity.chittyId),
      footer: entity.chittyId,
    };
  }
  const label = entityLabel(data, entity.chittyId);
  const v = verb(m, data);
  const comment = domain === 'todos' ? commentAdded(m) : undefined;
  const comments = domain === 'todos' && !comment ? commentLines({ ...data, chittyId: entity.chittyId } as Entity) : [];
  const actions =
    domain === 'todos' && m.payload.operation !== 'delete'
      ? data.status === 'completed'
        ? [{ id: `reopen:${entity.chittyId}`, label: 'Reopen', command: `todo reopen ${entity.chittyId}` }]
        : [{ id: `done:${entity.chittyId}`, label: 'Done', command: `todo done ${entity.chittyId}`, style: 'primary' as const }]
      : [];
  return {
    kind: 'update',
    title: comment ? commentTitle(comment) : `${kind} ${v}: ${label}`,
    ...(comments.length ? { text: comments.join('\n') } : {}),
    items: [itemOf(domain, entity.chittyId, data, 1)],
    ...(actions.length ? { actions } : {}),
    footer: `${entity.chittyId} · by ${m.source.platform}${m.source.chittyId ? ` (${m.source.chittyId})` : ''}`,
  };
}

/** Several changes for one destination as one message: a line per change, newest last. */
export function describeDigest(messages: SyncMessage[]): Reply {
  if (messages.length === 1) return describeChange(messages[0]!);
  const items: ReplyItem[] = messages.map((m, i) => {
    const one = describeChange(m);
    return { ref: String(i + 1), ...(m.payload.entity.chittyId ? { id: m.payload.entity.chittyId } : {}), text: one.title ?? one.text ?? m.payload.entity.chittyId };
  });
  return { kind: 'update', title: `${messages.length} changes`, items, footer: `by ${[...new Set(messages.map((m) => m.source.platform))].join(', ')}` };
}
