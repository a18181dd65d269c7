/**
 * Slack Block Kit renderer: header, mrkdwn sections (user text escaped, `verbatim: true`),
 * section fields, context footer, action buttons. Long lists are packed into sections of at
 * most 3000 characters; when the 50-block budget runs out the rest is announced with
 * "…and N more — reply `more`" and a More button, and `ctx.page` renders the following pages.
 */
import type { ItemStatus, RenderContext, Reply, ReplyAction, ReplyItem } from '../src/core/reply.ts';
import { RenderValidationError } from './errors.ts';
import { slackMrkdwnTokens, slackPlainTokens } from './escape.ts';
import { chunkTokens, clean, cut, fitTokens, isBlank, oneLine } from './fit.ts';
import {
  SLACK_ACTION_ID,
  SLACK_ACTIONS_ELEMENTS,
  SLACK_BUTTON_TEXT,
  SLACK_BUTTON_VALUE,
  SLACK_CONTEXT_ELEMENTS,
  SLACK_FALLBACK_TEXT,
  SLACK_FIELD_TEXT,
  SLACK_HEADER_TEXT,
  SLACK_MAX_BLOCKS,
  SLACK_MESSAGE_BLOCKS_TEXT,
  SLACK_SECTION_FIELDS,
  SLACK_SECTION_TEXT,
} from './limits.ts';
import { buttonLabel, itemsOf, KIND_LABEL, MORE_ACTION, moreMarker, type Page, renderPage, uniqueButtonId } from './model.ts';

export interface SlackPlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface SlackMrkdwn {
  type: 'mrkdwn';
  text: string;
  verbatim?: boolean;
}
export type SlackTextObject = SlackPlainText | SlackMrkdwn;
export interface SlackHeaderBlock {
  type: 'header';
  text: SlackPlainText;
}
export interface SlackSectionBlock {
  type: 'section';
  text?: SlackMrkdwn;
  fields?: SlackMrkdwn[];
}
export interface SlackContextBlock {
  type: 'context';
  elements: SlackTextObject[];
}
export interface SlackButton {
  type: 'button';
  text: SlackPlainText;
  action_id: string;
  value: string;
  style?: 'primary' | 'danger';
}
export interface SlackActionsBlock {
  type: 'actions';
  elements: SlackButton[];
}
export type SlackBlock = SlackHeaderBlock | SlackSectionBlock | SlackContextBlock | SlackActionsBlock;
/** A `chat.postMessage` body without channel/thread: fallback `text` plus `blocks`. */
export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

/** Status emoji per item. */
export const SLACK_STATUS_EMOJI: Record<ItemStatus, string> = {
  completed: ':white_check_mark:',
  in_progress: ':hourglass_flowing_sand:',
  blocked: ':no_entry:',
  pending: ':white_circle:',
};

// Budgets: head (header + text + fields) and tail (footer + actions + more) stay small so at
// least SLACK_MAX_BLOCKS - 12 blocks are left for items.
const TEXT_SECTIONS = 4;
const FIELD_SECTIONS = 2;
const ACTION_BLOCKS = 2;
const ITEM_TEXT = 1500;
const ITEM_DETAIL = 500;

const mrkdwn = (text: string): SlackMrkdwn => ({ type: 'mrkdwn', text, verbatim: true });
const esc = (text: string, max: number): string => fitTokens(slackMrkdwnTokens(text), max);
const plain = (text: string, max: number): string => fitTokens(slackPlainTokens(text), max);

function itemLine(item: ReplyItem): string {
  const emoji = item.status === undefined ? '' : `${SLACK_STATUS_EMOJI[item.status]} `;
  const ref = isBlank(item.ref) ? '' : `*${esc(oneLine(item.ref), 40)}.* `;
  const detail = isBlank(item.detail) ? '' : ` — _${esc(oneLine(item.detail), ITEM_DETAIL)}_`;
  return `${emoji}${ref}${esc(oneLine(item.text), ITEM_TEXT)}${detail}`;
}

function buttons(actions: readonly ReplyAction[]): SlackActionsBlock[] {
  const blocks: SlackActionsBlock[] = [];
  for (let i = 0; i < actions.length; i += SLACK_ACTIONS_ELEMENTS) {
    const used = new Set<string>();
    const elements = actions.slice(i, i + SLACK_ACTIONS_ELEMENTS).map((a, j): SlackButton => {
      const id = uniqueButtonId(a, i + j + 1, SLACK_ACTION_ID - 6, '#', used);
      const button: SlackButton = {
        type: 'button',
        text: { type: 'plain_text', text: plain(buttonLabel(a), SLACK_BUTTON_TEXT), emoji: true },
        action_id: id,
        value: cut(oneLine(a.command), SLACK_BUTTON_VALUE) || id,
      };
      if (a.style !== undefined) button.style = a.style;
      return button;
    });
    blocks.push({ type: 'actions', elements });
  }
  return blocks;
}

