/**
 * Discord through the whole gateway: interactions signed as Discord signs them (Ed25519 over
 * timestamp + body) into `POST /discord/interactions`, a loopback fake of Discord's REST API and
 * gateway WebSocket. The generic channel contract, then the done-when for Discord: a
 * subscribed channel gets an embed through REST, pressing its Done button completes the todo, a
 * slow command is deferred and answered by a follow-up, `@everyone` never pings, gateway prefix
 * commands are answered in the channel, and one process holds the gateway (Redis lock takeover).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { DiscordAdapter } from '../../bots/discord/index.ts';
import { type ContractHarness, type CorpusCase, describeChannelContract, eventually, sendPlatform } from '../contract/channel-contract.ts';
import { FakeDiscord, snowflake, testKeys } from '../fakes/discord.ts';
import { dropRedisPrefix, startTestGateway, TEST_REDIS_URL, type TestGateway } from '../support/gateway.ts';
import { buttonInteraction, DISCORD_CORPUS_ABSENT, discordCorpusPresent, readDiscordCorpus, signedRequest, slashInteraction } from '../support/discord.ts';

const MEMBER = '1100000000000000001';
const CHANNEL = '1400000000000000001';
const BOT_TOKEN = 'test-discord-bot-token';
const keys = testKeys();

function discordEnv(fake: FakeDiscord, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DISCORD_PUBLIC_KEY: keys.publicKeyHex,
    DISCORD_APPLICATION_ID: fake.applicationId,
    DISCORD_BOT_TOKEN: BOT_TOKEN,
    DISCORD_API_URL: fake.apiUrl,
    CHITTY_ALLOWLIST: `discord:${MEMBER}`,
    ...extra,
  };
}

const spec = (fake: FakeDiscord, id: string, channelId = CHANNEL) => ({ id, applicationId: fake.applicationId, channelId, userId: MEMBER });

/** The message body an interaction answer carries: inline (type 4/7) or the later edit of @original. */
async function answerBody(fake: FakeDiscord, response: { status: number; text: string }, interactionId: string): Promise<any> {
  const r = JSON.parse(response.text) as { type: number; data?: unknown };
  if (r.type === 4 || r.type === 7) return r.data;
  const call = await eventually(async () => fake.webhookCalls(`tok-${interactionId}`)[0], `the follow-up of ${interactionId}`);
  return call.body;
}

/** Every text an embed message shows, joined. */
function shown(body: any): string {
  const out: string[] = [body?.content ?? ''];
  for (const e of body?.embeds ?? []) out.push(e.title ?? '', e.description ?? '', ...(e.fields ?? []).flatMap((f: any) => [f.name, f.value]), e.footer?.text ?? '');
  return out.join('\n');
}

/** What each corpus file must become (a new file defaults by its type: 1/4 protocol, else message). */
const CORPUS_EXPECT: Record<string, CorpusCase['expect']> = {
  'ping__ssmmiles_real.json': 'protocol',
  'ping__discord_interactions_js_minimal.json': 'protocol',
  'autocomplete__discord_interactions_js.json': 'protocol',
  // No user or member: nobody to run it as; answered with an ephemeral note.
  'application_command__discord_interactions_js_minimal.json': 'protocol',
  'message_component__discord_interactions_js_minimal.json': 'protocol',
  // Context-menu commands (data.type 2/3) are not slash commands: an ephemeral note.
  'application_command__docs_user_context_menu.json': 'protocol',
  'application_command__docs_message_context_menu.json': 'protocol',
  // Unknown commands and buttons run through the core, which answers with usage.
  'application_command__docs_slash_with_options.json': 'message',
  'application_command__ssmmiles_real_guild.json': 'message',
  'application_command__vercel_unit_string_bool_options.json': 'message',
  // Same interaction id ("interaction123") as the file before it: a re-delivery, answered from the log.
  'application_command__vercel_unit_subcommand_group.json': 'ignore',
  'message_component__ssmmiles_real_button.json': 'message',
  'message_component__vercel_button_dm_handedited.json': 'message',
  'message_component__vercel_button_guild_thread.json': 'message',
  'message_component__vercel_button_thread_minimal.json': 'message',
};

