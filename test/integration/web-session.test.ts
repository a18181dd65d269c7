/**
 * The web page's sign-in without a browser: the form, the session cookie's attributes, sign-out,
 * a wrong token, the API and /ws with the cookie, and CSRF refusals for cookie-authenticated writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';

describe('web page sign-in', () => {
  let gw: TestGateway;
  let cookie: string;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
  });
  afterAll(async () => gw?.close());

  const signIn = (token: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/web/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token }).toString(),
    });
  const withCookie = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, {
      method,
      redirect: 'manual',
      headers: { cookie, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  it('shows a sign-in form at / that posts the token in the body, never in a URL', async () => {
    const r = await fetch(`${gw.url}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await r.text();
    expect(html).toMatch(/<form method="post" action="\/web\/sign-in"/);
    expect(html).toMatch(/<label for="token">API token<\/label>\s*<input id="token" name="token" type="password"/);
    expect(html).not.toContain(TEST_TOKEN);
    expect(html).not.toMatch(/https?:\/\//); // nothing from another origin
  });

  it('refuses a wrong token: 401, the form again, no cookie', async () => {
    const r = await signIn('not-the-token');
    expect(r.status).toBe(401);
    expect(r.headers.get('set-cookie')).toBeNull();
    expect(await r.text()).toContain('That is not the API token.');
  });

  it('signs in with an HttpOnly, SameSite=Strict session cookie that is not the token, and redirects to / without it', async () => {
    const r = await signIn(TEST_TOKEN);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/');
    const set = r.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^chitty_session=v1\.\d+\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=604800$/);
    expect(set).not.toContain(TEST_TOKEN);
    expect(set).not.toMatch(/Secure/);
    cookie = set.split(';')[0]!;
    const page = await withCookie('GET', '/');
    const html = await page.text();
    expect(html).toContain('/web/static/app.js');
    expect(html).not.toContain(TEST_TOKEN);
  });

  it('marks the cookie Secure behind TLS (X-Forwarded-Proto: https)', async () => {
    const r = await signIn(TEST_TOKEN, { 'x-forwarded-proto': 'https' });
    expect(r.headers.get('set-cookie')).toMatch(/; HttpOnly; SameSite=Strict; Secure; Max-Age=/);
  });

  it('lets the cookie read the API but refuses a cookie write without the CSRF header or from another origin', async () => {
    expect((await withCookie('GET', '/api/v1/todos')).status).toBe(200);
    const before = await gw.counts();
    const noHeader = await withCookie('POST', '/api/v1/todos', { content: 'Forged' });
    expect(noHeader.status).toBe(403);
    expect(((await noHeader.json()) as { error: { code: string } }).error.code).toBe('csrf');
    const foreign = await withCookie('POST', '/api/v1/todos', { content: 'Forged' }, { 'x-chitty-csrf': '1', origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('cross_origin');
    expect(await gw.counts()).toEqual(before);
    const ok = await withCookie('POST', '/api/v1/todos', { content: 'From the page' }, { 'x-chitty-csrf': '1', origin: gw.url });
    expect(ok.status).toBe(201);
  });

  it('refuses a forged or tampered cookie like no token at all', async () => {
    const [name, value] = cookie.split('=') as [string, string];
    const tampered = `${name}=${value.replace(/\.\d+\./, '.9999999999.')}`;
    for (const c of [tampered, 'chitty_session=v1.9999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', `chitty_session=${TEST_TOKEN}`]) {
      expect((await fetch(`${gw.url}/api/v1/todos`, { headers: { cookie: c } })).status).toBe(401);
    }
  });

  it('runs the chat box as web:owner on channel web and answers with the text rendering', async () => {
    const r = await withCookie('POST', '/api/v1/web/commands', { text: 'todo add Water the plants' }, { 'x-chitty-csrf': '1' });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { command: string; text: string };
    expect(body.command).toBe('todo.add');
    expect(body.text).toContain('Water the plants');
    const todos = (await gw.call('GET', '/api/v1/todos')).json.items;
    expect(todos.map((t: { content: string }) => t.content)).toContain('Water the plants');
    const list = (await (await withCookie('POST', '/api/v1/web/commands', { text: 'todo list' }, { 'x-chitty-csrf': '1' })).json()) as { text: string };
    expect(list.text).toMatch(/\[ \] Water the plants/);
  });

  it('opens /ws with the cookie from our own origin only', async () => {
    const wsUrl = `${gw.url.replace('http', 'ws')}/ws`;
    const open = (headers: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(wsUrl, { headers });
        ws.on('message', (d) => {
          resolve(JSON.parse(String(d)).type);
          ws.close();
        });
        ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
        ws.on('error', () => undefined);
      });
    expect(await open({ cookie, origin: gw.url })).toBe('welcome');
    expect(await open({ cookie, origin: 'https://evil.example' })).toBe('http 403');
    expect(await open({ origin: gw.url })).toBe('http 401');
  });

  it('serves the page modules and nothing else from the static folder', async () => {
    const js = await fetch(`${gw.url}/web/static/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/text\/javascript/);
    for (const p of ['/web/static/page.ts', '/web/static/..%2Fpage.ts', '/web/static/nope.js']) expect((await fetch(`${gw.url}${p}`)).status).toBe(404);
  });

  it('signs out: the cookie is cleared', async () => {
    const r = await withCookie('POST', '/web/sign-out', undefined, { 'content-type': 'application/x-www-form-urlencoded', origin: gw.url });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/');
    expect(r.headers.get('set-cookie')).toMatch(/^chitty_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
    const page = await (await fetch(`${gw.url}/`, { headers: { cookie: 'chitty_session=' } })).text();
    expect(page).toContain('action="/web/sign-in"');
  });
});