/** Characters of text a message's blocks carry (what {@link SLACK_MESSAGE_BLOCKS_TEXT} limits). */
export function slackBlocksText(blocks: readonly SlackBlock[]): number {
  let n = 0;
  for (const b of blocks) {
    switch (b.type) {
      case 'header':
        n += b.text.text.length;
        break;
      case 'section':
        n += b.text?.text.length ?? 0;
        for (const f of b.fields ?? []) n += f.text.length;
        break;
      case 'context':
        for (const e of b.elements) n += e.text.length;
        break;
      case 'actions':
        for (const e of b.elements) n += e.text.text.length;
        break;
    }
  }
  return n;
}

/** Room kept for the "…and N more" marker. */
const MORE_MARKER_TEXT = 80;

function build(reply: Reply, start: number): Page<SlackPayload> {
  const head: SlackBlock[] = [];
  if (!isBlank(reply.title)) {
    head.push({ type: 'header', text: { type: 'plain_text', text: plain(oneLine(reply.title), SLACK_HEADER_TEXT), emoji: true } });
  }
  if (!isBlank(reply.text)) {
    // One unit short of the limit so a cut chunk always has room for the ellipsis.
    const chunks = chunkTokens(slackMrkdwnTokens(clean(reply.text).trim()), SLACK_SECTION_TEXT - 1);
    const kept = chunks.slice(0, TEXT_SECTIONS);
    if (chunks.length > TEXT_SECTIONS) kept[TEXT_SECTIONS - 1] = `${(kept[TEXT_SECTIONS - 1] ?? '').trimEnd()}…`;
    for (const chunk of kept) head.push({ type: 'section', text: mrkdwn(chunk) });
  }
  const fields = reply.fields ?? [];
  const maxFields = SLACK_SECTION_FIELDS * FIELD_SECTIONS;
  for (let i = 0; i < Math.min(fields.length, maxFields); i += SLACK_SECTION_FIELDS) {
    head.push({
      type: 'section',
      fields: fields.slice(i, Math.min(i + SLACK_SECTION_FIELDS, maxFields)).map((f) => {
        const label = isBlank(f.label) ? '' : `*${esc(oneLine(f.label), 200)}*\n`;
        const value = esc(clean(f.value).trim(), SLACK_FIELD_TEXT - label.length);
        return mrkdwn(label + value || '-');
      }),
    });
  }
  if (fields.length > maxFields) head.push({ type: 'context', elements: [mrkdwn(`…and ${fields.length - maxFields} more fields`)] });

  const footer: SlackBlock[] = isBlank(reply.footer) ? [] : [{ type: 'context', elements: [mrkdwn(esc(oneLine(reply.footer), SLACK_SECTION_TEXT))] }];
  const userActions = (reply.actions ?? []).slice(0, SLACK_ACTIONS_ELEMENTS * ACTION_BLOCKS - 1);
  // Worst case after the items: footer, the "more" marker, and action blocks for the buttons plus More.
  const worstTail = footer.length + 1 + Math.ceil((userActions.length + 1) / SLACK_ACTIONS_ELEMENTS);

  const items = itemsOf(reply);
  const budget = SLACK_MAX_BLOCKS - head.length - worstTail;
  // Text left for items once the head, the footer and the worst-case tail are counted.
  const textBudget = SLACK_MESSAGE_BLOCKS_TEXT - slackBlocksText([...head, ...footer, ...buttons([...userActions, MORE_ACTION])]) - MORE_MARKER_TEXT;
  const itemBlocks: SlackBlock[] = [];
  let current = '';
  let itemText = 0;
  let index = start;
  for (; index < items.length; index++) {
    const line = itemLine(items[index] as ReplyItem);
    // Every page shows at least one item, so paging always moves on.
    if (index > start && itemText + line.length + 1 > textBudget) break;
    itemText += line.length + 1;
    if (current !== '' && current.length + 1 + line.length <= SLACK_SECTION_TEXT) {
      current += `\n${line}`;
      continue;
    }
    if (current !== '') {
      if (itemBlocks.length + 1 >= budget) break;
      itemBlocks.push({ type: 'section', text: mrkdwn(current) });
    }
    current = line;
  }
  const remaining = items.length - index;
  if (current !== '') itemBlocks.push({ type: 'section', text: mrkdwn(current) });
  if (items.length > 0 && start >= items.length) {
    itemBlocks.push({ type: 'context', elements: [mrkdwn('No more items.')] });
  }

  const blocks: SlackBlock[] = [...head, ...itemBlocks];
  if (remaining > 0) blocks.push({ type: 'context', elements: [mrkdwn(moreMarker(remaining, '`more`'))] });
  blocks.push(...footer, ...buttons(remaining > 0 ? [...userActions, MORE_ACTION] : userActions));
  if (blocks.length === 0) blocks.push({ type: 'section', text: mrkdwn(KIND_LABEL[reply.kind]) });

  const summary = [oneLine(reply.title), oneLine(reply.text)].filter((s) => s !== '').join(': ') || KIND_LABEL[reply.kind];
  return { payload: { text: esc(summary, SLACK_FALLBACK_TEXT), blocks }, shown: index - start };
}

