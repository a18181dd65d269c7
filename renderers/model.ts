/**
 * Wording shared by every renderer: status labels, kind labels, the "more" marker,
 * paging over items, and how a command is shown on text channels.
 */
import type { ItemStatus, Reply, ReplyItem, ReplyKind } from '../src/core/reply.ts';

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

/** `…and 12 more — reply `more`` (the command formatted by the caller). */
export function moreMarker(remaining: number, command: string): string {
  return `…and ${remaining} more — reply ${command}`;
}

/** Items of a reply, never undefined. */
export function itemsOf(reply: Reply): readonly ReplyItem[] {
  return reply.items ?? [];
}

/** 1-based page from the context, clamped to a sane range. */
export function pageOf(page: number | undefined): number {
  if (page === undefined || !Number.isFinite(page)) return 1;
  return Math.min(Math.max(1, Math.floor(page)), 10_000);
}

/**
 * Index of the first item on `page`, given a function that renders from an index and says how
 * many items it showed. Page 1 starts at 0; each later page starts where the previous ended.
 */
export function startOfPage(page: number, total: number, shownFrom: (start: number) => number): number {
  let start = 0;
  for (let p = 1; p < page && start < total; p++) {
    const shown = shownFrom(start);
    if (shown <= 0) break;
    start += shown;
  }
  return Math.min(start, total);
}

/** `todo done 2` → `TODO done 2`: the first word upper-cased, as typed on SMS. */
export function smsCommand(command: string): string {
  const trimmed = command.replace(/\s+/g, ' ').trim();
  const space = trimmed.indexOf(' ');
  return space < 0 ? trimmed.toUpperCase() : trimmed.slice(0, space).toUpperCase() + trimmed.slice(space);
}

/**
 * What pages after the first repeat of a reply: title, items, actions and footer, but not the
 * body text and fields, which page 1 already showed.
 */
export function continuationOf(reply: Reply): Reply {
  const { text: _text, fields: _fields, ...rest } = reply;
  return rest;
}
