/**
 * The email side of fan-out and answers: a neutral reply → the email renderer (text + HTML) →
 * nodemailer over SMTP_URL. One thread per entity and subscriber: the first notice's Message-ID is
 * kept (channel_threads), later notices carry In-Reply-To + References to it, under a stable
 * subject (`[Alpha] Write brief`). Every notice has `Reply-To: todo+<token>@EMAIL_REPLY_DOMAIN`,
 * `List-Unsubscribe` + `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058) and
 * `Auto-Submitted: auto-generated` (RFC 3834).
 */
import { randomBytes } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { renderEmail } from '../../renderers/email.ts';
import { AuthError, type ChannelError, NetworkError, ServerError, ValidationError } from '../../src/core/channel-errors.ts';
import type { Reply } from '../../src/core/reply.ts';
import { entityLabel } from '../../src/sync/describe-change.ts';
import type { SyncMessage } from '../../src/sync/sync-message.ts';
import type { ThreadStore } from '../../src/core/thread-store.ts';
import type { DeliveryBatch } from '../../queues/senders.ts';
import { ChatSender, entityOf, type ChatPost, type ChatPosted } from '../shared/chat-sender.ts';
import { replyAddress, signReplyToken, signUnsubscribe } from './verify.ts';

export interface EmailSenderOptions {
  smtpUrl: string;
  from: string;
  replyDomain: string;
  tokenSecret: string;
  tokenTtlMs: number;
  /** PUBLIC_URL: the one-click unsubscribe URL is built on it; without it a mailto: is offered. */
  publicUrl: string | undefined;
  threads: ThreadStore | undefined;
  /** A project's name by id, for the subject tag when a change carries only `projectId`. */
  projectName?: (projectId: string) => Promise<string | undefined>;
  /** Clock (tests). */
  now?: () => Date;
}

/** What an answer to an inbound reply needs to stay in its thread. */
export interface EmailAnswerTarget {
  to: string;
  subject: string;
  /** Message-ID of the mail answered, and its References. */
  inReplyTo: string | undefined;
  references: string[];
  /** Entity and recipient of the next reply token (the conversation's). */
  entityId: string | undefined;
}

/** SMTP reply codes: 4xx is temporary, 5xx permanent (RFC 5321 §4.2.1). */
export function mapSmtpError(err: unknown): ChannelError {
  const e = err as { responseCode?: number; code?: string; message?: string; response?: string };
  const message = `email: ${e.response ?? e.message ?? String(err)}`.slice(0, 500);
  if (e.code === 'EAUTH') return new AuthError(message, 'email', { cause: err });
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return new ValidationError(message, 'email', { cause: err, status: e.responseCode });
    return new ServerError(message, 'email', { cause: err, status: e.responseCode });
  }
  return new NetworkError(message, 'email', { cause: err });
}

export class EmailSender extends ChatSender {
  readonly transport: Transporter;
  /** Subject and entity of the batch being sent, by batch id (set in `send`, read in `post`). */
  private readonly about = new Map<string, { subject: string; entityId: string | undefined }>();

