/**
 * Discord renderer: embeds and button rows built with `@discordjs/builders` (whose setters
 * validate), user text markdown-escaped with mentions broken, `allowed_mentions.parse = []`.
 * Items fill the first embed's description, then further embeds; the 6000-character total and
 * 10 embeds per message are enforced, the rest announced as "…and N more — reply `more`".
 */
import { ActionRowBuilder, ButtonBuilder, EmbedBuilder, embedLength } from '@discordjs/builders';
import type { RenderContext, Reply, ReplyAction, ReplyItem, ReplyKind } from '../src/core/reply.ts';
import { RenderValidationError } from './errors.ts';
import { discordMarkdownTokens, discordPlainTokens } from './escape.ts';
import { clean, fitTokens, isBlank, oneLine } from './fit.ts';
import {
  DISCORD_BUTTON_LABEL,
  DISCORD_BUTTONS_PER_ROW,
  DISCORD_CONTENT,
  DISCORD_CUSTOM_ID,
  DISCORD_EMBED_DESCRIPTION,
  DISCORD_EMBED_FIELDS,
  DISCORD_EMBED_TITLE,
  DISCORD_EMBED_TOTAL,
  DISCORD_EMBEDS,
  DISCORD_FIELD_NAME,
  DISCORD_FIELD_VALUE,
  DISCORD_FOOTER,
  DISCORD_ROWS,
} from './limits.ts';
import { buttonLabel, itemsOf, KIND_LABEL, MORE_ACTION, moreMarker, type Page, renderPage, STATUS_EMOJI, uniqueButtonId } from './model.ts';

/** An embed as sent to the API (the type `EmbedBuilder#toJSON` returns). */
export type APIEmbed = ReturnType<EmbedBuilder['toJSON']>;
/** An action row of buttons as sent to the API. */
export type APIActionRowComponent = ReturnType<ActionRowBuilder<ButtonBuilder>['toJSON']>;
type ButtonStyle = Parameters<ButtonBuilder['setStyle']>[0];

/** A create-message body: never pings anyone (`allowed_mentions.parse` is empty). */
export interface DiscordPayload {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent[];
  allowed_mentions: { parse: [] };
}

/** Embed colour per reply kind. */
export const DISCORD_KIND_COLOR: Record<ReplyKind, number> = {
  ok: 0x2ecc71,
  info: 0x3498db,
  error: 0xe74c3c,
  usage: 0x95a5a6,
  update: 0xf1c40f,
};

// discord-api-types ButtonStyle values, without importing that package.
const STYLE = { primary: 1 as ButtonStyle, secondary: 2 as ButtonStyle, danger: 4 as ButtonStyle };
const MAX_BUTTONS = DISCORD_BUTTONS_PER_ROW * DISCORD_ROWS;
/** Room kept for the "…and N more" line in the last description and in the total. */
const MORE_RESERVE = 64;
/** Room kept for at least one item (its longest line) when the header parts are long. */
const ITEM_RESERVE = 900;
/** Room kept for the "…and N more fields" note. */
const NOTE_RESERVE = 40;
const FOOTER_MAX = 512;
const ITEM_TEXT = 600;
const ITEM_DETAIL = 200;
const BLANK = '\u200B';

const md = (text: string, max: number): string => fitTokens(discordMarkdownTokens(text), max);
const plain = (text: string, max: number): string => fitTokens(discordPlainTokens(text), max);

function itemLine(item: ReplyItem): string {
  const emoji = item.status === undefined ? '' : `${STATUS_EMOJI[item.status]} `;
  const ref = isBlank(item.ref) ? '' : `**${md(oneLine(item.ref), 40)}.** `;
  const detail = isBlank(item.detail) ? '' : ` — *${md(oneLine(item.detail), ITEM_DETAIL)}*`;
  return `${emoji}${ref}${md(oneLine(item.text), ITEM_TEXT)}${detail}`;
}

function rows(actions: readonly ReplyAction[]): APIActionRowComponent[] {
  const used = new Set<string>();
  const built: APIActionRowComponent[] = [];
  for (let i = 0; i < actions.length; i += DISCORD_BUTTONS_PER_ROW) {
    const row = new ActionRowBuilder<ButtonBuilder>();
    actions.slice(i, i + DISCORD_BUTTONS_PER_ROW).forEach((a, j) => {
      const id = uniqueButtonId(a, i + j + 1, DISCORD_CUSTOM_ID - 4, '~', used);
      const style = a.style === undefined ? STYLE.secondary : STYLE[a.style];
      row.addComponents(
        new ButtonBuilder()
          .setCustomId(id)
          .setLabel(plain(buttonLabel(a), DISCORD_BUTTON_LABEL))
          .setStyle(style),
      );
    });
    built.push(row.toJSON());
  }
  return built;
}

