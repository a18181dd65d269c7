/**
 * Slack through the whole gateway: requests signed as Slack signs them into `POST /slack/events`,
 * a loopback fake of the Web API and of response_url. The generic channel contract, then the
 * issue's done-when for Slack: a slash command acked in time with Block Kit and in the hub,
 * fan-out threading an entity's second change under its first message, a 429 that waits
 * Retry-After (the pipeline's retry, not the WebClient's), a slow core answering via response_url,
 * mentions answered with chat.postMessage, and a More button that pages the list in place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractHarness, type CorpusCase, describeChannelContract, eventually, type PlatformRequest, sendPlatform } from '../contract/channel-contract.ts';
import { FakeSlackApi } from '../fakes/slack-api.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { contentTypeOf, readSlackCorpus, signedSlack, SLACK_CORPUS_ABSENT, slackCorpusPresent, slashBody } from '../support/slack.ts';

const SECRET = 'test-slack-signing-secret';
const TEAM = 'TFAKE0001';
const MEMBER = 'UMEMBER01';
const MEMBER2 = 'UMEMBER02';
const CHANNEL = 'CCHAT0001';
const BOT_TOKEN = 'xoxb-test-token';

function slackEnv(fake: FakeSlackApi): Record<string, string> {
  return { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: fake.apiUrl, CHITTY_ALLOWLIST: `slack:${TEAM}:${MEMBER},slack:${TEAM}:${MEMBER2}` };
}

function slash(fake: FakeSlackApi, command: string, text: string, id: string, channel = CHANNEL, userId = MEMBER): PlatformRequest {
  const body = slashBody({ command, text, teamId: TEAM, userId, channelId: channel, responseUrl: fake.responseUrl(id), triggerId: id });
  return { path: '/slack/events', headers: signedSlack(SECRET, body, 'application/x-www-form-urlencoded'), body };
}

function eventReq(event: Record<string, unknown>, eventId: string, extra: Record<string, string> = {}): PlatformRequest {
  const body = JSON.stringify({ token: 'x', team_id: TEAM, api_app_id: 'AFAKEAPP1', event, type: 'event_callback', event_id: eventId, event_time: Math.floor(Date.now() / 1000) });
  return { path: '/slack/events', headers: signedSlack(SECRET, body, 'application/json', Date.now(), extra), body };
}

function actionReq(fake: FakeSlackApi, value: string, id: string, channel = CHANNEL): PlatformRequest {
  const payload = {
    type: 'block_actions',
    user: { id: MEMBER, team_id: TEAM },
    team: { id: TEAM },
    container: { type: 'message', message_ts: '1700000000.000001', channel_id: channel, is_ephemeral: true },
    channel: { id: channel },
    trigger_id: id,
    response_url: fake.responseUrl(id),
    actions: [{ type: 'button', action_id: value, block_id: 'b1', value, action_ts: '1700000001.000001' }],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return { path: '/slack/events', headers: signedSlack(SECRET, body, 'application/x-www-form-urlencoded'), body };
}

/** Every text a Block Kit payload shows, joined. */
function blockText(p: { text?: string; blocks?: any[] }): string {
  const out: string[] = [p.text ?? ''];
  for (const b of p.blocks ?? []) {
    if (b.text?.text) out.push(b.text.text);
    for (const f of b.fields ?? []) out.push(f.text);
    for (const e of b.elements ?? []) out.push(e.text?.text ?? e.text ?? '');
  }
  return out.join('\n');
}

/** What the corpus files must become (message: recorded and run; ignore: 2xx, nothing recorded). */
const CORPUS_EXPECT: Record<string, CorpusCase['expect']> = {
  'block_actions__boltpy_enterprise_ephemeral.json': 'message',
  'block_actions__madetech_raw.json': 'message',
  'block_actions__vercel_button_ephemeral.json': 'ignore', // no value: not one of our buttons
  'block_actions__vercel_button_full_message.json': 'ignore',
  'block_actions__vercel_button_in_thread.json': 'ignore',
  'block_actions__vercel_static_select.json': 'message',
  'event_callback__app_mention_raw_vercel.json': 'message',
  // same channel and ts as the app_mention above: the core runs the mention once
  'event_callback__message_with_mention_raw_vercel.json': 'ignore',
  'event_callback__app_mention_trimmed_vercel.json': 'message',
  'event_callback__app_mention_with_file_vercel.json': 'message',
  'event_callback__message_changed_raw_vercel.json': 'ignore',
  'event_callback__message_from_bot_itself_raw_vercel.json': 'ignore',
  'event_callback__message_im_vercel.json': 'message',
  'event_callback__message_thread_reply_raw_vercel.json': 'ignore', // channel chatter without a mention
  'event_callback__retry_headers_vercel_unit.json': 'message',
  'slash_command__boltpy_enterprise.json': 'protocol', // /hello-world etc. are not our commands
  'slash_command__slack_docs_webhook_collect.json': 'protocol',
  'slash_command__vercel_no_text.json': 'protocol',
  'slash_command__vercel_with_args.json': 'protocol',
  'ssl_check__boltjs.json': 'protocol',
  'url_verification__boltpy_docs_challenge.json': 'protocol',
  'view_submission__vercel.json': 'ignore',
};

