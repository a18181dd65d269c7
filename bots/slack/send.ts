/**
 * Slack's fan-out side: a rendered reply posted with `chat.postMessage` (Block Kit + fallback
 * text), an entity's later changes in the thread of its first message (`thread_ts`; the root is
 * the posted `ts`). The WebClient never retries (`retries: 0`, `rejectRateLimitedCalls`): the
 * delivery pipeline owns retries and Retry-After, so the two never fight. Slack's errors are
 * mapped onto `src/core/channel-errors.ts`.
 * {@link https://api.slack.com/methods/chat.postMessage}
 */
import { type ChatPostMessageArguments, type ChatUpdateArguments, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError, WebClient } from '@slack/web-api';
import { AuthError, type ChannelError, classifyHttpFailure, DestinationNotFoundError, NetworkError, RateLimitedError, ServerError, ValidationError } from '../../src/core/channel-errors.ts';
import type { ThreadStore } from '../../src/core/thread-store.ts';
import { renderSlack, type SlackPayload } from '../../renderers/slack.ts';
import { type ChatPost, type ChatPosted, ChatSender } from '../shared/chat-sender.ts';

/** Platform `error` strings that mean the token is no good. */
const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'no_permission', 'missing_scope', 'org_login_required', 'ekm_access_denied']);
/** …that mean the conversation is gone or closed to us. */
const NOT_FOUND_ERRORS = new Set(['channel_not_found', 'is_archived', 'not_in_channel', 'thread_not_found', 'message_not_found', 'cant_update_message']);
/** …that mean the payload itself is refused. */
const VALIDATION_ERRORS = new Set(['msg_blocks_too_long', 'invalid_blocks', 'invalid_blocks_format', 'msg_too_long', 'no_text', 'too_many_attachments', 'invalid_arguments', 'invalid_arg_name']);
/** …that are Slack's own trouble. */
const SERVER_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

/** WebClient options that leave retries to the pipeline. */
export function slackClientOptions(apiUrl: string | undefined): ConstructorParameters<typeof WebClient>[1] {
  return {
    ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
  };
}

/** Maps whatever the WebClient threw onto a ChannelError (rule 6). */
export function mapSlackError(err: unknown, method: string): ChannelError {
  const opts = { cause: err, method };
  if (err instanceof WebAPIRateLimitedError) {
    const ms = Math.max(0, Math.ceil(err.retryAfter * 1000));
    return new RateLimitedError(`slack: ${method} rate limited, retry after ${ms} ms`, 'slack', ms, { ...opts, status: 429 });
  }
  if (err instanceof WebAPIPlatformError) {
    const code = err.data.error;
    const msg = `slack: ${method} failed: ${code}`;
    if (AUTH_ERRORS.has(code)) return new AuthError(msg, 'slack', opts);
    if (NOT_FOUND_ERRORS.has(code)) return new DestinationNotFoundError(msg, 'slack', opts);
    if (SERVER_ERRORS.has(code)) return new ServerError(msg, 'slack', opts);
    if (VALIDATION_ERRORS.has(code)) return new ValidationError(msg, 'slack', opts);
    return new ValidationError(msg, 'slack', opts);
  }
  if (err instanceof WebAPIHTTPError) {
    return classifyHttpFailure('slack', { status: err.statusCode, headers: err.headers, method, bodyText: typeof err.body === 'string' ? err.body : JSON.stringify(err.body ?? '') });
  }
  if (err instanceof WebAPIRequestError) return new NetworkError(`slack: ${method} request failed: ${err.original.message}`, 'slack', opts);
  return new NetworkError(`slack: ${method} failed: ${(err as Error)?.message ?? String(err)}`, 'slack', opts);
}

/** Finds the bot token for a team (single workspace: the one token). */
export type SlackTokenSource = (teamId: string | undefined) => Promise<string>;

/** WebClients per token (each keeps its own keep-alive agent). */
export class SlackClients {
  private readonly clients = new Map<string, WebClient>();
  constructor(private readonly apiUrl: string | undefined) {}

  get(token: string): WebClient {
    let c = this.clients.get(token);
    if (!c) {
      c = new WebClient(token, slackClientOptions(this.apiUrl));
      this.clients.set(token, c);
    }
    return c;
  }
}

/** `T123:C456` (multi-workspace) or `C456`. */
export function splitAddress(address: string): { teamId: string | undefined; channel: string } {
  const i = address.indexOf(':');
  return i < 0 ? { teamId: undefined, channel: address } : { teamId: address.slice(0, i), channel: address.slice(i + 1) };
}

/** Posts and updates messages; shared by fan-out and the answers to mentions and buttons. */
export class SlackPoster {
  constructor(
    private readonly clients: SlackClients,
    private readonly token: SlackTokenSource,
  ) {}

  async post(teamId: string | undefined, channel: string, threadTs: string | undefined, payload: SlackPayload): Promise<string> {
    const client = this.clients.get(await this.token(teamId));
    const args: ChatPostMessageArguments = { channel, text: payload.text, blocks: payload.blocks, unfurl_links: false, unfurl_media: false, ...(threadTs ? { thread_ts: threadTs } : {}) };
    try {
      const r = await client.chat.postMessage(args);
      if (!r.ts) throw new ValidationError('slack: chat.postMessage answered ok without a ts', 'slack', { method: 'chat.postMessage' });
      return r.ts;
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      throw mapSlackError(err, 'chat.postMessage');
    }
  }

  async update(teamId: string | undefined, channel: string, ts: string, payload: SlackPayload): Promise<void> {
    const client = this.clients.get(await this.token(teamId));
    const args: ChatUpdateArguments = { channel, ts, text: payload.text, blocks: payload.blocks };
    try {
      await client.chat.update(args);
    } catch (err) {
      throw mapSlackError(err, 'chat.update');
    }
  }
}

/** The DeliverySender for Slack destinations. */
export class SlackSender extends ChatSender {
  constructor(
    private readonly poster: SlackPoster,
    threads: ThreadStore | undefined,
  ) {
    super('slack', threads);
  }

  protected async post(p: ChatPost): Promise<ChatPosted> {
    let payload: SlackPayload;
    try {
      payload = renderSlack(p.reply, { threadKey: p.threadKey });
    } catch (err) {
      throw new ValidationError(`slack: the reply does not fit Block Kit: ${(err as Error).message}`, 'slack', { cause: err });
    }
    const { teamId, channel } = splitAddress(p.address);
    const ts = await this.poster.post(teamId, channel, p.thread, payload);
    return { providerMessageId: ts, threadRoot: p.thread ?? ts };
  }
}
