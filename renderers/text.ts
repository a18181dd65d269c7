/**
 * Plain text (CLI, HTTP API) and CommonMark (web page) renderings. No length limit: these
 * surfaces scroll, so page 1 shows every item and a later page (`more`) says there is nothing
 * more, like the other renderers do past the last item — never page 1's items again.
 */
import type { ItemStatus, RenderContext, Reply, ReplyItem } from '../src/core/reply.ts';
import { clean, isBlank, oneLine } from './fit.ts';
import { type Page, renderPage } from './model.ts';

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

/** The items from `start` on (all of them: no limit), or "No more items." when none are left. */
function build(reply: Reply, start: number, esc: (s: string) => string, strong: (s: string) => string, list: string): Page<string> {
  const parts: string[] = [];
  if (!isBlank(reply.title)) parts.push(strong(esc(oneLine(reply.title))));
  if (!isBlank(reply.text)) parts.push(esc(clean(reply.text).trim()));
  const fields = (reply.fields ?? []).map((f) => `${strong(`${esc(oneLine(f.label))}:`)} ${esc(oneLine(f.value))}`);
  if (fields.length > 0) parts.push(fields.join('\n'));
  const all = reply.items ?? [];
  const items = all.slice(start).map((i) => `${list}${itemLine(i, esc)}`);
  if (items.length > 0) parts.push(items.join('\n'));
  else if (all.length > 0) parts.push('No more items.');
  const actions = (reply.actions ?? []).map((a) => `${list}${esc(oneLine(a.label))}: ${esc(oneLine(a.command))}`);
  if (actions.length > 0) parts.push(`Actions:\n${actions.join('\n')}`);
  if (!isBlank(reply.footer)) parts.push(esc(oneLine(reply.footer)));
  return { payload: parts.join('\n\n'), shown: items.length };
}

/** Plain text for the CLI and the HTTP API: no markup, no escaping (callers escape for HTML). */
export function renderText(reply: Reply, ctx?: RenderContext): string {
  return renderPage(reply, ctx?.page, (r, start) =>
    build(
      r,
      start,
      (s) => s,
      (s) => s,
      '',
    ),
  );
}

/** Backslash-escapes CommonMark punctuation and `<` so user text stays literal. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|~<>]/g, '\\$&');
}

/** CommonMark for the web page: bold title and labels, bulleted items, user text escaped. */
export function renderMarkdown(reply: Reply, ctx?: RenderContext): string {
  return renderPage(reply, ctx?.page, (r, start) => build(r, start, escapeMarkdown, (s) => `**${s}**`, '- '));
}