let fake: FakeSlackApi;

const harness: ContractHarness = {
  channel: 'slack',
  async start() {
    fake = await new FakeSlackApi({ teamId: TEAM }).start();
    const gw = await startTestGateway('pglite', slackEnv(fake));
    return { gw };
  },
  async stop(ctx) {
    await ctx.gw.close();
    await fake.stop();
  },
  command: (text, messageId) => slash(fake, '/chitty', text, messageId),
  badSignature: (req) => ({ ...req, headers: { ...req.headers, 'x-slack-signature': req.headers['x-slack-signature']!.replace(/.$/, (c) => (c === '0' ? '1' : '0')) } }),
  stale(text, messageId) {
    const body = slashBody({ command: '/chitty', text, teamId: TEAM, userId: MEMBER, channelId: CHANNEL, responseUrl: fake.responseUrl(messageId), triggerId: messageId });
    return { path: '/slack/events', headers: signedSlack(SECRET, body, 'application/x-www-form-urlencoded', Date.now() - 6 * 60_000), body };
  },
  ownEcho: () =>
    eventReq({ type: 'message', channel: CHANNEL, channel_type: 'channel', user: fake.botUserId, bot_id: fake.botId, text: `<@${fake.botUserId}> todo add Echo`, ts: '1700000100.000001' }, 'EvECHO1'),
  corpus() {
    const files = readSlackCorpus().filter((f) => f.kind !== 'signature_vector');
    const order = Object.keys(CORPUS_EXPECT);
    files.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    return files.map((f) => {
      const expectAs = CORPUS_EXPECT[f.name];
      if (!expectAs) throw new Error(`no expectation for new corpus file ${f.name}; add it to CORPUS_EXPECT`);
      const type = contentTypeOf(f);
      const extra = Object.fromEntries(Object.entries(f.headers ?? {}).filter(([k]) => k.startsWith('x-slack-retry')));
      const headers = f.kind === 'ssl_check' ? { 'content-type': type } : signedSlack(SECRET, f.raw_body, type, Date.now(), extra);
      return { name: f.name, request: { path: '/slack/events', headers, body: f.raw_body }, expect: expectAs };
    });
  },
  async answerOf(_ctx, response, messageId) {
    if (response.text.trim() !== '') return blockText(JSON.parse(response.text));
    const r = await fake.until(() => fake.responses.find((x) => x.id === messageId), `response_url answer to ${messageId}`);
    return blockText(r.body);
  },
  lateAnswers: async (_ctx, messageId) => fake.responses.filter((x) => x.id === messageId).length,
  subscriber: 'CSUBSCRIBED1',
  postsTo: async (_ctx, address) =>
    fake
      .callsOf('chat.postMessage')
      .filter((c) => c.args.channel === address)
      .map((c) => blockText(c.args)),
  assertNoMassPing(raw) {
    const pings = raw.match(/<!(channel|here|everyone)(\|[^>]*)?>|<!subteam\^[^>]+>/g);
    if (pings) throw new Error(`Slack answer would notify everyone: ${pings.join(', ')} in ${raw.slice(0, 300)}`);
  },
};

if (slackCorpusPresent()) describeChannelContract(harness);
else describe.skip(`slack contract (${SLACK_CORPUS_ABSENT})`, () => it('skipped', () => {}));

