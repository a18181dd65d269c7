/**
 * The web page in Debian's Chromium (playwright-core): sign in, subscriptions added in the page,
 * a todo added in the chat box reaches a subscribed webhook, a todo added through the API shows
 * live, a todo's time travel, a conflict resolved, a dead letter retried, a pairing approved, sign
 * out. A screenshot of every page, at desktop width and at 360 px, goes to test-output/screenshots/.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/hub/hlc.ts';
import { CHROMIUM, hasChromium, launchChromium } from '../support/browser.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const SHOTS = path.resolve('test-output/screenshots');
/** Upper bound for a page event (not a speed assertion: the wait ends as soon as the event happens). */
const WAIT = 20_000;

if (!hasChromium) console.warn(`[web browser test] skipped: no Chromium at ${CHROMIUM}. Install it with: apt-get update && apt-get install -y chromium`);

function replicaEdit(node: string, entityId: string, vclock: Record<string, number>, content: string) {
  const wallMs = Date.now();
  return {
    id: `${node}-${Math.random().toString(36).slice(2)}`,
    type: 'state_update',
    source: { nodeId: node, platform: 'replica' },
    payload: { domain: 'todos', operation: 'update', entity: { chittyId: entityId, data: { content } } },
    metadata: { timestamp: new Date(wallMs).toISOString(), vectorClock: vclock, hlc: formatHlc({ wallMs, counter: 0, node }) },
  };
}

