/**
 * Issue 10's done-when across both channels in one gateway: a signed `/todo add Write brief
 * --project Alpha` from Slack is acked with Block Kit and the todo is in the hub; a Discord
 * channel subscribed to Alpha gets an embed through REST; pressing Done on that Discord message
 * completes the todo; the subscribed Slack channel gets the update in the todo's thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sendPlatform } from '../contract/channel-contract.ts';
import { FakeDiscord, snowflake, testKeys } from '../fakes/discord.ts';
import { FakeSlackApi } from '../fakes/slack-api.ts';
import { buttonInteraction, signedRequest } from '../support/discord.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { signedSlack, slashBody } from '../support/slack.ts';

const SLACK_SECRET = 'test-slack-signing-secret';
const TEAM = 'TFAKE0001';
const SLACK_MEMBER = 'UMEMBER01';
const SLACK_TYPED_IN = 'CTYPED001';
const SLACK_SUBSCRIBED = 'CSUBSCR01';
const DISCORD_MEMBER = '1100000000000000001';
const DISCORD_SUBSCRIBED = '1400000000000000009';
const keys = testKeys();

let gw: TestGateway;
let slack: FakeSlackApi;
let discord: FakeDiscord;

beforeAll(async () => {
  slack = await new FakeSlackApi().start();
  discord = await new FakeDiscord().start();
  gw = await startTestGateway('pglite', {
    SLACK_SIGNING_SECRET: SLACK_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_API_URL: slack.apiUrl,
    DISCORD_PUBLIC_KEY: keys.publicKeyHex,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_BOT_TOKEN: 'test-discord-bot-token',
    DISCORD_API_URL: discord.apiUrl,
    CHITTY_ALLOWLIST: `slack:${TEAM}:${SLACK_MEMBER},discord:${DISCORD_MEMBER}`,
  });
});
afterAll(async () => {
  await gw?.close();
  await slack?.stop();
  await discord?.stop();
});

const textOf = (v: unknown): string => JSON.stringify(v ?? '');

describe('Slack and Discord on one hub', () => {
  it("a Slack command reaches Discord, a Discord button press reaches Slack in the todo's thread", async () => {
    const alpha = await gw.call('POST', '/api/v1/projects', { name: 'Alpha' });
    const projectId = alpha.json.chittyId as string;
    expect((await gw.call('POST', '/api/v1/subscriptions', { channel: 'discord', address: DISCORD_SUBSCRIBED, projectId, domains: ['todos'] })).status).toBe(201);
    expect((await gw.call('POST', '/api/v1/subscriptions', { channel: 'slack', address: SLACK_SUBSCRIBED, projectId, domains: ['todos'] })).status).toBe(201);

    // Slack: the slash command, acked in under 3 s with Block Kit.
    const body = slashBody({
      command: '/todo',
      text: 'add Write brief --project Alpha',
      teamId: TEAM,
      userId: SLACK_MEMBER,
      channelId: SLACK_TYPED_IN,
      responseUrl: slack.responseUrl('cmd-1'),
      triggerId: 'cmd-1.1',
    });
    const started = Date.now();
    const ack = await sendPlatform(gw, { path: '/slack/events', headers: signedSlack(SLACK_SECRET, body, 'application/x-www-form-urlencoded'), body });
    expect(ack.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    const answer = ack.text ? JSON.parse(ack.text) : (await eventually(async () => slack.responses.find((r) => r.id === 'cmd-1'), 'the response_url answer')).body;
    expect(Array.isArray(answer.blocks)).toBe(true);
    expect(textOf(answer.blocks)).toMatch(/Write brief/);
    const todo = ((await gw.call('GET', '/api/v1/todos?limit=100')).json.items as { chittyId: string; content: string; projectId: string }[]).find((t) => t.content === 'Write brief')!;
    expect(todo.projectId).toBe(projectId);

    // Discord: the subscribed channel gets an embed with a Done button, through REST.
    const post = await eventually(async () => discord.posts(DISCORD_SUBSCRIBED).find((p) => textOf(p.body.embeds).includes('Write brief')), 'the Discord embed');
    const done = (post.body.components as { components: { custom_id: string; label: string }[] }[]).flatMap((r) => r.components).find((b) => b.label === 'Done')!;
    expect(done).toBeDefined();

    // Slack's subscribed channel got the new todo too: that message is the todo's thread root.
    const rootPost = await eventually(
      async () => slack.callsOf('chat.postMessage').find((c) => c.args.channel === SLACK_SUBSCRIBED && textOf(c.args).includes('Write brief')),
      'the Slack notice of the new todo',
    );
    expect(rootPost.args.thread_ts).toBeUndefined();
    const rootTs = await eventually(async () => {
      const rows = await gw.call('GET', `/api/v1/deliveries?channel=slack&entityId=${todo.chittyId}&status=sent`);
      return (rows.json.items as { providerMessageId: string | null }[])[0]?.providerMessageId ?? undefined;
    }, 'the root notice recorded as sent');

    // Press Done on the Discord message.
    const pressId = snowflake();
    const press = await sendPlatform(
      gw,
      signedRequest(
        keys,
        buttonInteraction({ id: pressId, applicationId: discord.applicationId, channelId: DISCORD_SUBSCRIBED, userId: DISCORD_MEMBER }, done.custom_id, String(post.response!.body.id)),
      ),
    );
    expect(press.status).toBe(200);
    await eventually(async () => ((await gw.call('GET', `/api/v1/todos/${todo.chittyId}`)).json.status === 'completed' ? true : undefined), 'the todo completed');

    // Slack: the update lands in the todo's thread.
    const update = await eventually(async () => slack.callsOf('chat.postMessage').find((c) => c.args.channel === SLACK_SUBSCRIBED && c.args.thread_ts), 'the Slack update in the thread');
    expect(update.args.thread_ts).toBe(rootTs);
    expect(textOf(update.args)).toMatch(/completed/i);
  });
});