/** Renders a reply as Block Kit; validated before it is returned. `ctx.page` selects a page of a long list. */
export function renderSlack(reply: Reply, ctx?: RenderContext): SlackPayload {
  const payload = renderPage(reply, ctx?.page, build);
  validateSlack(payload);
  return payload;
}

function fail(limit: string, message: string): never {
  throw new RenderValidationError('slack', limit, message);
}

function checkText(obj: SlackTextObject, max: number, limit: string, where: string): void {
  if (obj.text.trim() === '') fail(limit, `${where} text is empty`);
  if (obj.text.length > max) fail(limit, `${where} text has ${obj.text.length} characters, max ${max}`);
}

/** Checks every Block Kit limit the renderer relies on; throws {@link RenderValidationError}. */
export function validateSlack(payload: SlackPayload): void {
  if (payload.text.length > SLACK_FALLBACK_TEXT) fail('SLACK_FALLBACK_TEXT', `text has ${payload.text.length} characters`);
  if (payload.blocks.length > SLACK_MAX_BLOCKS) fail('SLACK_MAX_BLOCKS', `${payload.blocks.length} blocks`);
  payload.blocks.forEach((block, n) => {
    const where = `block ${n} (${block.type})`;
    switch (block.type) {
      case 'header':
        checkText(block.text, SLACK_HEADER_TEXT, 'SLACK_HEADER_TEXT', where);
        break;
      case 'section':
        if (block.text === undefined && block.fields === undefined) fail('SLACK_SECTION_TEXT', `${where} has neither text nor fields`);
        if (block.text !== undefined) checkText(block.text, SLACK_SECTION_TEXT, 'SLACK_SECTION_TEXT', where);
        if (block.fields !== undefined) {
          if (block.fields.length === 0 || block.fields.length > SLACK_SECTION_FIELDS) fail('SLACK_SECTION_FIELDS', `${where} has ${block.fields.length} fields`);
          for (const f of block.fields) checkText(f, SLACK_FIELD_TEXT, 'SLACK_FIELD_TEXT', where);
        }
        break;
      case 'context':
        if (block.elements.length === 0 || block.elements.length > SLACK_CONTEXT_ELEMENTS) fail('SLACK_CONTEXT_ELEMENTS', `${where} has ${block.elements.length} elements`);
        for (const e of block.elements) checkText(e, SLACK_SECTION_TEXT, 'SLACK_SECTION_TEXT', where);
        break;
      case 'actions': {
        if (block.elements.length === 0 || block.elements.length > SLACK_ACTIONS_ELEMENTS) fail('SLACK_ACTIONS_ELEMENTS', `${where} has ${block.elements.length} elements`);
        const ids = new Set<string>();
        for (const b of block.elements) {
          checkText(b.text, SLACK_BUTTON_TEXT, 'SLACK_BUTTON_TEXT', where);
          if (b.action_id === '' || b.action_id.length > SLACK_ACTION_ID) fail('SLACK_ACTION_ID', `${where} action_id has ${b.action_id.length} characters`);
          if (ids.has(b.action_id)) fail('SLACK_ACTION_ID', `${where} repeats action_id ${b.action_id}`);
          ids.add(b.action_id);
          if (b.value.length > SLACK_BUTTON_VALUE) fail('SLACK_BUTTON_VALUE', `${where} value has ${b.value.length} characters`);
        }
        break;
      }
    }
  });
}
