/**
 * The email channel in the shared channel-adapter contract. A command is a reply mail (raw MIME)
 * to a notice's reply address `todo+<token>@EMAIL_REPLY_DOMAIN`, posted to `POST /email/inbound`
 * with `Authorization: Bearer <EMAIL_INBOUND_SECRET>` as a provider's inbound webhook does (the
 * SMTP listener path is email.test.ts). Answers and fan-out are caught by a loopback SMTP server.
 * The corpus is ../shared/corpus/email/eml, read at run time and readdressed to the harness's member.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { signReplyToken } from '../../bots/email/verify.ts';
import { type ContractHarness, type CorpusCase, describeChannelContract, eventually, type PlatformRequest } from '../contract/channel-contract.ts';
import { FakeSmtp } from '../fakes/smtp.ts';
import { startTestGateway } from '../support/gateway.ts';

const SECRET = 'contract-email-token-secret-0123456789';
const INBOUND = 'contract-inbound-secret';
const MEMBER = 'ann@example.com';
const SUBSCRIBER = 'bob@example.com';
const DOMAIN = 'reply.example.test';
const BOT = 'chitty@example.test';
const EML = path.resolve(import.meta.dirname, '../../../shared/corpus/email/eml');

const fake = new FakeSmtp();
/** The todo every command mail replies about (its token is in the To address). */
let todoId = '';

const token = (expiresAt = new Date(Date.now() + 3_600_000)) => signReplyToken(SECRET, todoId, MEMBER, expiresAt);
const messageIdOf = (id: string) => `<${id}@mail.example.com>`;

function inbound(raw: string, secret = INBOUND): PlatformRequest {
  return { path: '/email/inbound', headers: { authorization: `Bearer ${secret}`, 'content-type': 'message/rfc822' }, body: raw };
}

/** A reply as a mail client sends it: the command above the quoted notice. */
function replyMail(text: string, messageId: string, opts: { from?: string; to?: string } = {}): string {
  return [
    `From: Ann <${opts.from ?? MEMBER}>`,
    `To: ${opts.to ?? `todo+${token()}@${DOMAIN}`}`,
    `Subject: Re: [Todo] Contract`,
    `Message-ID: ${messageIdOf(messageId)}`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '',
    `On Tue, Jan 2, 2024 at 10:00 AM ChittyChat <${BOT}> wrote:`,
    '> Todo added: Contract',
    '',
  ].join('\r\n');
}

/** A corpus mail readdressed: From the member, To a valid reply address, a fresh Message-ID; the body untouched. */
function readdressed(raw: string, n: number): string {
  const cut = /\r?\n\r?\n/.exec(raw);
  const head = cut ? raw.slice(0, cut.index) : raw;
  const body = cut ? raw.slice(cut.index) : '';
  const kept = head
    .split(/\r?\n(?![ \t])/)
    .filter((h) => !/^(from|to|cc|message-id):/i.test(h))
    .join('\n');
  return `From: ${MEMBER}\nTo: todo+${token()}@${DOMAIN}\nMessage-ID: ${messageIdOf(`corpus-${n}-${Date.now()}`)}\n${kept}${body}`;
}

function corpus(): CorpusCase[] {
  if (!existsSync(EML)) {
    console.warn(`${EML} is absent: the email contract runs on one built-in reply only`);
    return [{ name: 'built-in reply', request: inbound(replyMail('help', `builtin-${Date.now()}`)), expect: 'message' }];
  }
  const cases: CorpusCase[] = [];
  for (const dir of readdirSync(EML, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(path.join(EML, dir.name)).filter((f) => f.endsWith('.eml'))) {
      const raw = readFileSync(path.join(EML, dir.name, file), 'utf8');
      const name = `${dir.name}/${file}`;
      // Bounces and delivery reports are dropped unanswered whoever they claim to be for.
      if (/^content-type:\s*multipart\/report/im.test(raw)) cases.push({ name, request: inbound(raw), expect: 'ignore' });
      // A person's reply ("Hello" above each client's quoting style): recorded and answered.
      else cases.push({ name, request: inbound(readdressed(raw, cases.length)), expect: 'message' });
    }
  }
  return cases;
}

/** The answers sent to the member in reply to the mail with this Message-ID. */
const answersTo = (messageId: string) => fake.to(MEMBER).filter((m) => m.inReplyTo === messageIdOf(messageId));

const harness: ContractHarness = {
  channel: 'email',
  async start() {
    await fake.start();
    const gw = await startTestGateway('pglite', {
      SMTP_URL: `smtp://127.0.0.1:${fake.port}`,
      EMAIL_FROM: `ChittyChat <${BOT}>`,
      EMAIL_REPLY_DOMAIN: DOMAIN,
      INBOUND_SMTP_PORT: 'off',
      EMAIL_INBOUND_SECRET: INBOUND,
      EMAIL_TOKEN_SECRET: SECRET,
      PUBLIC_URL: 'https://chitty.example.test',
      CHITTY_ALLOWLIST: `email:${MEMBER}`,
      CHITTY_DIGEST_WINDOW_MS: '100',
    });
    const created = await gw.call('POST', '/api/v1/todos', { content: 'Contract' });
    todoId = created.json.chittyId;
    return { gw };
  },
  async stop(ctx) {
    await ctx.gw.close();
    await fake.stop();
  },
  command: (text, messageId) => inbound(replyMail(text, messageId)),
  badSignature: (req) => ({ ...req, headers: { ...req.headers, authorization: 'Bearer not-the-inbound-secret' } }),
  // Email signs no timestamp; what goes stale is the reply address: a token past its expiry.
  stale: (text, messageId) => inbound(replyMail(text, messageId, { to: `todo+${token(new Date(Date.now() - 1000))}@${DOMAIN}` })),
  ownEcho: () => inbound(replyMail('todo add Echo of our own notice', `echo-${Date.now()}`, { from: BOT })),
  corpus,
  async answerOf(_ctx, response, messageId) {
    expect(JSON.parse(response.text)).toEqual({ ok: true });
    const m = await eventually(async () => answersTo(messageId)[0], `the email answer to ${messageId}`);
    return m.text ?? '';
  },
  async lateAnswers(_ctx, messageId) {
    return answersTo(messageId).length;
  },
  subscriber: SUBSCRIBER,
  async postsTo(_ctx, address) {
    return fake.to(address).map((m) => m.text ?? '');
  },
  assertNoMassPing(raw) {
    // Email has no mass mentions; the text part must still be plain text, never markup.
    expect(raw).not.toMatch(/<(script|a |img )/i);
  },
};

describeChannelContract(harness);
