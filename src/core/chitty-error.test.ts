import { describe, expect, it } from 'vitest';
import { RenderValidationError } from '../../renderers/errors.ts';
import { ConfigError as ConfigErrorFromConfig } from '../config.ts';
import { ConflictStateError, HubError, InvalidChangeError, NotFoundError } from '../hub/errors.ts';
import { RedisUnavailableError } from '../redis/connect.ts';
import { AuthError, ChannelError, DestinationNotFoundError, NetworkError, NotConfiguredError, NotImplementedError, RateLimitedError, ServerError, ValidationError } from './channel-errors.ts';
import { ChittyError, ConfigError, classifyError } from './chitty-error.ts';

// Every error class we throw, with the decision the queues must make for it.
const cases: Array<[string, ChittyError, boolean, string]> = [
  ['ChannelError (base)', new ChannelError('x', 'slack', 'custom'), false, 'custom'],
  ['RateLimitedError', new RateLimitedError('x', 'slack', 1000), true, 'rate_limited'],
  ['AuthError', new AuthError('x', 'slack'), false, 'auth'],
  ['ValidationError', new ValidationError('x', 'slack'), false, 'validation'],
  ['NetworkError', new NetworkError('x', 'slack'), true, 'network'],
  ['DestinationNotFoundError', new DestinationNotFoundError('x', 'slack'), false, 'not_found'],
  ['ServerError', new ServerError('x', 'slack'), true, 'server'],
  ['NotImplementedError', new NotImplementedError('sms', 'edit'), false, 'not_implemented'],
  ['NotConfiguredError', new NotConfiguredError('discord'), false, 'not_configured'],
  ['RenderValidationError', new RenderValidationError('sms', 'SMS_SEGMENT', 'too long'), false, 'render_validation'],
  ['HubError', new HubError('x', 'invalid_change', 400), false, 'invalid_change'],
  ['NotFoundError', new NotFoundError('x'), false, 'not_found'],
  ['InvalidChangeError', new InvalidChangeError('x'), false, 'invalid_change'],
  ['ConflictStateError', new ConflictStateError('x'), false, 'conflict_state'],
  ['ConfigError', new ConfigError('set X'), false, 'config'],
  ['RedisUnavailableError', new RedisUnavailableError('start Redis'), true, 'redis_unavailable'],
];

describe('one error hierarchy', () => {
  it.each(cases)('%s is a ChittyError with an explicit retryable and a stable code', (_name, err, retryable, code) => {
    expect(err).toBeInstanceOf(ChittyError);
    expect(err).toBeInstanceOf(Error);
    expect(err.retryable).toBe(retryable);
    expect(err.code).toBe(code);
  });

  it.each(cases)('classifyError(%s) follows the error', (_name, err, retryable, code) => {
    expect(classifyError(err)).toEqual({ retryable, code, message: err.message });
  });

  it('config.ts still exports the same ConfigError', () => {
    expect(ConfigErrorFromConfig).toBe(ConfigError);
  });

  it('a payload that can never fit the channel is not retried', () => {
    expect(classifyError(new RenderValidationError('sms', 'SMS_SEGMENT', 'too long')).retryable).toBe(false);
  });

  it('"not configured" is its own code, not a validation error, and its message says how to replay', () => {
    const err = new NotConfiguredError('whatsapp');
    expect(err).not.toBeInstanceOf(ValidationError);
    expect(classifyError(err)).toMatchObject({ retryable: false, code: 'not_configured' });
    expect(err.message).toMatch(/whatsapp.*configure it, then replay the dead letters/);
  });

  it('NotImplementedError names the channel and what it cannot do', () => {
    const err = new NotImplementedError('sms', 'react');
    expect(err).toMatchObject({ channel: 'sms', feature: 'react', code: 'not_implemented', retryable: false, message: 'sms cannot react' });
  });
});

describe('classifyError on values outside the hierarchy', () => {
  it('an unknown error is not retried (decision: it is a bug, dead-letter it and replay after the fix)', () => {
    expect(classifyError(new TypeError("Cannot read properties of undefined (reading 'text')"))).toEqual({
      retryable: false,
      code: 'unknown',
      message: "Cannot read properties of undefined (reading 'text')",
    });
    expect(classifyError('boom')).toEqual({ retryable: false, code: 'unknown', message: 'boom' });
    expect(classifyError(undefined)).toMatchObject({ retryable: false, code: 'unknown' });
    expect(classifyError({ status: 500 })).toEqual({ retryable: false, code: 'unknown', message: '{"status":500}' });
  });

  it('a Node network failure an adapter did not wrap is retried', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(classifyError(reset)).toEqual({ retryable: true, code: 'network', message: 'read ECONNRESET' });
    // fetch hides it one level down: TypeError('fetch failed', { cause: ECONNREFUSED })
    const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(classifyError(fetchFailed)).toMatchObject({ retryable: true, code: 'network', message: 'fetch failed' });
    expect(classifyError(new DOMException('The operation timed out', 'TimeoutError'))).toMatchObject({ retryable: true, code: 'network' });
    // A code that is not a network failure is still unknown.
    expect(classifyError(Object.assign(new Error('nope'), { code: 'EACCES' }))).toMatchObject({ retryable: false, code: 'unknown' });
  });

  it('a ChittyError wrapped as the cause of another error decides', () => {
    const wrapped = new Error('send failed', { cause: new RenderValidationError('discord', 'DISCORD_EMBED_TOTAL', 'too big') });
    expect(classifyError(wrapped)).toEqual({ retryable: false, code: 'render_validation', message: 'send failed' });
    const retry = new Error('send failed', { cause: new ServerError('502', 'discord') });
    expect(classifyError(retry)).toMatchObject({ retryable: true, code: 'server' });
  });

  it('a cause cycle ends', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    expect(classifyError(a)).toMatchObject({ retryable: false, code: 'unknown' });
  });
});