function build(reply: Reply, start: number): Page<DiscordPayload> {
  const items = itemsOf(reply);
  const first = new EmbedBuilder().setColor(DISCORD_KIND_COLOR[reply.kind]);
  let total = MORE_RESERVE;
  const hasItems = items.length > 0;

  if (!isBlank(reply.title)) {
    const title = md(oneLine(reply.title), DISCORD_EMBED_TITLE);
    first.setTitle(title);
    total += title.length;
  }
  if (!isBlank(reply.footer)) {
    const footer = plain(oneLine(reply.footer), Math.min(FOOTER_MAX, DISCORD_FOOTER));
    first.setFooter({ text: footer });
    total += footer.length;
  }
  let description = '';
  if (!isBlank(reply.text)) {
    const max = Math.min(DISCORD_EMBED_DESCRIPTION - MORE_RESERVE, DISCORD_EMBED_TOTAL - total - (hasItems ? ITEM_RESERVE : 0));
    description = md(clean(reply.text).trim(), max);
    total += description.length;
  }
  const fields = (reply.fields ?? []).slice(0, DISCORD_EMBED_FIELDS);
  let fieldsShown = 0;
  for (const f of fields) {
    const name = isBlank(f.label) ? BLANK : md(oneLine(f.label), DISCORD_FIELD_NAME);
    const value = isBlank(f.value) ? BLANK : md(clean(f.value).trim(), DISCORD_FIELD_VALUE);
    if (total + name.length + value.length > DISCORD_EMBED_TOTAL - (hasItems ? ITEM_RESERVE : 0) - NOTE_RESERVE) break;
    first.addFields({ name, value, inline: f.inline ?? false });
    total += name.length + value.length;
    fieldsShown++;
  }
  const fieldsLeft = (reply.fields ?? []).length - fieldsShown;
  if (fieldsLeft > 0) {
    const note = `${description === '' ? '' : '\n'}…and ${fieldsLeft} more fields`;
    description += note;
    total += note.length;
  }

  // Items: lines into the current description, then new embeds, within both budgets.
  const descriptions: string[] = [description];
  let index = start;
  for (; index < items.length; index++) {
    const line = itemLine(items[index] as ReplyItem);
    const cur = descriptions[descriptions.length - 1] ?? '';
    const add = cur === '' ? line.length : line.length + 1;
    if (total + add > DISCORD_EMBED_TOTAL) break;
    if (cur.length + add <= DISCORD_EMBED_DESCRIPTION - MORE_RESERVE) {
      descriptions[descriptions.length - 1] = cur === '' ? line : `${cur}\n${line}`;
      total += add;
    } else if (descriptions.length < DISCORD_EMBEDS) {
      descriptions.push(line);
      total += line.length;
    } else break;
  }
  const remaining = items.length - index;
  if (hasItems && start >= items.length) descriptions[descriptions.length - 1] = `${descriptions[descriptions.length - 1] ?? ''}\nNo more items.`.trim();
  if (remaining > 0) {
    const last = descriptions.length - 1;
    descriptions[last] = `${descriptions[last] ?? ''}\n${moreMarker(remaining, '`more`')}`.trim();
  }

  const firstDescription = descriptions[0] ?? '';
  if (firstDescription !== '') first.setDescription(firstDescription);
  else if (isBlank(reply.title) && fieldsShown === 0) first.setDescription(KIND_LABEL[reply.kind]);
  const embeds = [first.toJSON()];
  for (const d of descriptions.slice(1)) embeds.push(new EmbedBuilder().setColor(DISCORD_KIND_COLOR[reply.kind]).setDescription(d).toJSON());

  const userActions = (reply.actions ?? []).slice(0, remaining > 0 ? MAX_BUTTONS - 1 : MAX_BUTTONS);
  const components = rows(remaining > 0 ? [...userActions, MORE_ACTION] : userActions);
  return { payload: { content: '', embeds, components, allowed_mentions: { parse: [] } }, shown: index - start };
}

