import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ChannelError,
  DestinationNotFoundError,
  NetworkError,
  RETRY_AFTER_DEFAULT_MS,
  RETRY_AFTER_MAX_MS,
  RateLimitedError,
  ServerError,
  ValidationError,
  classifyHttpFailure,
  parseRetryAfter,
} from './channel-errors.ts';

const base = { method: 'POST', url: 'https://user:pw@example.com/hooks/abc?token=SECRET#frag' };

describe('classifyHttpFailure', () => {
  it.each([
    [400, ValidationError, false],
    [401, AuthError, false],
    [403, AuthError, false],
    [404, DestinationNotFoundError, false],
    [408, NetworkError, true],
    [410, DestinationNotFoundError, false],
    [413, ValidationError, false],
    [422, ValidationError, false],
    [429, RateLimitedError, true],
    [500, ServerError, true],
    [502, ServerError, true],
    [503, ServerError, true],
    [504, ServerError, true],
    [302, ValidationError, false],
  ] as const)('%i → %o', (status, Cls, retryable) => {
    const err = classifyHttpFailure('webhook', { ...base, status });
    expect(err).toBeInstanceOf(Cls);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toBeInstanceOf(Error);
    expect(err.retryable).toBe(retryable);
    expect(err.status).toBe(status);
    expect(err.method).toBe('POST');
    expect(err.url).toBe(base.url);
    expect(err.channel).toBe('webhook');
    expect(err.name).toBe(Cls.name);
  });

  it('gives each class a stable code', () => {
    const code = (status: number) => classifyHttpFailure('x', { status }).code;
    expect([code(429), code(401), code(400), code(408), code(404), code(500)]).toEqual(['rate_limited', 'auth', 'validation', 'network', 'not_found', 'server']);
  });

  it('keeps tokens out of the message but quotes a short body excerpt', () => {
    const err = classifyHttpFailure('webhook', { ...base, status: 400, bodyText: `  {"error":\n  "bad field"}  ${'x'.repeat(500)}` });
    expect(err.message).toContain('HTTP 400');
    expect(err.message).toContain('POST https://example.com/hooks/abc');
    expect(err.message).not.toContain('SECRET');
    expect(err.message).not.toContain('pw');
    expect(err.message).toContain('{"error": "bad field"}');
    const excerpt = err.message.slice(err.message.indexOf('{"error"'));
    expect(excerpt.length).toBeLessThanOrEqual(200);
    expect(excerpt.endsWith('…')).toBe(true);
  });

  it('429 honours Retry-After in seconds, from Headers or a plain object', () => {
    const a = classifyHttpFailure('webhook', { status: 429, headers: new Headers({ 'Retry-After': '2' }) }) as RateLimitedError;
    expect(a.retryAfterMs).toBe(2000);
    expect(a.scope).toBe('destination');
    const b = classifyHttpFailure('webhook', { status: 429, headers: { 'retry-after': '0.5' }, rateLimitScope: 'platform' }) as RateLimitedError;
    expect(b.retryAfterMs).toBe(500);
    expect(b.scope).toBe('platform');
  });

  it('429 honours Retry-After as an HTTP-date', () => {
    const nowMs = Date.parse('2025-01-01T00:00:00Z');
    const err = classifyHttpFailure('webhook', { status: 429, headers: { 'Retry-After': 'Wed, 01 Jan 2025 00:00:30 GMT' }, nowMs }) as RateLimitedError;
    expect(err.retryAfterMs).toBe(30_000);
  });

  it('429 without a usable Retry-After waits the default; huge asks are capped at 15 min', () => {
    expect((classifyHttpFailure('w', { status: 429 }) as RateLimitedError).retryAfterMs).toBe(RETRY_AFTER_DEFAULT_MS);
    expect((classifyHttpFailure('w', { status: 429, headers: { 'Retry-After': 'soon' } }) as RateLimitedError).retryAfterMs).toBe(1000);
    expect((classifyHttpFailure('w', { status: 429, headers: { 'Retry-After': '86400' } }) as RateLimitedError).retryAfterMs).toBe(RETRY_AFTER_MAX_MS);
    expect(RETRY_AFTER_MAX_MS).toBe(900_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads seconds, dates, and nothing', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0); // in the past
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('ChannelError', () => {
  it('carries cause and transport facts', () => {
    const cause = new Error('socket hang up');
    const err = new NetworkError('webhook: failed', 'webhook', { cause, method: 'POST', url: 'http://x' });
    expect(err.cause).toBe(cause);
    expect(err.retryable).toBe(true);
    expect(err.status).toBeUndefined();
    expect(new ValidationError('bad', 'sms').retryable).toBe(false);
    expect(new RateLimitedError('slow', 'slack', 1500).retryAfterMs).toBe(1500);
  });
});
