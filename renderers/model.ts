/**
 * Wording shared by every renderer: status labels, kind labels, the "more" marker and button,
 * how an action becomes a button, paging over items, and how a command is shown on text channels.
 */
import type { ItemStatus, Reply, ReplyAction, ReplyItem, ReplyKind } from '../src/core/reply.ts';
import { cut, isBlank, oneLine } from './fit.ts';

/** Word shown for a status on text channels (`2. Buy milk [done]`). */
export const STATUS_WORD: Record<ItemStatus, string> = {
  completed: 'done',
  in_progress: 'doing',
  blocked: 'blocked',
  pending: 'todo',
};

/** Unicode status emoji (Discord, WhatsApp). */
export const STATUS_EMOJI: Record<ItemStatus, string> = {
  completed: '✅',
  in_progress: '⏳',
  blocked: '⛔',
  pending: '⚪',
};

/** Text shown when a reply has nothing else to show. */
export const KIND_LABEL: Record<ReplyKind, string> = {
  ok: 'OK',
  info: 'Info',
  error: 'Error',
  usage: 'Usage',
  update: 'Update',
};

/** The command that shows the next page of a long list. */
export const MORE_COMMAND = 'more';

/** The button that asks for the next page (Slack, Discord). */
export const MORE_ACTION: ReplyAction = { id: MORE_COMMAND, label: 'More', command: MORE_COMMAND };

/** `…and 12 more — reply `more`` (the command formatted by the caller). */
export function moreMarker(remaining: number, command: string): string {
  return `…and ${remaining} more — reply ${command}`;
}

/** A button's label: the action's label, else its command, else `Action`. */
export function buttonLabel(action: ReplyAction): string {
  if (!isBlank(action.label)) return oneLine(action.label);
  return isBlank(action.command) ? 'Action' : oneLine(action.command);
}

/**
 * Id of the `n`th button (1-based): the action's id cut to `max` (`action-n` when blank), made
 * unique among `used` as `<id><sep>2`, `<id><sep>3`, …; the id returned is added to `used`.
 */
export function uniqueButtonId(action: ReplyAction, n: number, max: number, sep: string, used: Set<string>): string {
  const base = cut(oneLine(action.id), max) || `action-${n}`;
  let id = base;
  for (let k = 2; used.has(id); k++) id = `${base}${sep}${k}`;
  used.add(id);
  return id;
}

/** Items of a reply, never undefined. */
export function itemsOf(reply: Reply): readonly ReplyItem[] {
  return reply.items ?? [];
}

/** `todo done 2` → `TODO done 2`: the first word upper-cased, as typed on SMS. */
export function smsCommand(command: string): string {
  const trimmed = command.replace(/\s+/g, ' ').trim();
  const space = trimmed.indexOf(' ');
  return space < 0 ? trimmed.toUpperCase() : trimmed.slice(0, space).toUpperCase() + trimmed.slice(space);
}

/** 1-based page from the context, clamped to a sane range. */
function pageOf(page: number | undefined): number {
  if (page === undefined || !Number.isFinite(page)) return 1;
  return Math.min(Math.max(1, Math.floor(page)), 10_000);
}

/**
 * What pages after the first repeat of a reply: title, items, actions and footer, but not the
 * body text and fields, which page 1 already showed.
 */
function continuationOf(reply: Reply): Reply {
  const { text: _text, fields: _fields, ...rest } = reply;
  return rest;
}

/** One page of a reply as built by a renderer, and how many items it showed. */
export interface Page<T> {
  payload: T;
  shown: number;
}

/**
 * Renders page `page` (1-based, clamped; default 1) of a reply whose items do not all fit in one
 * message. `build(reply, start)` renders the items from index `start` on and says how many it
 * showed; page 1 is the whole reply, later pages are its continuation and start where the
 * previous page ended.
 */
export function renderPage<T>(reply: Reply, page: number | undefined, build: (reply: Reply, start: number) => Page<T>): T {
  const from = (start: number): Page<T> => build(start > 0 ? continuationOf(reply) : reply, start);
  const total = itemsOf(reply).length;
  const last = pageOf(page);
  let start = 0;
  for (let p = 1; p < last && start < total; p++) {
    const { shown } = from(start);
    if (shown <= 0) break;
    start += shown;
  }
  return from(Math.min(start, total)).payload;
}