/** Renders a reply as a Discord message body; validated before it is returned. */
export function renderDiscord(reply: Reply, ctx?: RenderContext): DiscordPayload {
  try {
    const payload = renderPage(reply, ctx?.page, build);
    validateDiscord(payload);
    return payload;
  } catch (error) {
    if (error instanceof RenderValidationError) throw error;
    // The builders' own validation (setters, toJSON) refused something: same error type, cause kept.
    throw new RenderValidationError('discord', '@discordjs/builders', error instanceof Error ? error.message : String(error), { cause: error });
  }
}

function fail(limit: string, message: string): never {
  throw new RenderValidationError('discord', limit, message);
}

function checkLength(text: string | undefined, max: number, limit: string, where: string): void {
  if (text === undefined) return;
  if (text.trim() === '') fail(limit, `${where} is empty`);
  if (text.length > max) fail(limit, `${where} has ${text.length} characters, max ${max}`);
}

const RAW_MENTION = /@(everyone|here)|<@[!&]?\d+>|<#\d+>/;

/** Checks every message, embed and component limit; throws {@link RenderValidationError}. */
export function validateDiscord(payload: DiscordPayload): void {
  if (payload.allowed_mentions.parse.length !== 0) fail('allowed_mentions', 'allowed_mentions.parse must be empty');
  if (payload.content.length > DISCORD_CONTENT) fail('DISCORD_CONTENT', `content has ${payload.content.length} characters`);
  if (payload.embeds.length > DISCORD_EMBEDS) fail('DISCORD_EMBEDS', `${payload.embeds.length} embeds`);
  if (payload.embeds.length === 0 && payload.content === '' && payload.components.length === 0) fail('DISCORD_CONTENT', 'message is empty');
  let total = 0;
  payload.embeds.forEach((e, n) => {
    const where = `embed ${n}`;
    checkLength(e.title, DISCORD_EMBED_TITLE, 'DISCORD_EMBED_TITLE', `${where} title`);
    checkLength(e.description, DISCORD_EMBED_DESCRIPTION, 'DISCORD_EMBED_DESCRIPTION', `${where} description`);
    checkLength(e.footer?.text, DISCORD_FOOTER, 'DISCORD_FOOTER', `${where} footer`);
    const fields = e.fields ?? [];
    if (fields.length > DISCORD_EMBED_FIELDS) fail('DISCORD_EMBED_FIELDS', `${where} has ${fields.length} fields`);
    for (const f of fields) {
      checkLength(f.name, DISCORD_FIELD_NAME, 'DISCORD_FIELD_NAME', `${where} field name`);
      checkLength(f.value, DISCORD_FIELD_VALUE, 'DISCORD_FIELD_VALUE', `${where} field value`);
    }
    if (e.title === undefined && e.description === undefined && fields.length === 0) fail('DISCORD_EMBED_DESCRIPTION', `${where} is empty`);
    for (const text of [e.title, e.description, e.footer?.text, ...fields.flatMap((f) => [f.name, f.value])]) {
      if (text !== undefined && RAW_MENTION.test(text)) fail('allowed_mentions', `${where} contains raw mention syntax`);
    }
    total += embedLength(e);
  });
  if (total > DISCORD_EMBED_TOTAL) fail('DISCORD_EMBED_TOTAL', `embeds total ${total} characters`);
  if (payload.components.length > DISCORD_ROWS) fail('DISCORD_ROWS', `${payload.components.length} rows`);
  const ids = new Set<string>();
  payload.components.forEach((row, r) => {
    if (row.components.length === 0 || row.components.length > DISCORD_BUTTONS_PER_ROW) fail('DISCORD_BUTTONS_PER_ROW', `row ${r} has ${row.components.length} buttons`);
    for (const b of row.components) {
      if (!('custom_id' in b)) fail('DISCORD_CUSTOM_ID', `row ${r} has a button without custom_id`);
      if (b.custom_id === '' || b.custom_id.length > DISCORD_CUSTOM_ID) fail('DISCORD_CUSTOM_ID', `custom_id has ${b.custom_id.length} characters`);
      if (ids.has(b.custom_id)) fail('DISCORD_CUSTOM_ID', `custom_id ${b.custom_id} repeats`);
      ids.add(b.custom_id);
      checkLength('label' in b ? b.label : undefined, DISCORD_BUTTON_LABEL, 'DISCORD_BUTTON_LABEL', `row ${r} button label`);
    }
  });
}