let fake: FakeDiscord;

const harness: ContractHarness = {
  channel: 'discord',
  async start() {
    fake = await new FakeDiscord().start();
    const gw = await startTestGateway('pglite', discordEnv(fake));
    return { gw };
  },
  async stop(ctx) {
    await ctx.gw.close();
    await fake.stop();
  },
  command(text, messageId) {
    return signedRequest(keys, slashInteraction(spec(fake, messageId), 'chitty', [{ name: 'text', type: 3, value: text }]));
  },
  badSignature(req) {
    const sig = req.headers['x-signature-ed25519']!;
    return { ...req, headers: { ...req.headers, 'x-signature-ed25519': `${sig[0] === '0' ? '1' : '0'}${sig.slice(1)}` } };
  },
  stale(text, messageId) {
    const body = slashInteraction(spec(fake, messageId), 'chitty', [{ name: 'text', type: 3, value: text }]);
    return signedRequest(keys, body, Math.floor(Date.now() / 1000) - 10 * 60);
  },
  ownEcho() {
    // Discord never sends the bot's own actions as interactions; a "user" that is the application is refused all the same.
    const body = slashInteraction({ ...spec(fake, `echo-${Date.now()}`), userId: fake.applicationId }, 'chitty', [{ name: 'text', type: 3, value: 'todo add Echo' }]);
    return signedRequest(keys, body);
  },
  corpus() {
    if (!discordCorpusPresent) {
      console.warn(DISCORD_CORPUS_ABSENT);
      // The contract needs at least one case: the real PING shape, hand-made.
      return [{ name: 'ping (corpus absent)', request: signedRequest(keys, { type: 1, id: '1', application_id: fake.applicationId, token: 't', version: 1 }), expect: 'protocol' }];
    }
    return readDiscordCorpus()
      .filter((f) => f.kind === 'discord_interaction' && typeof f.raw_body === 'string')
      .map(
        (f): CorpusCase => ({
          name: f.name,
          // The raw bytes as recorded, signed with the test key and a fresh timestamp.
          request: signedRequest(keys, f.raw_body!),
          expect: CORPUS_EXPECT[f.name] ?? (f.body?.type === 1 || f.body?.type === 4 ? 'protocol' : 'message'),
        }),
      );
  },
  async answerOf(_ctx, response, messageId) {
    return JSON.stringify(await answerBody(fake, response, messageId));
  },
  async lateAnswers(_ctx, messageId) {
    return fake.webhookCalls(`tok-${messageId}`).length;
  },
  subscriber: '1400000000000000099',
  async postsTo(_ctx, address) {
    return fake.posts(address).map((r) => JSON.stringify(r.body));
  },
  assertNoMassPing(raw) {
    const body = JSON.parse(raw) as { allowed_mentions?: { parse?: unknown[] } };
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(raw).not.toMatch(/@everyone|@here|<@&\d+>/);
  },
};

describeChannelContract(harness);

