/** Twilio's answers → channel errors, through the real SDK client pointed at the loopback fake. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilio } from '../../test/fakes/twilio.ts';
import { AuthError, DestinationNotFoundError, NetworkError, RateLimitedError, ServerError, ValidationError } from '../../src/core/channel-errors.ts';
import { classifyError } from '../../src/core/chitty-error.ts';
import { createTwilioClient, OptedOutError, rebase, twilioFailure } from './client.ts';

const SID = `AC${'0'.repeat(32)}`;
const TOKEN = 'fake-token';

describe('the Twilio client against the fake', () => {
  const fake = new FakeTwilio({ accountSid: SID, authToken: TOKEN });
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  const to = '+15550001234';
  const send = (token = TOKEN) => createTwilioClient(SID, token, fake.url).messages.create({ to, from: '+15550009999', body: 'hi' });

  it('sends through TWILIO_API_URL with basic auth and gets an SM sid, status queued', async () => {
    const m = await send();
    expect(m.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(m.status).toBe('queued');
    expect(fake.bodiesTo(to)).toEqual(['hi']);
  });

  it.each([
    ['a wrong token → 20003 → AuthError', undefined, 'wrong', AuthError, false],
    ['429/20429 → RateLimitedError', { status: 429, code: 20429, message: 'Too Many Requests' }, TOKEN, RateLimitedError, true],
    ['21211 → DestinationNotFoundError', { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." }, TOKEN, DestinationNotFoundError, false],
    ['21614 → DestinationNotFoundError', { status: 400, code: 21614, message: "'To' number is not a valid mobile number" }, TOKEN, DestinationNotFoundError, false],
    ['21610 → OptedOutError, never retried', { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' }, TOKEN, OptedOutError, false],
    ['500 → ServerError', { status: 500, code: 20500, message: 'Internal Server Error' }, TOKEN, ServerError, true],
    ['another 400 → ValidationError', { status: 400, code: 21602, message: 'Message body is required.' }, TOKEN, ValidationError, false],
  ] as const)('%s', async (_name, error, token, Type, retryable) => {
    if (error) fake.failNext(to, error);
    const err = await send(token).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Type);
    expect(classifyError(err).retryable).toBe(retryable);
  });

  it('a refused connection → NetworkError (retryable)', async () => {
    const err = await createTwilioClient(SID, TOKEN, 'http://127.0.0.1:1')
      .messages.create({ to, from: '+15550009999', body: 'hi' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(NetworkError);
    expect(classifyError(err).retryable).toBe(true);
  });
});

describe('twilioFailure', () => {
  it('honours Retry-After on a 429, platform-wide', () => {
    const e = twilioFailure(429, { code: 20429, message: 'Too Many Requests' }, { 'retry-after': '7' }, 'POST', 'https://api.twilio.com/x');
    expect(e).toBeInstanceOf(RateLimitedError);
    expect((e as RateLimitedError).retryAfterMs).toBe(7000);
    expect((e as RateLimitedError).scope).toBe('platform');
  });

  it('rebase keeps the path and query', () => {
    expect(rebase('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1', 'http://127.0.0.1:9/prefix/')).toBe('http://127.0.0.1:9/prefix/2010-04-01/Accounts/AC1/Messages.json?x=1');
  });
});
