/**
 * The Discord sender against the fake REST API: what it posts, and how every failure becomes the
 * channel error the pipeline decides on — with REST's own retries off (one request per send) and
 * a 429 rejected at once with Discord's wait. Also `npm run discord:register` (guild and global).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, DestinationNotFoundError, NetworkError, RateLimitedError, ServerError, ValidationError } from '../../src/core/channel-errors.ts';
import type { Reply } from '../../src/core/reply.ts';
import { FakeDiscord, rateLimited } from '../../test/fakes/discord.ts';
import { registerDiscordCommands } from './register.ts';
import { DiscordSender, fanoutRest, nonceOf } from './send.ts';

class TestSender extends DiscordSender {
  postReply(address: string, reply: Reply, thread?: string) {
    return this.post({ address, thread, reply, threadKey: 'k', batchId: `batch-${address}-${Math.random()}` });
  }
}

const CH = '1400000000000000001';
const reply: Reply = {
  kind: 'update',
  title: 'Todo added',
  text: 'Write brief @everyone',
  actions: [{ id: 'done:CHITTY-TODO-1', label: 'Done', command: 'todo done CHITTY-TODO-1', style: 'primary' }],
};

describe('DiscordSender', () => {
  let fake: FakeDiscord;
  let sender: TestSender;
  beforeAll(async () => {
    fake = await new FakeDiscord().start();
    sender = fresh();
  });
  const fresh = () => new TestSender(fanoutRest({ botToken: 'tok', apiUrl: fake.apiUrl, timeoutMs: 2_000 }), undefined);
  afterAll(async () => fake?.stop());

  it('posts embeds + buttons with allowed_mentions parse [] and a nonce; the message id is the thread root', async () => {
    const r = await sender.postReply(CH, reply);
    const req = fake.posts(CH).at(-1)!;
    expect(req.headers.authorization).toBe('Bot tok');
    expect(req.body.allowed_mentions).toEqual({ parse: [] });
    expect(req.body.embeds[0].title).toBe('Todo added');
    expect(req.body.components[0].components[0]).toMatchObject({ custom_id: 'todo done CHITTY-TODO-1', label: 'Done' });
    expect(req.body.nonce).toHaveLength(25);
    expect(req.body.enforce_nonce).toBe(true);
    expect(req.body.message_reference).toBeUndefined();
    expect(r).toEqual({ providerMessageId: req.response!.body.id, threadRoot: req.response!.body.id });
    expect(nonceOf('a')).toBe(nonceOf('a'));
  });

  it('posts a later change as a reply to the first message', async () => {
    await sender.postReply(CH, reply, '1500000000000000009');
    expect(fake.posts(CH).at(-1)!.body.message_reference).toEqual({ message_id: '1500000000000000009', fail_if_not_exists: false });
  });

  const failure = async (channel: string, response: Parameters<FakeDiscord['failNext']>[1]) => {
    fake.failNext(new RegExp(`^/channels/${channel}/messages$`), response);
    const before = fake.posts(channel).length;
    const err = await sender.postReply(channel, reply).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { err, requests: fake.posts(channel).length - before };
  };

  it("429: RateLimitedError at once with Discord's wait (no waiting or retry inside REST); global → platform scope", async () => {
    const started = Date.now();
    const local = await failure('1400000000000000011', rateLimited(2));
    expect(local.err).toBeInstanceOf(RateLimitedError);
    expect((local.err as RateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(2_000);
    expect((local.err as RateLimitedError).scope).toBe('destination');
    expect(local.requests).toBe(1);
    const global = await failure('1400000000000000012', rateLimited(3, true));
    expect(global.err).toBeInstanceOf(RateLimitedError);
    expect((global.err as RateLimitedError).scope).toBe('platform');
    expect(global.requests).toBe(1);
    // REST keeps the global limit: the next send is refused before it goes out.
    const next = await failure('1400000000000000013', { status: 200, body: {} });
    expect(next.err).toBeInstanceOf(RateLimitedError);
    expect((next.err as RateLimitedError).scope).toBe('platform');
    expect(next.requests).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_500);
    sender = fresh(); // a client without the global limit for the next cases
  });

  it('maps Discord errors: 401/403 auth, Unknown Channel / Missing Access / 404 not found, Invalid Form Body validation, 5xx server (one request)', async () => {
    expect((await failure('1400000000000000021', { status: 401, body: { message: '401: Unauthorized', code: 0 } })).err).toBeInstanceOf(AuthError);
    // REST drops the token after a 401: later sends stay AuthError (not retried as network failures).
    const after401 = await failure('1400000000000000020', { status: 200, body: {} });
    expect(after401.err).toBeInstanceOf(AuthError);
    expect(after401.requests).toBe(0);
    sender = fresh();
    expect((await failure('1400000000000000022', { status: 403, body: { message: 'Missing Permissions', code: 50013 } })).err).toBeInstanceOf(AuthError);
    expect((await failure('1400000000000000023', { status: 403, body: { message: 'Missing Access', code: 50001 } })).err).toBeInstanceOf(DestinationNotFoundError);
    expect((await failure('1400000000000000024', { status: 404, body: { message: 'Unknown Channel', code: 10003 } })).err).toBeInstanceOf(DestinationNotFoundError);
    const invalid = await failure('1400000000000000025', { status: 400, body: { message: 'Invalid Form Body', code: 50035, errors: { embeds: {} } } });
    expect(invalid.err).toBeInstanceOf(ValidationError);
    expect((invalid.err as ValidationError).status).toBe(400);
    const server = await failure('1400000000000000026', { status: 502, body: { message: 'Bad Gateway', code: 0 } });
    expect(server.err).toBeInstanceOf(ServerError);
    expect(server.requests).toBe(1);
  });

  it('a refused connection is a NetworkError', async () => {
    const dead = new TestSender(fanoutRest({ botToken: 'tok', apiUrl: 'http://127.0.0.1:1/api', timeoutMs: 2_000 }), undefined);
    await expect(dead.postReply(CH, reply)).rejects.toBeInstanceOf(NetworkError);
  });
});

describe('npm run discord:register', () => {
  let fake: FakeDiscord;
  beforeAll(async () => {
    fake = await new FakeDiscord().start();
  });
  afterAll(async () => fake?.stop());
  const env = (extra: Record<string, string> = {}) => ({
    DISCORD_PUBLIC_KEY: 'a'.repeat(64),
    DISCORD_APPLICATION_ID: fake.applicationId,
    DISCORD_BOT_TOKEN: 'tok',
    DISCORD_API_URL: fake.apiUrl,
    ...extra,
  });

  it('PUTs every command globally, or in DISCORD_GUILD_ID', async () => {
    expect(await registerDiscordCommands(env())).toMatchObject({ scope: 'global' });
    const global = fake.requests.at(-1)!;
    expect([global.method, global.path]).toEqual(['PUT', `/applications/${fake.applicationId}/commands`]);
    expect((global.body as { name: string }[]).map((c) => c.name)).toEqual(expect.arrayContaining(['todo', 'sync', 'project', 'topic', 'session', 'subscribe', 'chitty']));
    await registerDiscordCommands(env({ DISCORD_GUILD_ID: '1300000000000000001' }));
    expect(fake.requests.at(-1)!.path).toBe(`/applications/${fake.applicationId}/guilds/1300000000000000001/commands`);
    await expect(registerDiscordCommands({})).rejects.toThrow(/DISCORD_PUBLIC_KEY/);
  });
});