describe('discord: done-when', () => {
  let fk: FakeDiscord;
  let gw: TestGateway;
  /** `/todo add content:<content> [project:<project>]` as Discord sends it, signed. */
  const todoAdd = (id: string, content: string, project?: string) =>
    signedRequest(
      keys,
      slashInteraction(spec(fk, id), 'todo', [{ name: 'add', type: 1, options: [{ name: 'content', type: 3, value: content }, ...(project ? [{ name: 'project', type: 3, value: project }] : [])] }]),
    );
  const SUBSCRIBED = '1400000000000000002';

  beforeAll(async () => {
    fk = await new FakeDiscord().start();
    gw = await startTestGateway('pglite', discordEnv(fk));
  });
  afterAll(async () => {
    await gw?.close();
    await fk?.stop();
  });

  it('answers PING with PONG and refuses a bad signature with 401', async () => {
    const ping = signedRequest(keys, { type: 1, id: snowflake(), application_id: fk.applicationId, token: 't', version: 1 });
    const r = await sendPlatform(gw, ping);
    expect(r).toEqual({ status: 200, text: '{"type":1}' });
    const bad = await sendPlatform(gw, { ...ping, headers: { ...ping.headers, 'x-signature-ed25519': '0'.repeat(128) } });
    expect(bad.status).toBe(401);
  });

  it('a subscribed channel gets an embed through REST, and pressing Done on it completes the todo', async () => {
    const created = await gw.call('POST', '/api/v1/projects', { name: 'Alpha' });
    expect(created.status).toBe(201);
    const projectId = created.json.chittyId as string;
    expect(projectId).toMatch(/^CHITTY-PROJ-/);
    expect((await gw.call('POST', '/api/v1/subscriptions', { channel: 'discord', address: SUBSCRIBED, projectId, domains: ['todos'] })).status).toBe(201);

    // The slash command with structured options, as Discord sends `/todo add content:"Write brief" project:Alpha`.
    const addId = snowflake();
    const add = todoAdd(addId, 'Write brief', 'Alpha');
    const started = Date.now();
    const r = await sendPlatform(gw, add);
    expect(r.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    const inline = JSON.parse(r.text);
    expect(inline.type).toBe(4);
    expect(inline.data.flags).toBe(64);
    expect(shown(inline.data)).toMatch(/Write brief/);
    const todo = ((await gw.call('GET', '/api/v1/todos?limit=100')).json.items as { chittyId: string; content: string; projectId: string; status: string }[]).find((t) => t.content === 'Write brief')!;
    expect(todo.projectId).toBe(projectId);

    // Fan-out: an embed with a Done button whose custom_id is the command it runs.
    const buttonsOf = (body: any) => (body?.components ?? []).flatMap((row: any) => row.components) as { custom_id: string; label: string }[];
    const post = await eventually(
      async () => fk.posts(SUBSCRIBED).find((p) => shown(p.body).includes('Write brief') && buttonsOf(p.body).some((b) => b.label === 'Done')),
      'the embed with a Done button in the subscribed channel',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the fake got: ${JSON.stringify(fk.requests.map((q) => [q.method, q.path, q.response?.status, q.body]))}`.slice(0, 6000));
    });
    expect(post.headers.authorization).toBe(`Bot ${BOT_TOKEN}`);
    expect(post.body.embeds.length).toBeGreaterThan(0);
    expect(post.body.allowed_mentions).toEqual({ parse: [] });
    const done = buttonsOf(post.body).find((b) => b.label === 'Done')!;
    expect(done.custom_id).toBe(`todo done ${todo.chittyId}`);
    const postedAt = fk.requests.length; // what the fake gets from here on

    // Press Done on that message.
    const pressId = snowflake();
    const press = await sendPlatform(gw, signedRequest(keys, buttonInteraction(spec(fk, pressId, SUBSCRIBED), done.custom_id, '1500000000000000001')));
    expect(press.status).toBe(200);
    const pressed = JSON.parse(press.text);
    expect([6, 7]).toContain(pressed.type);
    const answer = await answerBody(fk, press, pressId);
    expect(shown(answer)).toMatch(/Write brief/);
    const after = ((await gw.call('GET', '/api/v1/todos?limit=100')).json.items as { chittyId: string; status: string }[]).find((t) => t.chittyId === todo.chittyId);
    expect(after?.status).toBe('completed');

    // The press came from that channel, which saw its message updated (no fan-out back to the origin).
    // A later change made elsewhere reaches it as a reply to the todo's first message.
    expect((await gw.call('PUT', `/api/v1/todos/${todo.chittyId}`, { content: 'Write brief v2' })).status).toBe(200);
    const update = await eventually(
      async () => fk.requests.slice(postedAt).find((q) => q.method === 'POST' && q.path === `/channels/${SUBSCRIBED}/messages` && q.body?.message_reference),
      'the later change as a reply',
    );
    expect(update.body.message_reference.fail_if_not_exists).toBe(false);
    expect(update.body.message_reference.message_id).toBe(post.response!.body.id);
    expect(shown(update.body)).toMatch(/Write brief v2/);
  });

  it('defers a slow command at once and sends the answer as a follow-up', async () => {
    const core = gw.core;
    const submit = core.submit.bind(core);
    core.submit = async (m) => {
      const r = await submit(m);
      return {
        ...r,
        answer: r.answer.then(async (x) => {
          await new Promise((res) => setTimeout(res, 2_600));
          return x;
        }),
      };
    };
    try {
      const id = snowflake();
      const started = Date.now();
      const r = await sendPlatform(gw, todoAdd(id, 'Slow one'));
      const ackMs = Date.now() - started;
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({ type: 5, data: { flags: 64 } });
      expect(ackMs).toBeLessThan(3_000);
      const follow = await eventually(async () => fk.webhookCalls(`tok-${id}`)[0], 'the follow-up');
      expect(follow.method).toBe('PATCH');
      expect(follow.path).toBe(`/webhooks/${fk.applicationId}/tok-${id}/messages/@original`);
      expect(follow.headers.authorization).toBeUndefined();
      expect(shown(follow.body)).toMatch(/Slow one/);
      expect(follow.body.allowed_mentions).toEqual({ parse: [] });
    } finally {
      core.submit = submit;
    }
  });

  it('never pings with hostile text: the inline answer and the fan-out carry allowed_mentions parse []', async () => {
    const id = snowflake();
    const r = await sendPlatform(gw, todoAdd(id, '@everyone @here <@&123456789012345678> ping', 'Alpha'));
    const body = await answerBody(fk, r, id);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(JSON.stringify(body)).not.toMatch(/@everyone|@here|<@&\d+>/);
    const post = await eventually(async () => fk.posts(SUBSCRIBED).find((p) => shown(p.body).includes('ping')), 'the hostile todo in fan-out');
    expect(post.body.allowed_mentions).toEqual({ parse: [] });
    expect(JSON.stringify(post.body)).not.toMatch(/@everyone|@here|<@&\d+>/);
  });
});

describe('discord: gateway', () => {
  let fk: FakeDiscord;
  let gw: TestGateway;
  const TEXT_CHANNEL = '1400000000000000003';

  beforeAll(async () => {
    fk = await new FakeDiscord().start();
    gw = await startTestGateway('pglite', discordEnv(fk, { DISCORD_GATEWAY: 'on' }));
    await eventually(async () => (fk.identifiedConnections() === 1 ? true : undefined), 'the gateway IDENTIFY');
  });
  afterAll(async () => {
    await gw?.close();
    await fk?.stop();
  });

  it('identifies with the bot token and the message intents', () => {
    const identify = fk.gatewayFrames.find((f) => f.op === 2)!.d as { token: string; intents: number };
    expect(identify.token).toBe(BOT_TOKEN);
    expect(identify.intents & (1 << 15)).toBeTruthy(); // MESSAGE_CONTENT
    expect(identify.intents & (1 << 9)).toBeTruthy(); // GUILD_MESSAGES
  });

  it("runs a prefix command from MESSAGE_CREATE and replies in the channel; ignores its own and bots' messages", async () => {
    const own = { id: snowflake(), channel_id: TEXT_CHANNEL, content: '!chitty todo add From myself', author: { id: fk.botUserId, username: 'chitty', bot: true }, mentions: [] };
    const otherBot = { id: snowflake(), channel_id: TEXT_CHANNEL, content: '!chitty todo add From a bot', author: { id: '1100000000000000077', username: 'otherbot', bot: true }, mentions: [] };
    const unrelated = { id: snowflake(), channel_id: TEXT_CHANNEL, content: 'just talking', author: { id: MEMBER, username: 'member' }, mentions: [] };
    const msgId = snowflake();
    const mine = { id: msgId, channel_id: TEXT_CHANNEL, guild_id: '1300000000000000001', content: '!chitty todo add Gateway task', author: { id: MEMBER, username: 'member' }, mentions: [] };
    fk.dispatchMessage(own);
    fk.dispatchMessage(otherBot);
    fk.dispatchMessage(unrelated);
    fk.dispatchMessage(mine);
    const reply = await eventually(async () => fk.posts(TEXT_CHANNEL).find((p) => p.body?.message_reference?.message_id === msgId), 'the reply to the prefix command');
    expect(shown(reply.body)).toMatch(/Gateway task/);
    expect(reply.body.allowed_mentions).toEqual({ parse: [] });
    const todos = ((await gw.call('GET', '/api/v1/todos?limit=100')).json.items as { content: string }[]).map((t) => t.content);
    expect(todos).toContain('Gateway task');
    expect(todos).not.toContain('From myself');
    expect(todos).not.toContain('From a bot');
    expect(fk.posts(TEXT_CHANNEL)).toHaveLength(1);
  });

  it('runs a message that mentions the bot, and a re-delivered MESSAGE_CREATE once', async () => {
    const msgId = snowflake();
    const m = { id: msgId, channel_id: TEXT_CHANNEL, content: `<@${fk.botUserId}> todo add Mentioned task`, author: { id: MEMBER, username: 'member' }, mentions: [{ id: fk.botUserId }] };
    fk.dispatchMessage(m);
    fk.dispatchMessage(m);
    await eventually(async () => fk.posts(TEXT_CHANNEL).find((p) => p.body?.message_reference?.message_id === msgId), 'the reply to the mention');
    await new Promise((r) => setTimeout(r, 300));
    const todos = ((await gw.call('GET', '/api/v1/todos?limit=100')).json.items as { content: string }[]).filter((t) => t.content === 'Mentioned task');
    expect(todos).toHaveLength(1);
    expect(fk.posts(TEXT_CHANNEL).filter((p) => p.body?.message_reference?.message_id === msgId)).toHaveLength(1);
  });
});

describe('discord: one process holds the gateway (Redis lock)', () => {
  let fk: FakeDiscord;
  let gw: TestGateway;
  const prefix = `{dlock${randomUUID().slice(0, 8)}}`;
  const adapters: DiscordAdapter[] = [];
  const make = () => {
    const a = new DiscordAdapter({
      config: { publicKey: keys.publicKeyHex, applicationId: fk.applicationId, botToken: BOT_TOKEN, gateway: true, prefix: '!chitty', guildId: undefined, apiUrl: fk.apiUrl },
      core: gw.core,
      threads: undefined,
      logger: pino({ level: 'silent' }),
      redisUrl: TEST_REDIS_URL,
      queuePrefix: prefix,
      gatewayLockTtlMs: 1_500,
    });
    adapters.push(a);
    return a;
  };

  beforeAll(async () => {
    fk = await new FakeDiscord().start();
    gw = await startTestGateway('pglite', {});
  });
  afterAll(async () => {
    for (const a of adapters) await a.stop();
    await gw?.close();
    await fk?.stop();
    await dropRedisPrefix(prefix);
  });

  it('connects one of two processes; when the holder dies the other takes over, and a clean stop hands over at once', async () => {
    const a = make();
    const b = make();
    await a.start();
    await b.start();
    await eventually(async () => (a.gateway!.status().connected ? true : undefined), 'the first holder to connect');
    expect(a.gateway!.status().holdsLock).toBe(true);
    expect(b.gateway!.status().holdsLock).toBe(false);
    expect(fk.identifiedConnections()).toBe(1);

    // The holder dies without releasing: its lock expires (1.5 s) and the passive one connects.
    await a.gateway!.crash();
    await eventually(async () => (b.gateway!.status().connected ? true : undefined), 'the passive process to take over', 10_000);
    expect(fk.identifiedConnections()).toBe(1);

    // A clean stop releases the lock: a third process connects without waiting out the TTL.
    const c = make();
    await c.start();
    expect(c.gateway!.status().holdsLock).toBe(false);
    const stoppedAt = Date.now();
    await b.stop();
    await eventuallyConnected(c);
    expect(Date.now() - stoppedAt).toBeLessThan(1_500 + 5_000);
    expect(fk.identifiedConnections()).toBe(1);
  });

  async function eventuallyConnected(x: DiscordAdapter) {
    await eventually(async () => (x.gateway!.status().connected ? true : undefined), 'the next process to connect', 10_000);
  }
});