  constructor(private readonly opts: EmailSenderOptions) {
    super('email', opts.threads);
    this.transport = nodemailer.createTransport(opts.smtpUrl);
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private domain(): string {
    return /@([^>\s]+)/.exec(this.opts.from)?.[1]?.toLowerCase() ?? this.opts.replyDomain;
  }

  /** A fresh Message-ID at the sending domain. */
  newMessageId(): string {
    return `<${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${this.domain()}>`;
  }

  /** The Reply-To of a notice or answer about an entity, for a recipient. */
  replyTo(entityId: string | undefined, recipient: string): string | undefined {
    if (!entityId) return undefined;
    try {
      return replyAddress(signReplyToken(this.opts.tokenSecret, entityId, recipient, new Date(this.now().getTime() + this.opts.tokenTtlMs)), this.opts.replyDomain);
    } catch {
      return undefined; // not an entity id a token can name (a digest)
    }
  }

  /** List-Unsubscribe headers for a recipient (RFC 2369 / RFC 8058 one-click). */
  unsubscribeHeaders(recipient: string): Record<string, string> {
    const token = signUnsubscribe(this.opts.tokenSecret, recipient);
    if (this.opts.publicUrl) {
      return {
        'List-Unsubscribe': `<${this.opts.publicUrl.replace(/\/+$/, '')}/email/unsubscribe?t=${token}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      };
    }
    return { 'List-Unsubscribe': `<mailto:${this.opts.from.replace(/^.*<|>.*$/g, '')}?subject=unsubscribe>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
  }

  override async send(batch: DeliveryBatch): Promise<{ providerMessageId: string | null; note?: string }> {
    const messages = batch.messagesJson.map((j) => JSON.parse(j) as SyncMessage);
    const entityId = entityOf(messages);
    this.about.set(batch.batchId, { subject: stableSubject(messages, await this.projectNameOf(messages)), entityId });
    try {
      return await super.send(batch);
    } finally {
      this.about.delete(batch.batchId);
    }
  }

  /** The name of the project a batch's entity is in, looked up when the change names only its id. */
  private async projectNameOf(messages: SyncMessage[]): Promise<string | undefined> {
    const data = (messages.at(-1)?.payload.entity.data ?? {}) as Record<string, unknown>;
    if (typeof data.projectName === 'string' || typeof data.projectId !== 'string' || !this.opts.projectName) return undefined;
    try {
      return await this.opts.projectName(data.projectId);
    } catch {
      return undefined; // the subject falls back to the entity type; the notice still goes out
    }
  }

  protected async post(p: ChatPost): Promise<ChatPosted> {
    const about = this.about.get(p.batchId);
    const root = p.thread && /^<[^<>\s]+>$/.test(p.thread) ? p.thread : undefined;
    const messageId = this.newMessageId();
    const rendered = renderEmail(p.reply, root ? { inReplyTo: root, references: [root] } : undefined, { messageId });
    const id = await this.deliver({
      to: p.address,
      subject: about?.subject ?? rendered.subject,
      text: rendered.text,
      html: rendered.html,
      messageId: rendered.headers['Message-ID'],
      inReplyTo: rendered.headers['In-Reply-To'],
      references: rendered.headers.References,
      replyTo: this.replyTo(about?.entityId, p.address),
      headers: { 'Auto-Submitted': 'auto-generated', ...this.unsubscribeHeaders(p.address), ...(about?.entityId ? { 'X-Chitty-Entity': about.entityId } : {}) },
    });
    return { providerMessageId: id, threadRoot: id };
  }

  /** The answer to an inbound reply, in the same thread (Auto-Submitted: auto-replied). */
  async sendAnswer(target: EmailAnswerTarget, reply: Reply): Promise<string> {
    const messageId = this.newMessageId();
    const rendered = renderEmail(reply, { ...(target.inReplyTo ? { inReplyTo: target.inReplyTo } : {}), references: target.references }, { messageId });
    const subject = /^re:/i.test(target.subject) ? target.subject : `Re: ${target.subject || rendered.subject}`;
    return this.deliver({
      to: target.to,
      subject: subject.replace(/[\r\n]+/g, ' ').slice(0, 200),
      text: rendered.text,
      html: rendered.html,
      messageId: rendered.headers['Message-ID'],
      inReplyTo: rendered.headers['In-Reply-To'],
      references: rendered.headers.References,
      replyTo: this.replyTo(target.entityId, target.to),
      headers: { 'Auto-Submitted': 'auto-replied', ...this.unsubscribeHeaders(target.to) },
    });
  }

  private async deliver(m: {
    to: string;
    subject: string;
    text: string;
    html: string;
    messageId: string;
    inReplyTo: string | undefined;
    references: string | undefined;
    replyTo: string | undefined;
    headers: Record<string, string>;
  }): Promise<string> {
    try {
      await this.transport.sendMail({
        from: this.opts.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId: m.messageId,
        ...(m.inReplyTo ? { inReplyTo: m.inReplyTo } : {}),
        ...(m.references ? { references: m.references } : {}),
        ...(m.replyTo ? { replyTo: m.replyTo } : {}),
        headers: m.headers,
      });
    } catch (err) {
      throw mapSmtpError(err);
    }
    return m.messageId;
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * `[Project] Title` of a single-entity batch: the same for every notice of the thread. The tag is
 * the project's name (from the change, else `projectName`, looked up by the sender), else the
 * entity type (`[Todo]`); never a project id.
 */
export function stableSubject(messages: SyncMessage[], projectName?: string): string {
  const last = messages.at(-1);
  if (!last) return 'ChittyChat';
  const data = (last.payload.entity.data ?? {}) as Record<string, unknown>;
  const label = entityLabel(data, last.payload.entity.chittyId).replace(/[\r\n\p{Cc}]+/gu, ' ');
  const project = [data.projectName, projectName, data.project].find((v): v is string => typeof v === 'string' && v.trim() !== '' && !/^CHITTY-PROJ-/.test(v));
  const tag = project ?? ({ todos: 'Todo', projects: 'Project', topics: 'Topic', sessions: 'Session' } as Record<string, string>)[last.payload.domain] ?? 'ChittyChat';
  return `[${tag
    .replace(/[\r\n\]\p{Cc}]+/gu, ' ')
    .trim()
    .slice(0, 60)}] ${label}`.slice(0, 200);
}