describe('slack: the done-when of issue 10', () => {
  let gw: TestGateway;
  let api: FakeSlackApi;
  beforeAll(async () => {
    api = await new FakeSlackApi({ teamId: TEAM }).start();
    gw = await startTestGateway('pglite', slackEnv(api));
  });
  afterAll(async () => {
    await gw?.close();
    await api?.stop();
  });
  const send = (req: PlatformRequest) => sendPlatform(gw, req);
  const todoNamed = async (content: string) => ((await gw.call('GET', '/api/v1/todos?limit=1000')).json.items as any[]).find((t) => t.content === content);

  it('acks a signed /todo add within 3 s with an ephemeral Block Kit reply, and the todo is in the hub', async () => {
    expect((await gw.call('POST', '/api/v1/projects', { name: 'Alpha' })).status).toBe(201);
    const t0 = performance.now();
    const r = await send(slash(api, '/todo', 'add Write brief --project Alpha', 'trig-brief'));
    const ms = performance.now() - t0;
    expect(r.status).toBe(200);
    expect(ms).toBeLessThan(3000);
    const answer = JSON.parse(r.text);
    expect(answer.response_type).toBe('ephemeral');
    expect(Array.isArray(answer.blocks) && answer.blocks.length).toBeTruthy();
    expect(blockText(answer)).toMatch(/Write brief/);
    const todo = await todoNamed('Write brief');
    expect(todo).toBeDefined();
    expect(todo.projectId).toBeTruthy();
    expect(api.callsOf('chat.postMessage')).toHaveLength(0); // the ack waited on no API call
  });

  it("threads an entity's second change under its first message in a subscribed channel", async () => {
    const sub = await gw.call('POST', '/api/v1/subscriptions', { channel: 'slack', address: 'CTHREADS1', domains: ['todos'] });
    expect(sub.status).toBe(201);
    const created = await gw.call('POST', '/api/v1/todos', { content: 'Thread me' });
    const first = await api.until(() => api.callsOf('chat.postMessage').find((c) => c.args.channel === 'CTHREADS1' && blockText(c.args).includes('Thread me')), 'the first post');
    expect(first.args.thread_ts).toBeUndefined();
    expect(first.token).toBe(BOT_TOKEN);
    const rootTs = api.callsOf('chat.postMessage').indexOf(first);
    expect((await gw.call('GET', `/api/v1/todos/${created.json.chittyId}`)).status).toBe(200);
    await gw.call('PUT', `/api/v1/todos/${created.json.chittyId}`, { status: 'completed' });
    const second = await api.until(
      () =>
        api
          .callsOf('chat.postMessage')
          .slice(rootTs + 1)
          .find((c) => c.args.channel === 'CTHREADS1'),
      'the second post',
    );
    // the fake answers chat.postMessage with ts = 1700000000 + n; the first post's ts is the thread root
    const firstTs = await eventually(async () => {
      const rows = (await gw.database.db.execute(`select root_message_id from channel_threads where entity_id = '${created.json.chittyId}'`)) as any;
      return (rows.rows ?? rows)[0]?.root_message_id as string | undefined;
    }, 'the thread root');
    expect(second.args.thread_ts).toBe(firstTs);
    await gw.call('DELETE', `/api/v1/subscriptions/${sub.json.id}`);
  });

  it('waits Retry-After on a 429 from chat.postMessage: the pipeline retries, the WebClient does not', async () => {
    const sub = await gw.call('POST', '/api/v1/subscriptions', { channel: 'slack', address: 'CLIMITED1', domains: ['todos'] });
    api.fail('chat.postMessage', { rateLimit: 2, channel: 'CLIMITED1' });
    const before = api.callsOf('chat.postMessage').length;
    await gw.call('POST', '/api/v1/todos', { content: 'Rate limited once' });
    const ok = await api.until(
      () => {
        const calls = api
          .callsOf('chat.postMessage')
          .slice(before)
          .filter((c) => c.args.channel === 'CLIMITED1');
        return calls.length >= 2 ? calls : undefined;
      },
      'the retried post',
      20_000,
    );
    const gap = ok[1]!.at - ok[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(1900); // Retry-After: 2 (seconds), give the clock 100 ms
    expect(blockText(ok[1]!.args)).toMatch(/Rate limited once/);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      api
        .callsOf('chat.postMessage')
        .slice(before)
        .filter((c) => c.args.channel === 'CLIMITED1'),
    ).toHaveLength(2);
    await gw.call('DELETE', `/api/v1/subscriptions/${sub.json.id}`);
  });

  it('acks at once with an empty 200 when the core is slow, and answers through response_url', async () => {
    const core = gw.core;
    const submit = core.submit.bind(core);
    core.submit = async (m) => {
      const s = await submit(m);
      return {
        ...s,
        answer: s.answer.then(async (x) => {
          await new Promise((r) => setTimeout(r, 2600));
          return x;
        }),
      };
    };
    try {
      const t0 = performance.now();
      const r = await send(slash(api, '/todo', 'add Slow answer', 'trig-slow'));
      const ms = performance.now() - t0;
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
      expect(ms).toBeLessThan(3000);
      expect(await todoNamed('Slow answer')).toBeDefined(); // recorded and run before the answer went out
      const late = await api.until(() => api.responses.find((x) => x.id === 'trig-slow'), 'the response_url answer');
      expect(late.body.response_type).toBe('ephemeral');
      expect(blockText(late.body)).toMatch(/Slow answer/);
    } finally {
      core.submit = submit;
    }
  });

  it('answers an app_mention with chat.postMessage in its thread, and runs the duplicate message event once', async () => {
    const ts = '1700000200.000100';
    const ev = { channel: CHANNEL, user: MEMBER, text: `<@${api.botUserId}> todo add Mentioned once`, ts, thread_ts: '1700000199.000001', event_ts: ts };
    const a = await send(eventReq({ type: 'app_mention', ...ev }, 'EvMENTION1'));
    const b = await send(eventReq({ type: 'message', channel_type: 'channel', ...ev }, 'EvMESSAGE1'));
    const retry = await send(eventReq({ type: 'app_mention', ...ev }, 'EvMENTION1', { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }));
    for (const r of [a, b, retry]) expect([r.status, r.text]).toEqual([200, '']);
    const post = await api.until(() => api.callsOf('chat.postMessage').find((c) => c.args.channel === CHANNEL && blockText(c.args).includes('Mentioned once')), 'the answer to the mention');
    expect(post.args.thread_ts).toBe('1700000199.000001');
    await new Promise((r) => setTimeout(r, 300));
    const todos = ((await gw.call('GET', '/api/v1/todos?limit=1000')).json.items as any[]).filter((t) => t.content === 'Mentioned once');
    expect(todos).toHaveLength(1);
    expect(api.callsOf('chat.postMessage').filter((c) => c.args.channel === CHANNEL && blockText(c.args).includes('Mentioned once'))).toHaveLength(1);
  });

  it('a DM runs as a command and the bot answers in the DM', async () => {
    const r = await send(eventReq({ type: 'message', channel_type: 'im', channel: 'DDIRECT01', user: MEMBER, text: 'todo add From a DM', ts: '1700000300.000001' }, 'EvDM1'));
    expect(r.status).toBe(200);
    const post = await api.until(() => api.callsOf('chat.postMessage').find((c) => c.args.channel === 'DDIRECT01'), 'the DM answer');
    expect(blockText(post.args)).toMatch(/From a DM/);
  });

  it('two people in one channel each act on their own list: slash answers are private, so is `done 2`', async () => {
    const CH = 'CSHARED01';
    for (const [project, items] of [
      ['Ann Plans', ['Ann first', 'Ann second']],
      ['Bob Plans', ['Bob first', 'Bob second']],
    ] as const) {
      expect((await gw.call('POST', '/api/v1/projects', { name: project })).status).toBe(201);
      for (const item of items) expect((await send(slash(api, '/todo', `add ${item} --project "${project}"`, `trig-${item}`, CH))).status).toBe(200);
    }
    expect((await send(slash(api, '/todo', 'list --project "Ann Plans"', 'trig-ann-list', CH, MEMBER))).text).toContain('Ann second');
    expect((await send(slash(api, '/todo', 'list --project "Bob Plans"', 'trig-bob-list', CH, MEMBER2))).text).toContain('Bob second');
    // Ann's "done 2" is about the list Ann saw, though Bob listed his in the same channel since.
    expect((await send(slash(api, '/todo', 'done 2', 'trig-ann-done', CH, MEMBER))).status).toBe(200);
    expect((await todoNamed('Ann second')).status).toBe('completed');
    expect((await todoNamed('Bob second')).status).toBe('pending');
  });

  it('pages a long list with a More button that replaces the message it is on', async () => {
    const CH = 'CPAGING01';
    for (let i = 0; i < 200; i++) await gw.call('POST', '/api/v1/todos', { content: `Paging item ${String(i).padStart(3, '0')} ${'x'.repeat(60)}` });
    const r = await send(slash(api, '/todo', 'list', 'trig-list', CH));
    const page1 = JSON.parse(r.text);
    const chars1 = JSON.stringify(page1.blocks).length;
    expect(chars1).toBeLessThan(12_000 + 4000); // JSON overhead around at most SLACK_MESSAGE_BLOCKS_TEXT characters of text
    const more = page1.blocks.flatMap((b: any) => (b.type === 'actions' ? b.elements : [])).find((e: any) => e.value === 'more');
    expect(more).toBeDefined();
    await send(actionReq(api, more.value, 'trig-more', CH));
    const replaced = await api.until(() => api.responses.find((x) => x.id === 'trig-more'), 'the More answer');
    expect(replaced.body.replace_original).toBe(true);
    const shown1: string[] = blockText(page1).match(/Paging item \d{3}/g) ?? [];
    const shown2: string[] = blockText(replaced.body).match(/Paging item \d{3}/g) ?? [];
    expect(shown2.length).toBeGreaterThan(0);
    expect(shown2.filter((x) => shown1.includes(x))).toEqual([]);
  }, 120_000);
});
