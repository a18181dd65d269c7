/**
 * Slack multi-workspace install (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET / SLACK_STATE_SECRET, no
 * SLACK_BOT_TOKEN) through the gateway: `/slack/install` links to Slack's authorize page with a
 * signed state kept in that browser's cookie, `/slack/oauth_redirect` exchanges the code with
 * `oauth.v2.access` on the loopback fake and stores the installation, and the stored bot token is
 * the one fan-out and answers use for that workspace. A forged or missing state, or a state brought
 * by another browser (OAuth CSRF), stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db.ts';
import { sendPlatform } from '../contract/channel-contract.ts';
import { FakeSlackApi } from '../fakes/slack-api.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { signedSlack, slashBody } from '../support/slack.ts';

const SECRET = 'test-slack-signing-secret';
const TEAM = 'TINSTALL1';
const MEMBER = 'UMEMBER01';
const CLIENT_ID = '1234567890.0987654321';

let gw: TestGateway;
let api: FakeSlackApi;
beforeAll(async () => {
  api = await new FakeSlackApi({ teamId: TEAM }).start();
  gw = await startTestGateway('pglite', {
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_CLIENT_ID: CLIENT_ID,
    SLACK_CLIENT_SECRET: 'test-slack-client-secret',
    SLACK_STATE_SECRET: 'test-slack-state-secret-0123456789',
    SLACK_API_URL: api.apiUrl,
    CHITTY_ALLOWLIST: `slack:${TEAM}:${MEMBER}`,
  });
});
afterAll(async () => {
  await gw?.close();
  await api?.stop();
});

const installations = async () => rowsOf<{ n: number }>(await gw.database.db.execute(sql`select count(*)::int as n from slack_installations`))[0]!.n;

/** The install as a browser starts it: the authorize URL the page links to, and the state cookie it set. */
async function startInstall(): Promise<{ url: URL; cookie: string }> {
  const page = await gw.call('GET', '/slack/install', undefined, { token: null });
  expect(page.status).toBe(200);
  const href = /href="([^"]+)"/.exec(page.text)?.[1];
  expect(href, page.text).toBeDefined();
  const setCookie = page.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(/HttpOnly/i);
  return { url: new URL(href!.replaceAll('&#38;', '&')), cookie: setCookie.split(';')[0]! };
}

/** The browser coming back from Slack with `code` and `state`, carrying `cookie`. */
const callback = (code: string, state: string | undefined, cookie?: string) =>
  gw.call('GET', `/slack/oauth_redirect?code=${code}${state === undefined ? '' : `&state=${encodeURIComponent(state)}`}`, undefined, { token: null, ...(cookie ? { headers: { cookie } } : {}) });

describe('slack: multi-workspace install', () => {
  it('links to Slack with our client id, the bot scopes and a signed state', async () => {
    const { url } = await startInstall();
    expect(url.origin + url.pathname).toBe('https://slack.com/oauth/v2/authorize');
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(url.searchParams.get('scope')?.split(',')).toEqual(expect.arrayContaining(['commands', 'chat:write']));
    expect(url.searchParams.get('state')).toBeTruthy();
  });

  it('refuses a forged or missing state, and a state brought by another browser, and stores nothing', async () => {
    expect((await callback('stolen', 'not-a-state')).status).toBe(400);
    expect((await callback('stolen', undefined)).status).toBe(400);
    const victim = await startInstall();
    const attacker = await startInstall();
    const state = victim.url.searchParams.get('state')!;
    expect((await callback('stolen', state)).status).toBe(400); // no cookie
    expect((await callback('stolen', state, attacker.cookie)).status).toBe(400); // another browser's cookie
    expect(api.callsOf('oauth.v2.access')).toHaveLength(0);
    expect(await installations()).toBe(0);
  });

  it('exchanges the code, stores the installation, and uses its bot token for that workspace', async () => {
    const { url, cookie } = await startInstall();
    const done = await callback('good1', url.searchParams.get('state')!, cookie);
    expect(done.status, done.text).toBe(200);
    expect(done.headers.get('set-cookie')).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i); // the state cookie is deleted
    expect(done.text).toContain('installed');
    const exchange = api.callsOf('oauth.v2.access');
    expect(exchange).toHaveLength(1);
    expect(exchange[0]!.args.code).toBe('good1');
    expect(await installations()).toBe(1);

    // Fan-out to a channel of the installed workspace goes out with the installation's token.
    const sub = await gw.call('POST', '/api/v1/subscriptions', { channel: 'slack', address: `${TEAM}:CINSTALL1`, domains: ['todos'] });
    expect(sub.status, sub.text).toBe(201);
    await gw.call('POST', '/api/v1/todos', { content: 'Installed and posting' });
    const post = await api.until(() => api.callsOf('chat.postMessage').find((c) => c.args.channel === 'CINSTALL1'), 'the fan-out post', 30_000);
    expect(post.token).toBe('xoxb-installed-good1');

    // A slash command from that workspace is answered.
    const body = slashBody({ command: '/todo', text: 'list', teamId: TEAM, userId: MEMBER, channelId: 'CINSTALL1', responseUrl: api.responseUrl('oauth-1'), triggerId: 'trig-oauth-1' });
    const r = await sendPlatform(gw, { path: '/slack/events', headers: signedSlack(SECRET, body, 'application/x-www-form-urlencoded'), body });
    expect(r.status).toBe(200);
    expect(r.text).toContain('Installed and posting');
  });
});
