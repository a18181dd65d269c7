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
import { clean, cut, fitTokens, isBlank, oneLine } from './fit.ts';
import {
  WHATSAPP_BUTTON_ID,
  WHATSAPP_BUTTON_TITLE,
  WHATSAPP_INTERACTIVE_BODY,
  WHATSAPP_LIST_BUTTON,
  WHATSAPP_LIST_ROWS,
  WHATSAPP_REPLY_BUTTONS,
  WHATSAPP_ROW_DESCRIPTION,
  WHATSAPP_ROW_ID,
  WHATSAPP_ROW_TITLE,
  WHATSAPP_TEXT,
} from './limits.ts';
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

function build(reply: Reply, start: number, withChoices = true): Page<string> {
  const items = itemsOf(reply);
  const hasItems = items.length > 0;
  const choices = (withChoices ? (reply.actions ?? []) : []).slice(0, WHATSAPP_CHOICES).map((a, i) => {
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

/**
 * A WhatsApp Cloud API message: plain text, or interactive reply buttons (up to
 * {@link WHATSAPP_REPLY_BUTTONS}) or a list (up to {@link WHATSAPP_LIST_ROWS} rows). A button's or
 * row's id is the command it runs (`todo done CHITTY-TODO-…`), never its title.
 */
export type WhatsAppMessage =
  | { type: 'text'; text: { body: string; preview_url: false } }
  | {
      type: 'interactive';
      interactive:
        | { type: 'button'; body: { text: string }; action: { buttons: { type: 'reply'; reply: { id: string; title: string } }[] } }
        | { type: 'list'; body: { text: string }; action: { button: string; sections: { title: string; rows: { id: string; title: string; description?: string }[] }[] } };
    };

/** What the list's button says. */
export const WHATSAPP_LIST_LABEL = 'Choose';

/**
 * Renders a reply as a Cloud API message: with actions, reply buttons (≤ 3) or a list (≤ 10),
 * each identified by the command it runs; without actions — or when the body passes
 * {@link WHATSAPP_INTERACTIVE_BODY}, or a command is longer than an id may be — one text message
 * with numbered choices ({@link renderWhatsApp}). Validated before it is returned.
 */
export function renderWhatsAppMessage(reply: Reply, ctx?: RenderContext): WhatsAppMessage {
  const asText = (): WhatsAppMessage => ({ type: 'text', text: { body: renderWhatsApp(reply, ctx), preview_url: false } });
  const seen = new Set<string>();
  const actions = (reply.actions ?? []).map((a) => ({ id: oneLine(a.command), title: buttonLabel(a) })).filter((a) => a.id !== '' && !seen.has(a.id) && seen.add(a.id));
  if (actions.length === 0 || actions.length > WHATSAPP_LIST_ROWS) return asText();
  if (actions.some((a) => a.id.length > (actions.length <= WHATSAPP_REPLY_BUTTONS ? WHATSAPP_BUTTON_ID : WHATSAPP_ROW_ID))) return asText();
  const body = renderPage(reply, ctx?.page, (r, start) => build(r, start, false));
  if (body.trim() === '' || body.length > WHATSAPP_INTERACTIVE_BODY) return asText();
  const titles = new Set<string>();
  const title = (t: string, max: number) => {
    // Titles must differ within a message; the id (the command) is what a press runs.
    let out = cut(t, max) || 'Action';
    for (let k = 2; titles.has(out); k++) out = `${cut(t, max - String(k).length - 1)} ${k}`;
    titles.add(out);
    return out;
  };
  const message: WhatsAppMessage =
    actions.length <= WHATSAPP_REPLY_BUTTONS
      ? {
          type: 'interactive',
          interactive: { type: 'button', body: { text: body }, action: { buttons: actions.map((a) => ({ type: 'reply', reply: { id: a.id, title: title(a.title, WHATSAPP_BUTTON_TITLE) } })) } },
        }
      : {
          type: 'interactive',
          interactive: {
            type: 'list',
            body: { text: body },
            action: {
              button: WHATSAPP_LIST_LABEL,
              sections: [
                {
                  title: cut(WHATSAPP_LIST_LABEL, WHATSAPP_LIST_BUTTON),
                  rows: actions.map((a) => ({
                    id: a.id,
                    title: title(a.title, WHATSAPP_ROW_TITLE),
                    ...(a.title.length > WHATSAPP_ROW_TITLE ? { description: cut(a.title, WHATSAPP_ROW_DESCRIPTION) } : {}),
                  })),
                },
              ],
            },
          },
        };
  validateWhatsAppMessage(message);
  return message;
}

/** Checks a Cloud API message against the limits above; throws {@link RenderValidationError}. */
export function validateWhatsAppMessage(m: WhatsAppMessage): void {
  const fail = (limit: string, detail: string) => {
    throw new RenderValidationError('whatsapp', limit, detail);
  };
  if (m.type === 'text') {
    validateWhatsApp(m.text.body);
    return;
  }
  const i = m.interactive;
  if (i.body.text.trim() === '') fail('WHATSAPP_INTERACTIVE_BODY', 'body is empty');
  if (i.body.text.length > WHATSAPP_INTERACTIVE_BODY) fail('WHATSAPP_INTERACTIVE_BODY', `body has ${i.body.text.length} characters`);
  const options = i.type === 'button' ? i.action.buttons.map((b) => b.reply) : i.action.sections.flatMap((s) => s.rows);
  const [maxN, maxId, maxTitle, nLimit, idLimit, titleLimit] =
    i.type === 'button'
      ? [WHATSAPP_REPLY_BUTTONS, WHATSAPP_BUTTON_ID, WHATSAPP_BUTTON_TITLE, 'WHATSAPP_REPLY_BUTTONS', 'WHATSAPP_BUTTON_ID', 'WHATSAPP_BUTTON_TITLE']
      : [WHATSAPP_LIST_ROWS, WHATSAPP_ROW_ID, WHATSAPP_ROW_TITLE, 'WHATSAPP_LIST_ROWS', 'WHATSAPP_ROW_ID', 'WHATSAPP_ROW_TITLE'];
  if (options.length === 0 || options.length > maxN) fail(nLimit, `${options.length} options`);
  const ids = new Set<string>();
  for (const o of options) {
    if (o.id === '' || o.id.length > maxId) fail(idLimit, `id has ${o.id.length} characters`);
    if (ids.has(o.id)) fail(idLimit, `id ${JSON.stringify(o.id)} is used twice`);
    ids.add(o.id);
    if (o.title === '' || o.title.length > maxTitle) fail(titleLimit, `title has ${o.title.length} characters`);
  }
  if (i.type === 'list') {
    if (i.action.button === '' || i.action.button.length > WHATSAPP_LIST_BUTTON) fail('WHATSAPP_LIST_BUTTON', `button has ${i.action.button.length} characters`);
    for (const r of i.action.sections.flatMap((s) => s.rows))
      if (r.description !== undefined && r.description.length > WHATSAPP_ROW_DESCRIPTION) fail('WHATSAPP_ROW_DESCRIPTION', `description has ${r.description.length} characters`);
  }
}
