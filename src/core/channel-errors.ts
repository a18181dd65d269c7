/**
 * Typed errors every channel adapter throws when sending (STYLE.md rule 6): a base `ChannelError`
 * (under the root {@link ChittyError}) and a few subclasses whose `retryable` flag the queues turn
 * into a decision through `classifyError` (rule 8).
 * Transport errors carry `status`, `method` and `url`, like discord.js `DiscordAPIError`.
 */
import { ChittyError } from './chitty-error.ts';

/** Extra facts about a failed call to a platform. */
export interface ChannelErrorOptions {
  cause?: unknown;
  /** HTTP status of the failed response, when there was one. */
  status?: number;
  method?: string;
  url?: string;
}

/**
 * Base of every channel send error. `code` is a short stable string (`rate_limited`, `auth`, …);
 * not retryable unless `opts.retryable` says so (each subclass states it).
 */
export class ChannelError extends ChittyError {
  override name = 'ChannelError';
  readonly channel: string;
  readonly status: number | undefined;
  readonly method: string | undefined;
  readonly url: string | undefined;

  constructor(message: string, channel: string, code: string, opts: ChannelErrorOptions & { retryable?: boolean } = {}) {
    super(message, code, opts.cause === undefined ? { retryable: opts.retryable ?? false } : { retryable: opts.retryable ?? false, cause: opts.cause });
    this.channel = channel;
    this.status = opts.status;
    this.method = opts.method;
    this.url = opts.url;
  }
}

/** Who is limiting us: this one destination, or the platform as a whole (all destinations). */
export type RateLimitScope = 'destination' | 'platform';

/** 429 or an equivalent: wait `retryAfterMs`, then try again. */
export class RateLimitedError extends ChannelError {
  override name = 'RateLimitedError';
  readonly retryAfterMs: number;
  readonly scope: RateLimitScope;

  constructor(message: string, channel: string, retryAfterMs: number, opts: ChannelErrorOptions & { scope?: RateLimitScope } = {}) {
    super(message, channel, 'rate_limited', { ...opts, retryable: true });
    this.retryAfterMs = retryAfterMs;
    this.scope = opts.scope ?? 'destination';
  }

  /**
   * From a provider's answer: waits what its `Retry-After` header says (seconds or an HTTP date),
   * else RETRY_AFTER_DEFAULT_MS; `describe` gets the wait to say it in the message.
   */
  static fromHeaders(
    describe: (retryAfterMs: number) => string,
    channel: string,
    headers: HeadersLike | undefined,
    opts: ChannelErrorOptions & { scope?: RateLimitScope; nowMs?: number | undefined } = {},
  ): RateLimitedError {
    const { nowMs, ...rest } = opts;
    const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'), nowMs) ?? RETRY_AFTER_DEFAULT_MS;
    return new RateLimitedError(describe(retryAfterMs), channel, retryAfterMs, rest);
  }
}

/** 401/403 or a rejected credential: retrying will not help until someone fixes the config. */
export class AuthError extends ChannelError {
  override name = 'AuthError';
  constructor(message: string, channel: string, opts: ChannelErrorOptions = {}) {
    super(message, channel, 'auth', { ...opts, retryable: false });
  }
}

/** The payload or address is wrong (400, 413, 422, a bad URL…): permanent. */
export class ValidationError extends ChannelError {
  override name = 'ValidationError';
  constructor(message: string, channel: string, opts: ChannelErrorOptions = {}) {
    super(message, channel, 'validation', { ...opts, retryable: false });
  }
}

/** Connection refused/reset, DNS failure, timeout, 408: try again. */
export class NetworkError extends ChannelError {
  override name = 'NetworkError';
  constructor(message: string, channel: string, opts: ChannelErrorOptions = {}) {
    super(message, channel, 'network', { ...opts, retryable: true });
  }
}

/** The destination does not exist any more (404/410): permanent; the subscription is stale. */
export class DestinationNotFoundError extends ChannelError {
  override name = 'DestinationNotFoundError';
  constructor(message: string, channel: string, opts: ChannelErrorOptions = {}) {
    super(message, channel, 'not_found', { ...opts, retryable: false });
  }
}

/** 5xx from the platform: try again with backoff. */
export class ServerError extends ChannelError {
  override name = 'ServerError';
  constructor(message: string, channel: string, opts: ChannelErrorOptions = {}) {
    super(message, channel, 'server', { ...opts, retryable: true });
  }
}

/**
 * The channel cannot do this at all (edit a sent SMS, react on a webhook): permanent. Mirrors the
 * Chat SDK's `NotImplementedError` (its Twilio adapter throws it for edits and reactions).
 */
export class NotImplementedError extends ChannelError {
  override name = 'NotImplementedError';
  /** What was asked for: `edit`, `react`, `delete`, … */
  readonly feature: string;
  constructor(channel: string, feature: string, message = `${channel} cannot ${feature}`, opts: ChannelErrorOptions = {}) {
    super(message, channel, 'not_implemented', { ...opts, retryable: false });
    this.feature = feature;
  }
}

