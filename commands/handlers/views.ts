/** Neutral views of hub entities shared by the handlers. */
import { TODO_STATUSES } from '../../src/hub/domains.ts';
import type { EntityComment } from '../../src/hub/comment-codec.ts';
import type { Entity } from '../../src/hub/hub.ts';
import type { ItemStatus, ReplyItem } from '../../src/core/reply.ts';
import type { CommandContext } from '../context.ts';

function shortDate(iso: unknown): string {
  if (typeof iso !== 'string') return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
}

/** People's names by id, for the assignees of these todos (ids without a person are left out). */
export async function assigneeNames(ctx: CommandContext, todos: Entity[]): Promise<Map<string, string>> {
  const ids = new Set(todos.flatMap((t) => ((t.assignees as string[] | undefined) ?? []).filter((w) => w.startsWith('CHITTY-PERSON-'))));
  const names = new Map<string, string>();
  for (const id of ids) {
    const p = id === ctx.person.id ? ctx.person : await ctx.identities.person(id);
    if (p) names.set(id, p.name);
  }
  return names;
}

/** A todo as a list item: ref number, text, status, and a short detail line (`ctx` shows "you", `names` a person's name). */
export function todoItem(t: Entity, ref: number, ctx?: CommandContext, names?: ReadonlyMap<string, string>): ReplyItem {
  const who = (t.assignees as string[] | undefined) ?? [];
  const detail = [
    t.priority && t.priority !== 'medium' ? `${String(t.priority)}` : '',
    t.deadline ? `due ${shortDate(t.deadline)}` : '',
    who.length ? `→ ${who.map((w) => (ctx && w === ctx.person.id ? 'you' : (names?.get(w) ?? w))).join(', ')}` : '',
    commentCount(t) ? `${commentCount(t)} comment${commentCount(t) === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  const status = (TODO_STATUSES as readonly string[]).includes(String(t.status)) ? (t.status as ItemStatus) : undefined;
  return { ref: String(ref), id: t.chittyId, text: String(t.content ?? ''), ...(status ? { status } : {}), ...(detail.length ? { detail: detail.join(' · ') } : {}) };
}

const commentsOf = (t: Entity): EntityComment[] => (Array.isArray(t.comments) ? (t.comments as EntityComment[]) : []);
const commentCount = (t: Entity): number => commentsOf(t).length;

/** Most comments shown under an entity (the newest ones); the rest are counted. */
export const COMMENTS_SHOWN = 3;

/** An entity's latest comments as lines, `Ann: Looks good`, oldest of them first. */
export function commentLines(t: Entity, max = COMMENTS_SHOWN): string[] {
  const all = commentsOf(t);
  const shown = all.slice(-max).map((c) => `${c.name?.trim() || 'Someone'}: ${c.text.replace(/\s+/g, ' ').trim()}`);
  return all.length > shown.length ? [`(${all.length - shown.length} earlier comment${all.length - shown.length === 1 ? '' : 's'})`, ...shown] : shown;
}

/** A project/topic/session as a list item. */
export function namedItem(e: Entity, ref: number, nameField: string): ReplyItem {
  return { ref: String(ref), id: e.chittyId, text: String(e[nameField] || e.chittyId), detail: String(e.status ?? '') };
}

/** Remember a list's ids so "done 2" means its second item; returns the items numbered from 1. */
export function remember<T extends { chittyId: string }>(ctx: CommandContext, entities: T[]): T[] {
  ctx.conversation.lastList = entities.map((e) => e.chittyId);
  return entities;
}

/** Add one id to the remembered list (e.g. a todo just added) and return its number. */
export function rememberOne(ctx: CommandContext, id: string): number {
  const i = ctx.conversation.lastList.indexOf(id);
  if (i >= 0) return i + 1;
  ctx.conversation.lastList.push(id);
  return ctx.conversation.lastList.length;
}
