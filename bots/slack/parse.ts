/**
 * Slack payloads → the core's `InboundMessage`, an ignore with a reason, or a protocol answer.
 * One URL (`POST /slack/events`) carries three shapes
 * ({@link https://api.slack.com/interactivity/handling}, {@link https://api.slack.com/apis/events-api}):
 * - slash commands: form-encoded (`command`, `text`, `response_url`, `trigger_id`, …);
 * - Events API: JSON (`url_verification` → its challenge; `event_callback` → app_mention, message);
 * - interactivity: form-encoded `payload=<JSON>` (block_actions, view_submission, …).
 * `ssl_check=1` is answered before anything else in the body is looked at.
 *
 * Traps from real payloads (../shared/corpus/README.md): one @-mention arrives twice (`message`
 * and `app_mention`, same `ts`, different `event_id`), so a message's id is `<channel>:<ts>` and
 * the core runs it once; the bot's own posts come back with `bot_id`; edits are `message_changed`
 * with no `event.user`; retries repeat the event with `X-Slack-Retry-Num` (same id, run once); a
 * click on an ephemeral message has no `message` key (use `container`).
 */
import type { InboundRequest, Parsed } from '../../src/core/channel-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound.ts';

/** Slash commands that run as `<name> <text>`; `/chitty` runs its text as is. */
export const SLACK_COMMANDS = ['todo', 'sync', 'project', 'topic', 'session', 'subscribe'] as const;
/** The catch-all slash command: `/chitty todo list` = `todo list`. */
export const SLACK_CATCH_ALL = 'chitty';

/** How the answer to one Slack request goes back. */
export type SlackRespond =
  /** Slash command: inline ephemeral answer, else POST to `response_url`. */
  | { kind: 'command'; teamId: string; responseUrl: string | undefined }
  /** app_mention / DM: always `chat.postMessage` into the same conversation and thread. */
  | { kind: 'event'; teamId: string; channel: string; threadTs: string | undefined }
  /** Button: replace the message it is on (`response_url`, else `chat.update`). */
  | { kind: 'action'; teamId: string; channel: string | undefined; messageTs: string | undefined; responseUrl: string | undefined };