/**
 * The channel has no adapter configured in this process. Not retryable (backoff will not configure
 * it), but the dead letter is kept and can be replayed once the channel is set up.
 */
export class NotConfiguredError extends ChannelError {
  override name = 'NotConfiguredError';
  constructor(channel: string, message = `No ${channel} adapter is configured in this gateway, so nothing can be sent there; configure it, then replay the dead letters.`) {
    super(message, channel, 'not_configured', { retryable: false });
  }
}

/** Wait used for a 429 without a usable `Retry-After`. */
export const RETRY_AFTER_DEFAULT_MS = 1_000;
/** Longest wait we honour from `Retry-After` (15 min); longer asks are capped. */
export const RETRY_AFTER_MAX_MS = 15 * 60_000;
/** Characters of a response body quoted in an error message. */
export const BODY_EXCERPT_CHARS = 200;

/** Response headers as fetch gives them (`Headers`) or as node:http / a plain object does. */
export type HeadersLike = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

/** Reads one header case-insensitively from either header shape. */
export function headerValue(headers: HeadersLike | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === lower) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/**
 * Parses `Retry-After` (delay seconds, possibly fractional, or an HTTP-date) into milliseconds,
 * capped at {@link RETRY_AFTER_MAX_MS}; `undefined` when absent or unreadable.
 * https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */
export function parseRetryAfter(value: string | undefined | null, nowMs: number = Date.now()): number | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) {
    ms = Math.ceil(Number(v) * 1000);
  } else {
    if (!/[A-Za-z]{3}/.test(v)) return undefined; // an HTTP-date names its day and month
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - nowMs);
  }
  return Math.min(ms, RETRY_AFTER_MAX_MS);
}

/** Whitespace-collapsed first {@link BODY_EXCERPT_CHARS} characters of a response body. */
export function bodyExcerpt(bodyText: string | undefined): string {
  if (bodyText === undefined) return '';
  const s = bodyText.replace(/\s+/g, ' ').trim();
  return s.length <= BODY_EXCERPT_CHARS ? s : `${s.slice(0, BODY_EXCERPT_CHARS - 1)}…`;
}

/** A URL safe to print: no credentials, query or fragment (they often carry tokens). */
export function redactUrl(url: string | undefined): string {
  if (url === undefined) return '';
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/** What {@link classifyHttpFailure} needs to know about a non-2xx response. */
export interface HttpFailure {
  status: number;
  headers?: HeadersLike;
  method?: string;
  url?: string;
  bodyText?: string;
  /** Who a 429 limits (default `destination`). */
  rateLimitScope?: RateLimitScope;
  /** Clock for HTTP-date `Retry-After` (default `Date.now()`). */
  nowMs?: number;
}

/**
 * Maps a non-2xx HTTP response to the right {@link ChannelError}:
 * 429 → RateLimited (Retry-After honoured, default 1 s, capped at 15 min); 401/403 → Auth;
 * 404/410 → DestinationNotFound; 408 → Network; other 4xx → Validation; 5xx → Server;
 * 1xx/3xx (redirects are not followed) → Validation.
 */
export function classifyHttpFailure(channel: string, failure: HttpFailure): ChannelError {
  const { status } = failure;
  const opts: ChannelErrorOptions = { status };
  if (failure.method !== undefined) opts.method = failure.method;
  if (failure.url !== undefined) opts.url = failure.url;
  const where = [failure.method, redactUrl(failure.url)].filter((s) => s !== undefined && s !== '').join(' ');
  const excerpt = bodyExcerpt(failure.bodyText);
  const describe = (what: string) => `${channel}: ${what} (HTTP ${status}${where === '' ? '' : ` from ${where}`})${excerpt === '' ? '' : `: ${excerpt}`}`;

  if (status === 429) {
    return RateLimitedError.fromHeaders((ms) => describe(`rate limited, retry after ${ms} ms`), channel, failure.headers, {
      ...opts,
      scope: failure.rateLimitScope ?? 'destination',
      nowMs: failure.nowMs,
    });
  }
  if (status === 401 || status === 403) return new AuthError(describe('authentication rejected'), channel, opts);
  if (status === 404 || status === 410) return new DestinationNotFoundError(describe('destination not found'), channel, opts);
  if (status === 408) return new NetworkError(describe('request timed out'), channel, opts);
  if (status >= 500) return new ServerError(describe('server error'), channel, opts);
  if (status >= 400) return new ValidationError(describe('request rejected'), channel, opts);
  if (status >= 300 && status < 400) return new ValidationError(describe('redirect not followed; subscribe the final URL'), channel, opts);
  return new ValidationError(describe('unexpected response'), channel, opts);
}
