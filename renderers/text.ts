/**
 * Plain text (CLI, HTTP API) and CommonMark (web page) renderings. No length limit: these
 * surfaces scroll, so every item is shown and `ctx.page` is not used.
 */
import type { ItemStatus, RenderContext, Reply, ReplyItem } from '../src/core/reply.ts';
import { clean, isBlank, oneLine } from './fit.ts';

/** Checkbox-style marker per status in plain text. */
export const TEXT_STATUS_MARK: Record<ItemStatus, string> = {
  completed: '[x]',
  in_progress: '[~]',
  blocked: '[!]',
  pending: '[ ]',
};

function itemLine(item: ReplyItem, esc: (s: string) => string): string {
  const mark = item.status === undefined ? '' : `${TEXT_STATUS_MARK[item.status]} `;
  const ref = isBlank(item.ref) ? '' : `${esc(`${oneLine(item.ref)}.`)} `;
  const detail = isBlank(item.detail) ? '' : ` — ${esc(oneLine(item.detail))}`;
  return `${ref}${mark}${esc(oneLine(item.text))}${detail}`;
}

function build(reply: Reply, esc: (s: string) => string, strong: (s: string) => string, list: string): string {
  const parts: string[] = [];
  if (!isBlank(reply.title)) parts.push(strong(esc(oneLine(reply.title))));
  if (!isBlank(reply.text)) parts.push(esc(clean(reply.text).trim()));
  const fields = (reply.fields ?? []).map((f) => `${strong(`${esc(oneLine(f.label))}:`)} ${esc(oneLine(f.value))}`);
  if (fields.length > 0) parts.push(fields.join('\n'));
  const items = (reply.items ?? []).map((i) => `${list}${itemLine(i, esc)}`);
  if (items.length > 0) parts.push(items.join('\n'));
  const actions = (reply.actions ?? []).map((a) => `${list}${esc(oneLine(a.label))}: ${esc(oneLine(a.command))}`);
  if (actions.length > 0) parts.push(`Actions:\n${actions.join('\n')}`);
  if (!isBlank(reply.footer)) parts.push(esc(oneLine(reply.footer)));
  return parts.join('\n\n');
}

/** Plain text for the CLI and the HTTP API: no markup, no escaping (callers escape for HTML). */
export function renderText(reply: Reply, _ctx?: RenderContext): string {
  return build(reply, (s) => s, (s) => s, '');
}

/** Backslash-escapes CommonMark punctuation and `<` so user text stays literal. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|~<>]/g, '\\$&');
}

/** CommonMark for the web page: bold title and labels, bulleted items, user text escaped. */
export function renderMarkdown(reply: Reply, _ctx?: RenderContext): string {
  return build(reply, escapeMarkdown, (s) => `**${s}**`, '- ');
}