export interface SlackParseOptions {
  /** Our bot user id in a team (from `auth.test` or the installation), for own-echo detection. */
  botUserId(teamId: string): string | undefined;
  /** Our bot id (`B…`) in a team, when known. */
  botId?(teamId: string): string | undefined;
  /** Multi-workspace: addresses are `<team id>:<channel id>` so a send can pick the team's token. */
  teamInAddress?: boolean;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const ignore = (reason: 'own_echo' | 'bot_message' | 'edit' | 'duplicate_event' | 'unsupported' | 'empty', detail: string): Parsed<SlackRespond> => ({ kind: 'ignore', reason, detail });
const empty200: Parsed<SlackRespond> = { kind: 'protocol', answer: { status: 200, contentType: 'text/plain', body: '' } };

function bad(message: string): never {
  throw new Error(`Slack request: ${message}`);
}

/** `<@U123>` / `<@U123|name>` at the start of a text, once. */
const LEADING_MENTION = /^\s*<@([A-Z0-9]+)(?:\|[^>]*)?>[\s:,]*/i;

/** The text of a mention or DM without the leading `<@BOT>`; a bare mention asks for help. */
export function commandText(text: string, botUserId: string | undefined): string {
  let t = text;
  const m = LEADING_MENTION.exec(t);
  if (m && (botUserId === undefined || m[1]?.toUpperCase() === botUserId.toUpperCase())) t = t.slice(m[0].length);
  t = unescapeSlack(t).trim();
  return t === '' ? 'help' : t;
}

/** Slack escapes `&`, `<`, `>` in message text. */
function unescapeSlack(t: string): string {
  return t.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

function address(teamId: string, channel: string, opts: SlackParseOptions): string {
  return opts.teamInAddress ? `${teamId}:${channel}` : channel;
}

function isForm(req: InboundRequest): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** Parse one request to `/slack/events` (already verified). Throws (→ 400) on a body we cannot read. */
export function parseSlackRequest(req: InboundRequest, opts: SlackParseOptions): Parsed<SlackRespond> {
  const raw = req.rawBody.toString('utf8');
  if (isForm(req)) {
    const form = new URLSearchParams(raw);
    if (form.get('ssl_check') === '1') return empty200; // Slack's TLS probe; anything else in it is dropped
    const payload = form.get('payload');
    if (payload !== null) {
      let p: unknown;
      try {
        p = JSON.parse(payload);
      } catch {
        bad('payload= is not JSON');
      }
      return parseInteraction(obj(p) ?? bad('payload= is not a JSON object'), req, opts);
    }
    if (form.has('command')) return parseSlashCommand(form, req, opts);
    bad('a form body that is neither a slash command nor an interaction payload');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    bad('body is neither form-encoded nor JSON');
  }
  const b = obj(body) ?? bad('JSON body is not an object');
  if (b.type === 'url_verification') {
    const challenge = str(b.challenge) ?? bad('url_verification without a challenge');
    return { kind: 'protocol', answer: { status: 200, contentType: 'application/json', body: JSON.stringify({ challenge }) } };
  }
  if (b.type === 'event_callback') return parseEvent(b, req, opts);
  return ignore('unsupported', `Events API type ${String(b.type)}`);
}

function parseSlashCommand(form: URLSearchParams, req: InboundRequest, opts: SlackParseOptions): Parsed<SlackRespond> {
  const command = (form.get('command') ?? '').replace(/^\//, '').toLowerCase();
  const text = (form.get('text') ?? '').trim();
  const teamId = str(form.get('team_id')) ?? bad('slash command without team_id');
  const userId = str(form.get('user_id')) ?? bad('slash command without user_id');
  const channel = str(form.get('channel_id')) ?? bad('slash command without channel_id');
  const responseUrl = str(form.get('response_url'));
  let line: string;
  if (command === SLACK_CATCH_ALL) line = text === '' ? 'help' : text;
  else if ((SLACK_COMMANDS as readonly string[]).includes(command)) line = `${command} ${text}`.trim();
  else {
    // Slack only sends commands the app registered: this one is set up in Slack but not here.
    return {
      kind: 'protocol',
      answer: { status: 200, contentType: 'application/json', body: JSON.stringify({ response_type: 'ephemeral', text: `/${command} is not a ChittyChat command. Try /chitty help.` }) },
    };
  }
  // Slack does not re-send slash commands; trigger_id is unique per invocation.
  const triggerId = str(form.get('trigger_id')) ?? `${teamId}:${userId}:${req.headers['x-slack-request-timestamp'] ?? req.receivedAt.getTime()}`;
  const message: InboundMessage = {
    channel: 'slack',
    address: address(teamId, channel, opts),
    sender: `slack:${teamId}:${userId}`,
    text: line,
    // Answered ephemerally: the list it shows is this person's, not the channel's.
    privateAnswer: true,
    providerMessageId: `command:${triggerId}`,
    receivedAt: req.receivedAt,
    ...(str(form.get('user_name')) ? { senderName: form.get('user_name')! } : {}),
  };
  return { kind: 'message', message, respond: { kind: 'command', teamId, responseUrl } };
}

function parseEvent(b: Json, req: InboundRequest, opts: SlackParseOptions): Parsed<SlackRespond> {
  const event = obj(b.event) ?? bad('event_callback without an event');
  const teamId = str(b.team_id) ?? str(event.team) ?? bad('event_callback without team_id');
  const type = str(event.type);
  const authorizations = Array.isArray(b.authorizations) ? (b.authorizations as unknown[]).map(obj) : [];
  const botUserId = opts.botUserId(teamId) ?? str(authorizations.find((a) => a?.is_bot === true)?.user_id);
  const botId = opts.botId?.(teamId);
  if (type !== 'message' && type !== 'app_mention') return ignore('unsupported', `event ${String(type)}`);

  const subtype = str(event.subtype);
  if (subtype === 'message_changed') return ignore('edit', 'message_changed');
  const user = str(event.user);
  const eventBot = str(event.bot_id);
  if ((botUserId !== undefined && user === botUserId) || (eventBot !== undefined && (botId === undefined || eventBot === botId))) {
    return ignore('own_echo', `our own post (${eventBot ?? user})`);
  }
  if (eventBot !== undefined || subtype === 'bot_message') return ignore('bot_message', `bot ${eventBot ?? 'message'}`);
  if (subtype !== undefined && subtype !== 'thread_broadcast' && subtype !== 'file_share') return ignore('unsupported', `message subtype ${subtype}`);
  if (!user) return ignore('unsupported', 'event without a user');

  const channel = str(event.channel) ?? bad('event without a channel');
  const ts = str(event.ts) ?? bad('event without ts');
  const text = typeof event.text === 'string' ? event.text : '';
  if (type === 'message' && event.channel_type !== 'im') {
    // A channel message reaches us only when it mentions the bot (it also comes as app_mention,
    // same channel and ts: the core runs it once). Anything else in the channel is not for us.
    const mention = botUserId !== undefined && text.includes(`<@${botUserId}`);
    if (!mention) return ignore('unsupported', 'channel message that does not mention the bot');
  }
  const threadTs = str(event.thread_ts);
  const message: InboundMessage = {
    channel: 'slack',
    address: address(teamId, channel, opts),
    ...(threadTs ? { thread: threadTs } : {}),
    sender: `slack:${str(event.user_team) ?? teamId}:${user}`,
    text: commandText(text, botUserId),
    providerMessageId: `${channel}:${ts}`,
    receivedAt: req.receivedAt,
  };
  return { kind: 'message', message, respond: { kind: 'event', teamId, channel, threadTs } };
}

function parseInteraction(p: Json, req: InboundRequest, opts: SlackParseOptions): Parsed<SlackRespond> {
  if (p.type !== 'block_actions') return ignore('unsupported', `interaction ${String(p.type)}`);
  const user = obj(p.user) ?? bad('block_actions without a user');
  const teamId = str(obj(p.team)?.id) ?? str(user.team_id) ?? bad('block_actions without a team');
  const userId = str(user.id) ?? bad('block_actions without user.id');
  const action = obj(Array.isArray(p.actions) ? p.actions[0] : undefined) ?? bad('block_actions without actions');
  const command = str(action.value) ?? str(obj(action.selected_option)?.value);
  if (!command) return ignore('unsupported', `action ${String(action.action_id)} carries no command`);
  const container = obj(p.container) ?? {};
  const message = obj(p.message); // absent on ephemeral messages
  const channel = str(obj(p.channel)?.id) ?? str(container.channel_id);
  const messageTs = str(message?.ts) ?? str(container.message_ts);
  const threadTs = str(message?.thread_ts) ?? str(container.thread_ts);
  if (!channel) bad('block_actions without a channel');
  const id = str(p.trigger_id) ?? `${channel}:${messageTs}:${str(action.action_ts) ?? req.receivedAt.getTime()}`;
  const inbound: InboundMessage = {
    channel: 'slack',
    address: address(teamId, channel, opts),
    ...(threadTs ? { thread: threadTs } : {}),
    sender: `slack:${teamId}:${userId}`,
    text: command,
    ...(str(action.action_id) ? { actionId: String(action.action_id).slice(0, 255) } : {}),
    // A button on an ephemeral answer (e.g. More under a slash command's list) continues that person's conversation.
    ...(container.is_ephemeral === true || !message ? { privateAnswer: true } : {}),
    providerMessageId: `action:${id}`,
    receivedAt: req.receivedAt,
  };
  return { kind: 'message', message: inbound, respond: { kind: 'action', teamId, channel, messageTs, responseUrl: str(p.response_url) } };
}