describe.skipIf(!hasChromium)('web page in Chromium', () => {
  let gw: TestGateway;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let good: WebhookReceiver;
  let flaky: WebhookReceiver;
  const shots: string[] = [];

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    gw = await startTestGateway('pglite', { CHITTY_DELIVERY_ATTEMPTS: '1', CHITTY_DIGEST_WINDOW_MS: '50', CHITTY_WEBHOOK_ALLOW_PRIVATE: 'true' }, { pipeline: { relayPollMs: 50 } });
    good = await startWebhookReceiver({ secret: 'test-webhook-secret' });
    // The first request fails (a dead letter: one attempt allowed), later ones succeed.
    flaky = await startWebhookReceiver({ secret: 'test-webhook-secret', script: (r) => (r.n === 1 ? { status: 500 } : undefined) });
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await good?.close();
    await flaky?.close();
    await gw?.close();
  });

  /** Opens a page of the app by its hash and waits until it has drawn. */
  async function open(name: string, arg = '') {
    await page.evaluate(`location.hash = ${JSON.stringify(arg ? `${name}/${encodeURIComponent(arg)}` : name)}`);
    await page.locator(`main[data-page="${name}"][data-ready="true"]`).waitFor({ timeout: WAIT });
  }
  async function shot(name: string) {
    await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
    shots.push(name);
  }

  it('signs in with the token through the form; the cookie is HttpOnly and SameSite=Strict and the URL never holds the token', async () => {
    await page.goto(`${gw.url}/`);
    await page.getByLabel('API token').waitFor({ timeout: WAIT });
    await shot('signin');
    await page.getByLabel('API token').fill('wrong-token-123456');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That is not the API token.' }).waitFor({ timeout: WAIT });
    await page.getByLabel('API token').fill(TEST_TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('main[data-page="projects"][data-ready="true"]').waitFor({ timeout: WAIT });
    await page.locator('#live[data-state="live"]').waitFor({ timeout: WAIT });
    expect(page.url()).not.toContain(TEST_TOKEN);
    const cookies = await browser.context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'chitty_session', httpOnly: true, sameSite: 'Strict', secure: false, path: '/' })]);
    expect(cookies[0]!.value).not.toContain(TEST_TOKEN);
  });

  it('adds, pauses and resumes subscriptions in the page', async () => {
    await open('subscriptions');
    for (const r of [good, flaky]) {
      await page.getByLabel('Channel').selectOption('webhook');
      await page.getByLabel('Address').fill(r.url);
      await page.getByRole('checkbox', { name: 'todos' }).check();
      await page.getByRole('button', { name: 'Subscribe' }).click();
      await page.locator('#subscriptions li', { hasText: r.url }).waitFor({ timeout: WAIT });
    }
    const row = page.locator('#subscriptions li', { hasText: good.url });
    await row.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#subscriptions li[data-paused="true"]', { hasText: good.url }).waitFor({ timeout: WAIT });
    await shot('subscriptions');
    expect((await gw.call('GET', '/api/v1/subscriptions')).json.items.find((s: { address: string }) => s.address === good.url).paused).toBe(true);
    await row.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#subscriptions li[data-paused="false"]', { hasText: good.url }).waitFor({ timeout: WAIT });
  });

  it('adds a todo in the chat box: the text reply shows and the subscribed webhook gets it', async () => {
    await open('chat');
    await page.getByLabel('Message').fill('todo add Buy milk');
    await page.keyboard.press('Enter');
    await page.locator('#chat-log pre', { hasText: 'Buy milk' }).waitFor({ timeout: WAIT });
    await page.getByLabel('Message').fill('todo list');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#chat-log li').nth(1).locator('pre', { hasText: '[ ] Buy milk' }).waitFor({ timeout: WAIT });
    await shot('chat');
    const todo = (await gw.call('GET', '/api/v1/todos')).json.items.find((t: { content: string }) => t.content === 'Buy milk');
    expect(todo).toBeDefined();
    await good.waitFor(() => good.received.some((r) => r.status === 200 && r.messages.some((m) => m.payload.entity.chittyId === todo.chittyId)), WAIT);
  });

  it('shows a todo added through the API live, without a reload', async () => {
    await open('projects');
    const marker = await page.evaluate('window.marker = Math.random()');
    const p = (await gw.call('POST', '/api/v1/projects', { name: 'Home' })).json;
    await gw.call('POST', '/api/v1/todos', { content: 'Added through the API', projectId: p.chittyId });
    await page.locator('#todos li', { hasText: 'Added through the API' }).waitFor({ timeout: WAIT });
    await page.locator('#project-filter option', { hasText: 'Home' }).waitFor({ state: 'attached', timeout: WAIT });
    expect(await page.evaluate('window.marker')).toBe(marker); // same document: no reload
    await shot('projects');
  });

  it('resolves a conflict with the version chosen in the page', async () => {
    const t = (await gw.call('POST', '/api/v1/todos', { content: 'Original wording' })).json;
    const base = (await gw.call('GET', `/api/v1/sync/todos/${t.chittyId}/status`)).json.vectorClock;
    await gw.call('POST', '/api/v1/sync/todos', {
      messages: [replicaEdit('laptop', t.chittyId, { ...base, laptop: 1 }, 'Laptop wording'), replicaEdit('phone', t.chittyId, { ...base, phone: 1 }, 'Phone wording')],
    });
    await open('conflicts');
    const card = page.locator('.conflict', { hasText: t.chittyId });
    await card.waitFor({ timeout: WAIT });
    expect(await card.locator('.version pre').allTextContents()).toEqual(expect.arrayContaining(['Laptop wording', 'Phone wording']));
    await shot('conflicts');
    await card.locator('.version', { hasText: 'Phone wording' }).getByRole('button').click();
    await card.waitFor({ state: 'detached', timeout: WAIT });
    expect((await gw.call('GET', `/api/v1/todos/${t.chittyId}`)).json.content).toBe('Phone wording');
    expect((await gw.call('GET', '/api/v1/sync/conflicts')).json.items.filter((c: { entityId: string }) => c.entityId === t.chittyId)).toEqual([]);

    // Its history, and its state before the conflict (time travel).
    await open('todo', t.chittyId);
    await page.locator('#history li').first().waitFor({ timeout: WAIT });
    await page.locator('#history li').first().getByRole('button', { name: 'State then' }).click();
    await page.locator('#at-result dd', { hasText: 'Original wording' }).waitFor({ timeout: WAIT });
    await shot('todo');
  });

  it('retries a dead letter from the deliveries page', async () => {
    await flaky.waitFor(() => flaky.count() >= 1, WAIT);
    // The ledger marks the row dead just after the receiver answers.
    await expect.poll(async () => (await gw.call('GET', '/api/v1/deliveries?status=dead')).json.items.length, { timeout: WAIT }).toBeGreaterThan(0);
    await open('deliveries');
    await page.getByLabel('Status').selectOption('dead');
    const dead = page.locator('#deliveries li[data-status="dead"]', { hasText: flaky.url }).first();
    await dead.waitFor({ timeout: WAIT });
    await shot('deliveries');
    await dead.getByRole('button', { name: 'Retry' }).click();
    await page.getByRole('status').filter({ hasText: 'sent again' }).waitFor({ timeout: WAIT });
    await flaky.waitFor(() => flaky.received.some((r) => r.status === 200), WAIT);
  });

  it('approves a pairing request', async () => {
    await gw.call('POST', '/api/v1/commands', { text: 'todo list', as: 'sms:+15557654321' });
    await open('pairing');
    const row = page.locator('#pairing li', { hasText: 'sms:+15557654321' });
    await row.waitFor({ timeout: WAIT });
    await shot('pairing');
    await row.getByRole('button').click();
    await page.getByRole('status').filter({ hasText: 'sms:+15557654321 is now' }).waitFor({ timeout: WAIT });
    expect((await gw.call('GET', '/api/v1/pairing')).json.items).toEqual([]);
  });

  it('fits 360 px wide: every page without sideways scrolling', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    const todo = (await gw.call('GET', '/api/v1/todos')).json.items[0].chittyId as string;
    for (const [name, arg] of [
      ['projects', ''],
      ['chat', ''],
      ['conflicts', ''],
      ['deliveries', ''],
      ['subscriptions', ''],
      ['pairing', ''],
      ['todo', todo],
    ] as const) {
      await open(name, arg);
      await page.screenshot({ path: path.join(SHOTS, `${name}-360.png`), fullPage: true });
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signs out: back to the form, the cookie gone, the API refuses', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor({ timeout: WAIT });
    expect(await browser.context.cookies()).toEqual([]);
    const status = await page.evaluate("fetch('/api/v1/todos').then((r) => r.status)");
    expect(status).toBe(401);
    expect(shots).toEqual(['signin', 'subscriptions', 'chat', 'projects', 'conflicts', 'todo', 'deliveries', 'pairing']);
  });
});
