/**
 * The email channel: threaded notices out through nodemailer (SMTP_URL), replies in through a
 * built-in SMTP listener (smtp-server, INBOUND_SMTP_PORT, default 2525) or `POST /email/inbound`
 * (raw MIME from a provider, `Authorization: Bearer <EMAIL_INBOUND_SECRET>`), one-click
 * unsubscribe at `POST /email/unsubscribe?t=…` (RFC 8058). On when SMTP_URL, EMAIL_FROM and
 * EMAIL_REPLY_DOMAIN are set. See the README, "Connect email".
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { CAPABILITIES } from '../../renderers/index.ts';
import { resolveSecret, tokenMatches } from '../../src/api/auth.ts';
import type { EmailConfig } from '../../src/channel-config.ts';
import { type ChannelAdapter, type InboundRequest, type ProtocolAnswer, type WebhookRoute, runningStatus } from '../../src/core/channel-adapter.ts';
import type { ConversationCore } from '../../src/core/conversation-core.ts';
import type { SubscriptionStore } from '../../src/core/subscription-store.ts';
import { get as getEntity } from '../../src/hub/reads.ts';
import type { Logger } from '../../src/log.ts';
import type { ChannelDeps } from '../index.ts';
import { decideInbound, type EmailRespond, type InboundContext, type InboundDecision } from './parse.ts';
import { EmailSender } from './send.ts';
import { tokenOfAddress, verifyReplyToken, verifyUnsubscribe } from './verify.ts';

/** File in DATA_DIR holding the generated reply-token secret (like the webhook secret). */
export const EMAIL_TOKEN_SECRET_FILE = 'email-token-secret';

const ACCEPTED: ProtocolAnswer = { status: 200, contentType: 'application/json', body: '{"ok":true}' };
const json = (status: number, body: unknown): ProtocolAnswer => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

export interface EmailChannelOptions {
  config: EmailConfig;
  tokenSecret: string;
  publicUrl: string | undefined;
  deps: Pick<ChannelDeps, 'core' | 'database' | 'threads' | 'logger'>;
}

export class EmailChannel implements ChannelAdapter {
  readonly channel = 'email' as const;
  readonly capabilities = CAPABILITIES.email;
  readonly routes: WebhookRoute<any>[];
  readonly sender: EmailSender;
  /** The port the SMTP listener is bound to (after `start`), e.g. when INBOUND_SMTP_PORT=0. */
  inboundPort: number | undefined;
  private server: SMTPServer | undefined;
  private readonly ctx: InboundContext;
  private readonly core: ConversationCore;
  private readonly logger: Logger;

  constructor(private readonly opts: EmailChannelOptions) {
    const { config, deps } = opts;
    this.core = deps.core;
    this.logger = deps.logger;
    this.sender = new EmailSender({
      smtpUrl: config.smtpUrl,
      from: config.from,
      replyDomain: config.replyDomain,
      tokenSecret: opts.tokenSecret,
      tokenTtlMs: config.tokenTtlMs,
      publicUrl: opts.publicUrl,
      threads: deps.threads,
      projectName: async (id) => {
        const project = await getEntity(deps.database.db, 'projects', id, { includeDeleted: true });
        return typeof project?.name === 'string' ? project.name : undefined;
      },
    });
    this.ctx = { db: deps.database.db, identities: deps.core.identities, threads: deps.threads, tokenSecret: opts.tokenSecret, replyDomain: config.replyDomain, ownAddress: config.fromAddress };
    this.routes = [...(config.inboundSecret ? [inboundRoute(config.inboundSecret, this.ctx, this.sender, deps.logger)] : []), unsubscribeRoute(opts.tokenSecret, deps.core.subscriptions, deps.logger)];
  }

  /** Start the SMTP listener (when INBOUND_SMTP_PORT is not `off`). */
  async start(): Promise<void> {
    const { config } = this.opts;
    if (config.inboundPort === undefined) return;
    const tls = config.tls ? { key: readFileSync(config.tls.keyFile), cert: readFileSync(config.tls.certFile) } : undefined;
    const server = new SMTPServer({
      name: config.replyDomain,
      banner: 'ChittyChat reply gateway',
      authOptional: true,
      disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      ...(tls ? tls : {}),
      size: config.maxMessageBytes,
      logger: false,
      onRcptTo: (address, _session, callback) => {
        const token = tokenOfAddress(address.address, config.replyDomain);
        if (token === undefined) return callback(smtpError(550, '5.1.1 No such mailbox here; reply to a ChittyChat notice'));
        if (token !== '') {
          const check = verifyReplyToken(this.opts.tokenSecret, token, new Date());
          if (!check.ok) return callback(smtpError(550, check.reason === 'expired' ? '5.7.1 This reply address has expired; reply to a newer notice' : '5.7.1 This reply address is not valid'));
        }
        callback();
      },
      onData: (stream, session, callback) => {
        this.receive(stream, { mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', rcptTo: session.envelope.rcptTo.map((r) => r.address) })
          .then(() => callback())
          .catch((err: Error & { responseCode?: number }) => callback(err));
      },
    });
    server.on('error', (err) => this.logger.warn({ err }, 'SMTP listener error'));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(config.inboundPort, config.inboundHost, () => resolve());
    });
    this.server = server;
    this.inboundPort = (server.server.address() as AddressInfo).port;
    this.logger.info({ port: this.inboundPort, starttls: Boolean(tls) }, 'email: SMTP listener ready');
  }

