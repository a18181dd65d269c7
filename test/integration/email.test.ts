/**
 * Email through the whole gateway: a real SMTP server on loopback (smtp-server) catches what the
 * gateway sends through SMTP_URL, and nodemailer sends replies into the gateway's own listener
 * (INBOUND_SMTP_PORT=0: a free port, read back from the channel). The done-when.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailChannel } from '../../bots/email/index.ts';
import { signReplyToken } from '../../bots/email/verify.ts';
import { eventually } from '../contract/channel-contract.ts';
import { FakeSlackApi } from '../fakes/slack-api.ts';
import { FakeSmtp, rawHeader as header } from '../fakes/smtp.ts';
import { signedSlack, slashBody } from '../support/slack.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const SECRET = 'test-email-token-secret-0123456789';
const INBOUND = 'test-inbound-secret';
const MEMBER = 'ann@example.com';
const STRANGER = 'mallory@example.com';
const CAROL = 'carol@example.com';
const SLACK_SECRET = 'test-slack-signing-secret';
const SLACK_TEAM = 'TFAKE0001';
const SLACK_MEMBER = 'UMEMBER01';
const DOMAIN = 'reply.example.test';
const BOT = 'chitty@example.test';
const BOUNCE = path.resolve(import.meta.dirname, '../../../shared/corpus/email/eml/mailparser/delivery-status.eml');

describe("email: the issue's done-when", () => {
  const fake = new FakeSmtp();
  const slack = new FakeSlackApi({ teamId: SLACK_TEAM });
  let gw: TestGateway;
  let port: number;
  let todoId: string;
  const send = (mail: SendMailOptions) => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }).sendMail(mail);
  const status = async () => (await gw.call('GET', `/api/v1/todos/${todoId}`)).json.status as string;

  beforeAll(async () => {
    await fake.start();
    await slack.start();
    gw = await startTestGateway('pglite', {
      SMTP_URL: `smtp://127.0.0.1:${fake.port}`,
      EMAIL_FROM: `ChittyChat <${BOT}>`,
      EMAIL_REPLY_DOMAIN: DOMAIN,
      INBOUND_SMTP_PORT: '0',
      INBOUND_SMTP_HOST: '127.0.0.1',
      EMAIL_INBOUND_SECRET: INBOUND,
      EMAIL_TOKEN_SECRET: SECRET,
      EMAIL_MAX_BYTES: '200000',
      PUBLIC_URL: 'https://chitty.example.test',
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_API_URL: slack.apiUrl,
      CHITTY_ALLOWLIST: `email:${MEMBER},slack:${SLACK_TEAM}:${SLACK_MEMBER}`,
      CHITTY_DIGEST_WINDOW_MS: '100',
    });
    port = (gw.channels.find((c) => c.channel === 'email') as EmailChannel).inboundPort!;
    expect(port).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await gw?.close();
    await fake.stop();
    await slack.stop();
  });

  it("a todo changed through the API reaches the subscriber in the todo's thread", async () => {
    expect((await gw.call('POST', '/api/v1/subscriptions', { channel: 'email', address: MEMBER, domains: ['todos'] })).status).toBe(201);
    const created = await gw.call('POST', '/api/v1/todos', { content: 'Write brief' });
    todoId = created.json.chittyId ?? created.json.id;
    const first = await eventually(async () => fake.to(MEMBER).find((m) => m.text?.includes('Write brief')), 'the first notice');
    expect(first.subject).toMatch(/\] Write brief$/);
    expect(first.html).toContain('Write brief');
    expect(header(first, 'auto-submitted')).toBe('auto-generated');
    expect(header(first, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(first.replyTo?.value[0]?.address).toMatch(new RegExp(`^todo\\+[0-9a-z]{56}@${DOMAIN.replaceAll('.', '\\.')}$`));
    await gw.call('PUT', `/api/v1/todos/${todoId}`, { status: 'completed' });
    const second = await eventually(async () => fake.to(MEMBER).find((m) => m !== first && m.inReplyTo), 'the second notice');
    expect(second.inReplyTo).toBe(first.messageId);
    expect(String(second.references)).toContain(first.messageId!);
    expect(second.subject).toBe(first.subject);
    // One-click unsubscribe works with the URL from the header (then subscribe again for the rest).
    const url = /<([^>]+)>/.exec(header(first, 'list-unsubscribe'))![1]!.replace('https://chitty.example.test', gw.url);
    const un = await fetch(url, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(un.status).toBe(200);
    expect((await gw.call('GET', '/api/v1/subscriptions')).json.items.filter((s: { channel: string }) => s.channel === 'email')).toHaveLength(0);
    expect((await fetch(url.replace(/t=[^&]+/, 't=forged.x'), { method: 'POST' })).status).toBe(401);
  });

  it('replying "start" from Gmail with the quoted history under it changes the todo, and the answer stays in the thread', async () => {
    const notice = fake.to(MEMBER)[0]!;
    const replyTo = notice.replyTo!.value[0]!.address!;
    const before = fake.to(MEMBER).length;
    await send({
      from: `Ann <${MEMBER}>`,
      to: replyTo,
      subject: `Re: ${notice.subject}`,
      inReplyTo: notice.messageId!,
      references: notice.messageId!,
      text: `start\n\nOn Tue, Jan 2, 2024 at 10:00 AM ChittyChat <${BOT}>\nwrote:\n\n> ${notice.text!.split('\n').join('\n> ')}\n`,
    });
    expect(await status()).toBe('in_progress');
    const answer = await eventually(async () => fake.to(MEMBER)[before], 'the answer by email');
    expect(answer.subject).toMatch(/^Re: /);
    expect(String(answer.references)).toContain(notice.messageId!);
    expect(header(answer, 'auto-submitted')).toBe('auto-replied');
  });

  it('a forged, expired or moved token, or an unlinked sender, changes nothing', async () => {
    const counts = await gw.counts();
    const good = signReplyToken(SECRET, todoId, MEMBER, new Date(Date.now() + 3_600_000));
    const forged = signReplyToken('another-secret-0123456789', todoId, MEMBER, new Date(Date.now() + 3_600_000));
    const expired = signReplyToken(SECRET, todoId, MEMBER, new Date(Date.now() - 1000));
    const moved = `${good.slice(0, 1)}${'0'.repeat(26)}${good.slice(27)}`;
    for (const t of [forged, expired, moved]) {
      await expect(send({ from: MEMBER, to: `todo+${t}@${DOMAIN}`, subject: 'x', text: 'done' })).rejects.toThrow(/550|reply address/);
    }
    await expect(send({ from: STRANGER, to: `todo+${good}@${DOMAIN}`, subject: 'x', text: 'done' })).rejects.toThrow(/550|not linked/);
    // The webhook refuses the same things, and a wrong secret.
    const raw = `From: ${MEMBER}\r\nTo: todo+${forged}@${DOMAIN}\r\nMessage-ID: <w1@example.com>\r\nSubject: x\r\n\r\ndone\r\n`;
    for (const t of [forged, expired, moved]) {
      const res = await fetch(`${gw.url}/email/inbound`, { method: 'POST', headers: { authorization: `Bearer ${INBOUND}`, 'content-type': 'message/rfc822' }, body: raw.replace(forged, t) });
      expect(res.status).toBe(401);
    }
    expect((await fetch(`${gw.url}/email/inbound`, { method: 'POST', headers: { authorization: 'Bearer wrong', 'content-type': 'message/rfc822' }, body: raw.replace(forged, good) })).status).toBe(
      401,
    );
    expect(await gw.counts()).toEqual(counts);
    expect(await status()).toBe('in_progress');
  });

  it('an out-of-office reply changes nothing and gets no answer; a bounce changes nothing', async () => {
    const counts = await gw.counts();
    const before = fake.mails.length;
    const token = signReplyToken(SECRET, todoId, MEMBER, new Date(Date.now() + 3_600_000));
    await send({ from: MEMBER, to: `todo+${token}@${DOMAIN}`, subject: 'Out of office', text: 'done', headers: { 'Auto-Submitted': 'auto-replied', 'X-Autoreply': 'yes' } });
    await send({ from: BOT, to: `todo+${token}@${DOMAIN}`, subject: 'loop', text: 'done' });
    if (existsSync(BOUNCE)) {
      const res = await fetch(`${gw.url}/email/inbound`, { method: 'POST', headers: { authorization: `Bearer ${INBOUND}`, 'content-type': 'message/rfc822' }, body: readFileSync(BOUNCE) });
      expect(res.status).toBe(200);
    } else console.warn(`${BOUNCE} is absent: the bounce case is skipped`);
    await new Promise((r) => setTimeout(r, 500));
    expect(await gw.counts()).toEqual(counts);
    expect(fake.mails.length).toBe(before);
  });

  it('a reply whose token was stripped is matched by its thread, for a linked sender only; a re-sent email runs once', async () => {
    const root = fake.to(MEMBER)[0]!.messageId!;
    const mail = { from: MEMBER, to: `todo@${DOMAIN}`, subject: 'Re: x', inReplyTo: root, references: root, messageId: '<again-1@example.com>', text: 'done' };
    await send(mail);
    expect(await status()).toBe('completed');
    const counts = await gw.counts();
    await send(mail);
    await new Promise((r) => setTimeout(r, 300));
    expect(await gw.counts()).toEqual(counts);
    await expect(send({ ...mail, from: STRANGER, messageId: '<again-2@example.com>' })).rejects.toThrow(/550/);
  });

  it('the subject tag is the project name, looked up when the change carries only the project id', async () => {
    const project = await gw.call('POST', '/api/v1/projects', { name: 'Alpha' });
    expect(project.status).toBe(201);
    expect((await gw.call('POST', '/api/v1/subscriptions', { channel: 'email', address: CAROL, domains: ['todos'] })).status).toBe(201);
    await gw.call('POST', '/api/v1/todos', { content: 'Write brief', projectId: project.json.chittyId });
    const notice = await eventually(async () => fake.to(CAROL).find((m) => m.text?.includes('Write brief')), 'the notice in project Alpha');
    expect(notice.subject).toBe('[Alpha] Write brief');
  });

  it('a reply "comment Looks good" adds a comment, and a subscriber is told "Ann commented: Looks good"', async () => {
    const token = signReplyToken(SECRET, todoId, MEMBER, new Date(Date.now() + 3_600_000));
    const seen = fake.to(CAROL).length;
    await send({
      from: `Ann <${MEMBER}>`,
      to: `todo+${token}@${DOMAIN}`,
      subject: 'Re: [Todo] Write brief',
      text: `comment Looks good,\nship it.\n\nOn Tue, Jan 2, 2024 at 10:00 AM ChittyChat <${BOT}> wrote:\n> Write brief\n`,
    });
    const todo = (await gw.call('GET', `/api/v1/todos/${todoId}`)).json;
    expect(todo.comments).toEqual([expect.objectContaining({ name: 'Ann', text: 'Looks good, ship it.' })]);
    const notice = await eventually(
      async () =>
        fake
          .to(CAROL)
          .slice(seen)
          .find((m) => m.text?.includes('commented')),
      'the comment notice',
    );
    expect(notice.text).toContain('Ann commented: Looks good, ship it.');
    expect(notice.html).toContain('Ann commented: Looks good, ship it.');
  });

  it("a todo changed in Slack reaches an email subscriber in the todo's thread", async () => {
    const thread = fake.to(CAROL).filter((m) => m.text?.includes('Write brief') && String(m.headers.get('x-chitty-entity')) === todoId);
    const root = thread[0]!;
    const body = slashBody({
      command: '/chitty',
      text: `todo reopen ${todoId}`,
      teamId: SLACK_TEAM,
      userId: SLACK_MEMBER,
      channelId: 'CCHAT0001',
      responseUrl: slack.responseUrl('reopen'),
      triggerId: 'reopen',
    });
    const r = await fetch(`${gw.url}/slack/events`, { method: 'POST', headers: signedSlack(SLACK_SECRET, body, 'application/x-www-form-urlencoded'), body });
    expect(r.status).toBe(200);
    await eventually(async () => ((await status()) === 'pending' ? true : undefined), 'the todo reopened from Slack');
    const notice = await eventually(async () => fake.to(CAROL).find((m) => !thread.includes(m) && m.text?.includes('reopened')), 'the email notice of the Slack change');
    expect(notice.inReplyTo).toBe(root.messageId);
    expect(notice.subject).toBe(root.subject);
    expect(notice.text).toMatch(/by slack/);
  });

  it('refuses a message over the size limit with 552', async () => {
    const token = signReplyToken(SECRET, todoId, MEMBER, new Date(Date.now() + 3_600_000));
    await expect(send({ from: MEMBER, to: `todo+${token}@${DOMAIN}`, subject: 'big', text: 'x'.repeat(300_000) })).rejects.toThrow(/552/);
  });
});
