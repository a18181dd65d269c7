/**
 * WhatsApp renderer: one text message with WhatsApp markup — *bold* title and labels,
 * _italic_ detail and footer, numbered items, actions as numbered choices ("Reply 1 for Done").
 * User text cannot change the markup: `*`, `_`, `~` and `` ` `` are swapped for look-alikes
 * (see `escape.ts`). At most 4096 characters; a long list ends with
 * "…and N more — reply MORE" and `ctx.page` renders the following pages.
 */
import type { RenderContext, Reply, ReplyItem } from '../src/core/reply.ts';
import { RenderValidationError } from './errors.ts';
import { whatsAppTokens } from './escape.ts';
import { clean, fitTokens, isBlank, oneLine } from './fit.ts';
import { WHATSAPP_TEXT } from './limits.ts';
import { KIND_LABEL, STATUS_EMOJI, buttonLabel, itemsOf, moreMarker, type Page, renderPage } from './model.ts';

/** Most actions offered as numbered choices. */
export const WHATSAPP_CHOICES = 9;
/** The word a person sends for the next page. */
export const WHATSAPP_MORE = 'MORE';

const MORE_RESERVE = 64;
/** Room kept for at least one item (its longest line), so every page makes progress. */
const ITEM_RESERVE = 800;
const FOOTER_MAX = 300;
const FIELD_MAX = 300;
const ITEM_TEXT = 500;
const ITEM_DETAIL = 200;

const esc = (text: string, max: number): string => fitTokens(whatsAppTokens(text), max);

/** Commands of the numbered choices, in order: choice `n` runs `whatsAppChoices(reply)[n - 1]`. */
export function whatsAppChoices(reply: Reply): string[] {
  return (reply.actions ?? []).slice(0, WHATSAPP_CHOICES).map((a) => oneLine(a.command));
}

function itemLine(item: ReplyItem): string {
  const ref = isBlank(item.ref) ? '' : `${esc(oneLine(item.ref), 40)}. `;
  const emoji = item.status === undefined ? '' : `${STATUS_EMOJI[item.status]} `;
  const detail = isBlank(item.detail) ? '' : ` — _${esc(oneLine(item.detail), ITEM_DETAIL)}_`;
  return `${ref}${emoji}${esc(oneLine(item.text), ITEM_TEXT)}${detail}`;
}

function build(reply: Reply, start: number): Page<string> {
  const items = itemsOf(reply);
  const hasItems = items.length > 0;
  const choices = (reply.actions ?? []).slice(0, WHATSAPP_CHOICES).map((a, i) => {
    return `${i + 1} for ${esc(buttonLabel(a), 60)}`;
  });
  const tail: string[] = [];
  if (choices.length > 0) tail.push(`Reply ${choices.join(', ')}.`);
  if (!isBlank(reply.footer)) tail.push(`_${esc(oneLine(reply.footer), FOOTER_MAX)}_`);

  // Every block is counted with two extra characters for the blank line that separates it.
  let used = MORE_RESERVE + tail.reduce((n, t) => n + t.length + 2, 0);
  const head: string[] = [];
  if (!isBlank(reply.title)) {
    head.push(`*${esc(oneLine(reply.title), 200)}*`);
    used += (head[0] ?? '').length + 2;
  }
  if (!isBlank(reply.text)) {
    const text = esc(clean(reply.text).trim(), WHATSAPP_TEXT - used - 2 - (hasItems ? ITEM_RESERVE : 0));
    if (text !== '') {
      head.push(text);
      used += text.length + 2;
    }
  }
  const fields: string[] = [];
  let fieldsShown = 0;
  for (const f of reply.fields ?? []) {
    const label = isBlank(f.label) ? '' : `*${esc(oneLine(f.label), 100)}:* `;
    const line = label + esc(oneLine(f.value), FIELD_MAX - label.length);
    if (used + line.length + 1 > WHATSAPP_TEXT - (hasItems ? ITEM_RESERVE : 0) - 40) break;
    fields.push(line);
    used += line.length + 1;
    fieldsShown++;
  }
  const fieldsLeft = (reply.fields ?? []).length - fieldsShown;
  if (fieldsLeft > 0) {
    const note = `…and ${fieldsLeft} more fields`;
    fields.push(note);
    used += note.length + 1;
  }

  const lines: string[] = [];
  let index = start;
  for (; index < items.length; index++) {
    const line = itemLine(items[index] as ReplyItem);
    if (used + line.length + 1 > WHATSAPP_TEXT) break;
    lines.push(line);
    used += line.length + 1;
  }
  const remaining = items.length - index;
  if (hasItems && start >= items.length) lines.push('No more items.');
  if (remaining > 0) lines.push(`_${moreMarker(remaining, WHATSAPP_MORE)}_`);

  const blocks = [...head, fields.join('\n'), lines.join('\n'), ...tail].filter((b) => b !== '');
  const text = blocks.join('\n\n') || KIND_LABEL[reply.kind];
  return { payload: text, shown: index - start };
}

/** Renders a reply as one WhatsApp text message; validated before it is returned. */
export function renderWhatsApp(reply: Reply, ctx?: RenderContext): string {
  const text = renderPage(reply, ctx?.page, build);
  validateWhatsApp(text);
  return text;
}

/** Checks the body is non-empty and within {@link WHATSAPP_TEXT}; throws {@link RenderValidationError}. */
export function validateWhatsApp(text: string): void {
  if (text.trim() === '') throw new RenderValidationError('whatsapp', 'WHATSAPP_TEXT', 'body is empty');
  if (text.length > WHATSAPP_TEXT) throw new RenderValidationError('whatsapp', 'WHATSAPP_TEXT', `body has ${text.length} characters`);
}
