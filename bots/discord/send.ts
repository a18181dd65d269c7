/**
 * Discord's send side, through discord.js REST (`@discordjs/rest`, which owns Discord's rate-limit
 * buckets from the `X-RateLimit-*` headers):
 * - `DiscordSender` (fan-out): renders the neutral reply as embeds + buttons with
 *   `allowed_mentions: {parse: []}` and posts it to the channel. An entity's later changes are
 *   posted as replies to its first message (`message_reference`), which keeps them attached to it
 *   without needing the Create Public Threads permission; `threadRoot` is the posted message id.
 * - `DiscordInteractionResponder`: the answer to an interaction after a deferred acknowledgement
 *   (`PATCH /webhooks/{application}/{token}/messages/@original`).
 *
 * Retries: the delivery pipeline owns them. The fan-out client has `retries: 0` (no second try
 * of 5xx/aborts inside REST) and `rejectOnRateLimit` for every route, so a 429 — or a bucket that
 * REST already knows is empty — becomes a `RateLimitedError` at once, with Discord's wait, instead
 * of REST sleeping inside a job; the pipeline then holds the destination (or, for a global limit,
 * all of Discord) for that long. REST still tracks the buckets, so it never sends into a known
 * limit. Interaction answers have no queue behind them (the token lives 15 minutes), so their
 * client keeps REST's own waiting on 429 and one retry.
 * https://discord.com/developers/docs/topics/rate-limits
 */
import { createHash } from 'node:crypto';
import { DiscordAPIError, HTTPError, RateLimitError, REST, Routes } from 'discord.js';
import { AuthError, classifyHttpFailure, DestinationNotFoundError, NetworkError, RateLimitedError, RETRY_AFTER_DEFAULT_MS, ServerError, ValidationError } from '../../src/core/channel-errors.ts';
import { ChittyError } from '../../src/core/chitty-error.ts';
import type { Reply } from '../../src/core/reply.ts';
import type { ThreadStore } from '../../src/core/thread-store.ts';
import { ChatSender, type ChatPost, type ChatPosted } from '../shared/chat-sender.ts';
import type { DiscordRespond } from './parse.ts';
import { renderForDiscord } from './render.ts';

const CHANNEL = 'discord';

/** Discord JSON error codes we map specially. https://discord.com/developers/docs/topics/opcodes-and-status-codes#json */
export const DISCORD_ERROR = { UNKNOWN_CHANNEL: 10003, UNKNOWN_MESSAGE: 10008, UNKNOWN_WEBHOOK: 10015, UNKNOWN_INTERACTION: 10062, MISSING_ACCESS: 50001, INVALID_FORM_BODY: 50035 } as const;

/** `nonce` is at most 25 characters. https://discord.com/developers/docs/resources/message#create-message */
const NONCE_LENGTH = 25;

export interface DiscordRestOptions {
  botToken: string;
  /** Base URL override (tests, proxies), e.g. http://127.0.0.1:4001/api */
  apiUrl?: string | undefined;
  /** Request timeout (REST's default is 15 s). */
  timeoutMs?: number;
}

/** The REST client of the fan-out: no retries of its own, 429s rejected to the pipeline. */
export function fanoutRest(o: DiscordRestOptions): REST {
  return new REST({ version: '10', retries: 0, rejectOnRateLimit: () => true, timeout: o.timeoutMs ?? 15_000, ...(o.apiUrl ? { api: o.apiUrl } : {}) }).setToken(o.botToken);
}

/** The REST client of interaction answers and gateway replies: REST waits out a 429 itself. */
export function answerRest(o: DiscordRestOptions): REST {
  return new REST({ version: '10', retries: 1, timeout: o.timeoutMs ?? 15_000, ...(o.apiUrl ? { api: o.apiUrl } : {}) }).setToken(o.botToken);
}

