/**
 * The channel-neutral inbound message every adapter produces, and the channel identity keys
 * (`<channel>:<id>`) used for people, pairing and CHITTY_ALLOWLIST.
 */
import { z } from 'zod';

export const CHANNELS = ['slack', 'discord', 'sms', 'whatsapp', 'email', 'web', 'cli', 'api'] as const;
export type Channel = (typeof CHANNELS)[number];

/** What one channel identity looks like, per channel (documented in the README). */
const IDENTITY_ID: Record<Channel, RegExp> = {
  slack: /^[A-Z0-9]{1,20}:[A-Z0-9]{1,20}$/i, // <team>:<user>
  discord: /^\d{5,25}$/, // snowflake
  sms: /^\+[1-9]\d{6,14}$/, // E.164
  whatsapp: /^\+[1-9]\d{6,14}$/,
  email: /^[^\s@<>,;:"]{1,64}@[^\s@<>,;:"]{1,255}$/,
  web: /^[A-Za-z0-9_.@-]{1,100}$/,
  cli: /^[A-Za-z0-9_.@-]{1,100}$/,
  api: /^[A-Za-z0-9_.@-]{1,100}$/,
};

export const IDENTITY_FORMS: Record<Channel, string> = {
  slack: 'slack:<team id>:<user id>',
  discord: 'discord:<user id>',
  sms: 'sms:<E.164 number, e.g. +15551234567>',
  whatsapp: 'whatsapp:<E.164 number>',
  email: 'email:<address>',
  web: 'web:<name>',
  cli: 'cli:<name>',
  api: 'api:<name>',
};

/** Parse `<channel>:<id>` into a canonical identity key (emails lower-cased), or explain why not. */
export function parseIdentityKey(raw: string): { ok: true; key: string; channel: Channel; id: string } | { ok: false; error: string } {
  const i = raw.indexOf(':');
  const channel = raw.slice(0, i).trim().toLowerCase() as Channel;
  let id = raw.slice(i + 1).trim();
  if (i < 1 || !CHANNELS.includes(channel)) return { ok: false, error: `"${raw.slice(0, 80)}" is not <channel>:<id> with channel one of ${CHANNELS.join(', ')}.` };
  if (channel === 'email') id = id.toLowerCase();
  if (channel === 'slack') id = id.toUpperCase();
  if (!IDENTITY_ID[channel].test(id)) return { ok: false, error: `"${raw.slice(0, 80)}" is not a ${channel} identity; write it as ${IDENTITY_FORMS[channel]}.` };
  return { ok: true, key: `${channel}:${id}`, channel, id };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A platform's text as Postgres can store it: NUL characters and lone UTF-16 surrogates become
 * U+FFFD. A platform cannot be told "400" about what a person typed, and refusing to record it
 * would make the platform re-deliver it for ever.
 */
export function storableText(s: string): string {
  return s.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
}

/** A string field of an inbound message, scrubbed with {@link storableText}. */
const text = (min: number, max: number) => z.string().min(min).max(max).transform(storableText);

export const InboundMessageSchema = z.object({
  channel: z.enum(CHANNELS),
  /** The conversation: Slack channel id, Discord channel id, phone number pair, email thread root… */
  address: text(1, 300),
  /** Thread within the conversation, when the channel has threads. */
  thread: text(0, 300).optional(),
  /** The sender's channel identity key, `<channel>:<id>`. */
  sender: text(3, 300),
  senderName: text(0, 200).optional(),
  text: text(0, 20_000),
  /**
   * The answer is seen by the sender alone (a Slack slash command's or Discord interaction's
   * ephemeral reply): the conversation — its last list for `done 2`, `more`, `project use`, its
   * order — is the sender's own within the address, so two people in one channel never act on
   * each other's lists. Subscriptions still follow the address and thread.
   */
  privateAnswer: z.boolean().optional(),
  /** Set when a button was pressed; the action's command is in `text`. */
  actionId: text(0, 255).optional(),
  /** The provider's own id of this message (Slack event id / ts, MessageSid, Message-ID…). */
  providerMessageId: text(1, 500),
  receivedAt: z.date(),
});

/** One message from a person, whatever channel it came through. */
export type InboundMessage = z.infer<typeof InboundMessageSchema>;

/** What ends the key of a conversation whose answers are private to one sender. */
export const PRIVATE_MARK = '|@';

/** The key one conversation's state and ordering hang on. */
export function conversationKey(m: Pick<InboundMessage, 'channel' | 'address' | 'thread' | 'sender' | 'privateAnswer'>): string {
  return `${m.channel}|${m.address}${m.thread ? `|${m.thread}` : ''}${m.privateAnswer ? `${PRIVATE_MARK}${m.sender}` : ''}`;
}
