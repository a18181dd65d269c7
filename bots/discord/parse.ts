/**
 * Discord interaction payload → the core's `InboundMessage`, an ignore, or a protocol answer.
 * Facts from real payloads (../shared/corpus/README.md, Discord): guild interactions carry
 * `member.user`, DMs a top-level `user`; `options` is absent, not `[]`; snowflakes are strings
 * above 2^53 and stay strings here; a thread's `channel_id` is the thread itself.
 * https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object
 */
import type { IgnoreReason, InboundRequest, Parsed, ProtocolAnswer } from '../../src/core/channel-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound.ts';
import { autocompleteChoices, interactionText, type InteractionOption } from './commands.ts';
import { commandForCustomId, EPHEMERAL } from './render.ts';

/** Interaction types. */
export const INTERACTION = { PING: 1, APPLICATION_COMMAND: 2, MESSAGE_COMPONENT: 3, AUTOCOMPLETE: 4, MODAL_SUBMIT: 5 } as const;
/** Interaction response (callback) types. */
export const CALLBACK = { PONG: 1, CHANNEL_MESSAGE: 4, DEFERRED_CHANNEL_MESSAGE: 5, DEFERRED_UPDATE_MESSAGE: 6, UPDATE_MESSAGE: 7, AUTOCOMPLETE_RESULT: 8 } as const;
const CHAT_INPUT = 1;
const BUTTON = 2;

interface DiscordUser {
  id: string;
  username?: string;
  global_name?: string | null;
  bot?: boolean;
}

/** The parts of an interaction we read. */
export interface DiscordInteraction {
  id: string;
  application_id?: string;
  type: number;
  token?: string;
  channel_id?: string;
  channel?: { id?: string };
  guild_id?: string;
  user?: DiscordUser;
  member?: { user?: DiscordUser; nick?: string | null };
  data?: { name?: string; type?: number; options?: InteractionOption[]; custom_id?: string; component_type?: number };
  message?: { id?: string; flags?: number };
}

/** What answering an interaction later needs. */
export interface DiscordRespond {
  /** A slash command gets a new (ephemeral) message; a button updates the message it is on. */
  kind: 'command' | 'component';
  applicationId: string;
  token: string;
  interactionId: string;
}

export interface DiscordParseOptions {
  /** Our application id: follow-ups are sent to it, and a "user" with this id is ourselves. */
  applicationId: string;
}

export const json = (body: unknown, status = 200): ProtocolAnswer => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** An ephemeral note answered by the adapter itself (nothing recorded). */
const note = (text: string): Parsed<DiscordRespond> => ({
  kind: 'protocol',
  answer: json({ type: CALLBACK.CHANNEL_MESSAGE, data: { content: text, flags: EPHEMERAL, allowed_mentions: { parse: [] } } }),
});

const ignore = (reason: IgnoreReason, detail: string): Parsed<DiscordRespond> => ({ kind: 'ignore', reason, detail });

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Parses one verified request body; throws (→ 400) when it is not an interaction. */
export function parseInteraction(req: Pick<InboundRequest, 'rawBody' | 'receivedAt'>, opts: DiscordParseOptions): Parsed<DiscordRespond> {
  let body: unknown;
  try {
    body = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    throw new Error('body is not JSON');
  }
  if (typeof body !== 'object' || body === null || typeof (body as { type?: unknown }).type !== 'number') throw new Error('body is not a Discord interaction (no numeric type)');
  const i = body as DiscordInteraction;

  if (i.type === INTERACTION.PING) return { kind: 'protocol', answer: json({ type: CALLBACK.PONG }) };
  if (i.type === INTERACTION.AUTOCOMPLETE) {
    // Must be answered with type 8 at once; it runs nothing.
    const choices = i.data?.name ? autocompleteChoices(i.data.name, i.data.options) : [];
    return { kind: 'protocol', answer: json({ type: CALLBACK.AUTOCOMPLETE_RESULT, data: { choices } }) };
  }
  if (i.type !== INTERACTION.APPLICATION_COMMAND && i.type !== INTERACTION.MESSAGE_COMPONENT) return note('This kind of interaction is not supported here.');

  const user = i.member?.user ?? i.user;
  if (!user || !isId(user.id)) return note('Discord did not say who sent this, so it was not run.');
  if (user.bot === true || user.id === opts.applicationId) return ignore('own_echo', `interaction ${String(i.id)} from the bot itself`);
  const channelId = i.channel_id ?? i.channel?.id;
  if (!isId(channelId)) return note('Discord did not say which channel this came from, so it was not run.');
  if (!isId(i.id) || !isId(i.token)) throw new Error('interaction has no id or token');

  let text: string;
  let actionId: string | undefined;
  if (i.type === INTERACTION.APPLICATION_COMMAND) {
    if ((i.data?.type ?? CHAT_INPUT) !== CHAT_INPUT) return note('Only slash commands are supported; context-menu commands are not.');
    if (!isId(i.data?.name)) throw new Error('application command without a name');
    text = interactionText(i.data.name, i.data.options);
  } else {
    if (i.data?.component_type !== BUTTON || !isId(i.data.custom_id)) return note('Only buttons are supported.');
    actionId = i.data.custom_id;
    text = commandForCustomId(actionId);
  }

  const senderName = i.member?.nick ?? user.global_name ?? user.username;
  const message: InboundMessage = {
    channel: 'discord',
    address: channelId,
    sender: `discord:${user.id}`,
    ...(senderName ? { senderName: senderName.slice(0, 200) } : {}),
    text,
    ...(actionId ? { actionId: actionId.slice(0, 255) } : {}),
    // Slash commands are answered ephemerally, and so is a button on such an answer: that person's own conversation.
    ...(i.type === INTERACTION.APPLICATION_COMMAND || ((i.message?.flags ?? 0) & EPHEMERAL) !== 0 ? { privateAnswer: true } : {}),
    providerMessageId: i.id,
    receivedAt: req.receivedAt,
  };
  const respond: DiscordRespond = {
    kind: i.type === INTERACTION.MESSAGE_COMPONENT ? 'component' : 'command',
    applicationId: opts.applicationId,
    token: i.token,
    interactionId: i.id,
  };
  return { kind: 'message', message, respond };
}