  /** One message from the listener: accepted (250) only once it is recorded, or refused with a 5xx. */
  private async receive(stream: SMTPServerDataStream, envelope: { mailFrom: string; rcptTo: string[] }): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    if (stream.sizeExceeded) throw smtpError(552, `5.3.4 Message too big: at most ${this.opts.config.maxMessageBytes} bytes`);
    const decision = await decideInbound(this.ctx, Buffer.concat(chunks), envelope, new Date());
    if (decision.kind === 'ignore') {
      this.logger.info({ reason: decision.reason, detail: decision.detail }, 'email: dropped without an answer');
      return;
    }
    if (decision.kind === 'refuse') {
      this.logger.info({ reason: decision.reason }, 'email: refused; nothing was recorded');
      throw smtpError(550, `5.7.1 ${decision.reason}`);
    }
    const { answer } = await this.core.submit(decision.message);
    void answer
      .then((r) => (r.duplicate ? undefined : this.sender.sendAnswer(decision.respond, r.reply)))
      .catch((err: unknown) => this.logger.error({ err, message: decision.message.providerMessageId }, 'email: could not send the answer; the command itself ran'));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.sender.close();
  }

  status() {
    return runningStatus(this, {
      from: this.opts.config.fromAddress,
      replyDomain: this.opts.config.replyDomain,
      smtpListener: this.inboundPort ?? (this.opts.config.inboundPort === undefined ? 'off' : 'starting'),
      starttls: this.opts.config.tls !== undefined,
    });
  }
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * `POST /email/inbound`: raw MIME (`message/rfc822` or any content type) forwarded by a provider,
 * with `Authorization: Bearer <EMAIL_INBOUND_SECRET>`. A wrong secret, a forged/expired/moved
 * token or a reply without one is 401, a sender not linked to the recipient 403 — nothing is
 * recorded; auto-replies, bounces and our own mail are 200 and dropped.
 */
export function inboundRoute(secret: string, ctx: InboundContext, sender: EmailSender, logger: Logger): WebhookRoute<EmailRespond> {
  const decided = new WeakMap<InboundRequest, InboundDecision>();
  return {
    method: 'POST',
    url: '/email/inbound',
    ackWithinMs: 10_000,
    async verify(req) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!tokenMatches(m?.[1], secret)) return { ok: false, reason: 'Authorization must be Bearer <EMAIL_INBOUND_SECRET>' };
      const d = await decideInbound(ctx, req.rawBody, undefined, req.receivedAt);
      decided.set(req, d);
      return d.kind === 'refuse' ? { ok: false, reason: d.reason, status: d.status } : { ok: true };
    },
    parse(req) {
      const d = decided.get(req);
      if (!d || d.kind === 'refuse') throw new Error('not verified');
      if (d.kind === 'ignore') {
        logger.info({ reason: d.reason, detail: d.detail }, 'email: dropped without an answer');
        return { kind: 'ignore', reason: d.reason, detail: d.detail };
      }
      return { kind: 'message', message: d.message, respond: d.respond };
    },
    alwaysLate: () => true,
    inline: () => ACCEPTED,
    deferred: () => ACCEPTED,
    async late(result, respond) {
      await sender.sendAnswer(respond, result.reply);
    },
  };
}

const PAGE = (text: string, form?: string) => `<!DOCTYPE html><html><body><p>${text}</p>${form ?? ''}</body></html>`;

/**
 * One-click unsubscribe (RFC 8058): `POST /email/unsubscribe?t=<signed address>` removes every
 * email subscription of that address. A GET only shows a button (link scanners must not unsubscribe).
 */
export function unsubscribeRoute(secret: string, subscriptions: SubscriptionStore, logger: Logger): WebhookRoute<undefined> {
  const addressOf = (req: InboundRequest): string | undefined => {
    const t = new URL(req.url, 'http://x').searchParams.get('t') ?? '';
    return verifyUnsubscribe(secret, t);
  };
  const route = (method: 'POST' | 'GET'): WebhookRoute<undefined> => ({
    method,
    url: '/email/unsubscribe',
    ackWithinMs: 5_000,
    verify: (req) => (addressOf(req) ? { ok: true } : { ok: false, reason: 'the unsubscribe link is not valid' }),
    async parse(req) {
      const address = addressOf(req)!;
      if (method === 'GET') {
        const t = new URL(req.url, 'http://x').searchParams.get('t') ?? '';
        return {
          kind: 'protocol',
          answer: {
            status: 200,
            contentType: 'text/html; charset=utf-8',
            body: PAGE(
              'Stop ChittyChat notices to this address?',
              `<form method="post" action="/email/unsubscribe?t=${encodeURIComponent(t)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button>Unsubscribe</button></form>`,
            ),
          },
        };
      }
      const removed = await subscriptions.removeFor({ channel: 'email', address });
      logger.info({ address, removed: removed.length }, 'email: one-click unsubscribe');
      return { kind: 'protocol', answer: json(200, { unsubscribed: address, removed: removed.length }) };
    },
    inline: () => ACCEPTED,
    deferred: () => ACCEPTED,
    late: async () => undefined,
  });
  return route('POST');
}

/** The registry's factory: the email channel when SMTP_URL, EMAIL_FROM and EMAIL_REPLY_DOMAIN are set. */
export async function createEmailChannel(deps: ChannelDeps): Promise<EmailChannel | undefined> {
  const { email, publicUrl } = deps.config;
  if (!email) return undefined;
  const secret = await resolveSecret(email.tokenSecret, email.dataDir, EMAIL_TOKEN_SECRET_FILE);
  if (!publicUrl) deps.logger.warn({}, 'email is on without PUBLIC_URL: List-Unsubscribe offers a mailto: instead of the one-click URL; set PUBLIC_URL');
  if (!email.inboundSecret) deps.logger.info({}, 'email: EMAIL_INBOUND_SECRET is unset, so POST /email/inbound is not mounted (the SMTP listener still is)');
  return new EmailChannel({ config: email, tokenSecret: secret.token, publicUrl, deps });
}