/** Maps what discord.js REST throws onto the channel errors the pipeline decides on. */
export function toChannelError(err: unknown, method?: string, url?: string): ChittyError {
  if (err instanceof ChittyError) return err;
  if (err instanceof RateLimitError) {
    const retryAfterMs = err.retryAfter > 0 ? err.retryAfter : err.timeToReset > 0 ? err.timeToReset : RETRY_AFTER_DEFAULT_MS;
    return new RateLimitedError(`discord: rate limited on ${err.route}${err.global ? ' (global)' : ''}, retry after ${retryAfterMs} ms`, CHANNEL, retryAfterMs, {
      cause: err,
      status: 429,
      method: err.method.toUpperCase(),
      url: err.url,
      scope: err.global ? 'platform' : 'destination',
    });
  }
  if (err instanceof DiscordAPIError) {
    const opts = { cause: err, status: err.status, method: err.method.toUpperCase(), url: err.url };
    const code = typeof err.code === 'number' ? err.code : Number(err.code);
    const what = `discord: ${err.message} (HTTP ${err.status}, code ${err.code}, ${opts.method} ${new URL(err.url).pathname})`;
    if (code === DISCORD_ERROR.UNKNOWN_CHANNEL || code === DISCORD_ERROR.MISSING_ACCESS || code === DISCORD_ERROR.UNKNOWN_WEBHOOK) return new DestinationNotFoundError(what, CHANNEL, opts);
    if (code === DISCORD_ERROR.INVALID_FORM_BODY) return new ValidationError(what, CHANNEL, opts);
    if (err.status === 401 || err.status === 403) return new AuthError(what, CHANNEL, opts);
    if (err.status === 404) return new DestinationNotFoundError(what, CHANNEL, opts);
    if (err.status === 429) return new RateLimitedError(what, CHANNEL, RETRY_AFTER_DEFAULT_MS, { ...opts, scope: 'destination' });
    if (err.status >= 500) return new ServerError(what, CHANNEL, opts);
    return classifyHttpFailure(CHANNEL, { status: err.status, method: opts.method, url: err.url, bodyText: err.message });
  }
  if (err instanceof HTTPError) {
    if (err.status >= 500) return new ServerError(`discord: ${err.message} (HTTP ${err.status})`, CHANNEL, { cause: err, status: err.status, method: err.method.toUpperCase(), url: err.url });
    return classifyHttpFailure(CHANNEL, { status: err.status, method: err.method.toUpperCase(), url: err.url, bodyText: err.message });
  }
  // After a 401 REST drops the bot token, and refuses every later call with this plain Error.
  if (err instanceof Error && /Expected token to be set/.test(err.message)) {
    return new AuthError('discord: the bot token was rejected (HTTP 401 earlier); set a valid DISCORD_BOT_TOKEN and restart', CHANNEL, {
      cause: err,
      ...(method ? { method } : {}),
      ...(url ? { url } : {}),
    });
  }
  // fetch/undici failures (refused, reset, DNS) and REST's own timeout (AbortError).
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  const opts = { cause: err, ...(method ? { method } : {}), ...(url ? { url } : {}) };
  return new NetworkError(`discord: ${e.name === 'AbortError' ? 'request timed out' : (e.cause?.code ?? e.code ?? e.message ?? 'network failure')}`, CHANNEL, opts);
}

/** A stable nonce per delivery: Discord drops a second create with the same nonce (`enforce_nonce`). */
export function nonceOf(batchId: string): string {
  return createHash('sha256').update(batchId).digest('base64url').slice(0, NONCE_LENGTH);
}

/** Fan-out to Discord channels. */
export class DiscordSender extends ChatSender {
  constructor(
    private readonly rest: REST,
    threads: ThreadStore | undefined,
  ) {
    super(CHANNEL, threads);
  }

  protected async post(p: ChatPost): Promise<ChatPosted> {
    const payload = renderForDiscord(p.reply);
    const body = {
      ...payload,
      nonce: nonceOf(p.batchId),
      enforce_nonce: true,
      ...(p.thread ? { message_reference: { message_id: p.thread, fail_if_not_exists: false } } : {}),
    };
    const route = Routes.channelMessages(p.address);
    try {
      const msg = (await this.rest.post(route, { body })) as { id?: unknown };
      const id = typeof msg?.id === 'string' ? msg.id : null;
      return { providerMessageId: id, ...(id ? { threadRoot: id } : {}) };
    } catch (err) {
      throw toChannelError(err, 'POST', route);
    }
  }
}

/** Sends the answer to an interaction after its deferred acknowledgement, and replies to messages. */
export class DiscordInteractionResponder {
  constructor(private readonly rest: REST) {}

  /** Edits the deferred response (a slash command's "thinking…", or the message a button is on). */
  async answer(respond: DiscordRespond, reply: Reply, page = 1): Promise<void> {
    const route = Routes.webhookMessage(respond.applicationId, respond.token, '@original');
    try {
      await this.rest.patch(route, { body: renderForDiscord(reply, page), auth: false });
    } catch (err) {
      throw toChannelError(err, 'PATCH', route);
    }
  }

  /** Answers a gateway message in its channel, as a reply to it. */
  async replyTo(channelId: string, messageId: string, reply: Reply, page = 1): Promise<string | null> {
    const route = Routes.channelMessages(channelId);
    try {
      const body = { ...renderForDiscord(reply, page), message_reference: { message_id: messageId, fail_if_not_exists: false } };
      const msg = (await this.rest.post(route, { body })) as { id?: unknown };
      return typeof msg?.id === 'string' ? msg.id : null;
    } catch (err) {
      throw toChannelError(err, 'POST', route);
    }
  }
}
