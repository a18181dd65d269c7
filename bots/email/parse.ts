/**
 * One inbound email (raw MIME, from the SMTP listener or POST /email/inbound) → a decision:
 * a command to run for an entity, something to drop silently (auto-replies, bounces, our own
 * mail), or a refusal (bad token, a sender not linked to the recipient). Shared by both entries so
 * they refuse the same things the same way; nothing is recorded unless the decision is `message`.
 */
import { createHash } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import * as schema from '../../drizzle/schema.ts';
import { destinationKey } from '../../queues/names.ts';
import type { IdentityDirectory } from '../../src/core/identity-directory.ts';
import type { InboundMessage } from '../../src/core/inbound.ts';
import type { ThreadStore } from '../../src/core/thread-store.ts';
import type { Db } from '../../src/db.ts';
import type { EmailAnswerTarget } from './send.ts';
import { extractReply } from './reply-text.ts';
import { recipientHash, tokenOfAddress, verifyReplyToken } from './verify.ts';

export type EmailRespond = EmailAnswerTarget;

export type InboundDecision =
  | { kind: 'message'; message: InboundMessage; respond: EmailRespond }
  | { kind: 'ignore'; reason: 'own_echo' | 'bot_message' | 'empty' | 'unsupported'; detail: string }
  | { kind: 'refuse'; status: 401 | 403; reason: string };

export interface InboundContext {
  db: Db;
  identities: IdentityDirectory;
  threads: ThreadStore;
  tokenSecret: string;
  replyDomain: string;
  /** The bot's own address (lower case): mail from it is a loop. */
  ownAddress: string;
}

/** The SMTP envelope, when the mail came through the listener. */
export interface Envelope {
  mailFrom: string | undefined;
  rcptTo: string[];
}

/** Senders that are machines reporting on mail (bounces). */
const DAEMON = /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)$/i;

const lower = (s: string): string => s.trim().toLowerCase();
const addressesOf = (a: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(a) ? a : a ? [a] : [])
    .flatMap((o) => o.value)
    .map((v) => (v.address ? lower(v.address) : ''))
    .filter(Boolean);
const header = (mail: ParsedMail, name: string): string => {
  const v = mail.headers.get(name);
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && 'value' in v) return String((v as { value: unknown }).value);
  return String(v);
};

/** Why a mail is an automatic one (RFC 3834 and common practice), or undefined for a person's. */
export function automatic(mail: ParsedMail, envelope: Envelope | undefined): string | undefined {
  const auto = lower(header(mail, 'auto-submitted'));
  if (auto !== '' && auto !== 'no') return `Auto-Submitted: ${auto}`;
  const precedence = lower(header(mail, 'precedence'));
  if (/^(bulk|junk|list|auto_reply)$/.test(precedence)) return `Precedence: ${precedence}`;
  if (mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond') || (mail.headers.has('x-auto-response-suppress') && /oof|autoreply/i.test(header(mail, 'x-auto-response-suppress'))))
    return 'X-Autoreply / X-Autorespond';
  const ct = mail.headers.get('content-type') as { value?: string } | undefined;
  if (lower(ct?.value ?? '') === 'multipart/report') return 'multipart/report (a delivery or read report)';
  const from = addressesOf(mail.from)[0] ?? '';
  if (DAEMON.test(from.split('@')[0] ?? '')) return `from ${from}`;
  if (envelope && (envelope.mailFrom === undefined || envelope.mailFrom === '')) return 'empty envelope sender (<>): a bounce';
  return undefined;
}

/** Message-ids the mail answers: In-Reply-To first, then References. */
function answeredIds(mail: ParsedMail): string[] {
  const refs = Array.isArray(mail.references) ? mail.references : mail.references ? mail.references.split(/\s+/) : [];
  const irt = mail.inReplyTo ? mail.inReplyTo.split(/\s+/) : [];
  return [...new Set([...irt, ...refs].map((x) => /<[^<>\s]+>/.exec(x)?.[0]).filter((x): x is string => x !== undefined))];
}

/** Bare commands a reply may be, and the todo command each one means for the thread's entity. */
const ENTITY_VERBS = new Set(['done', 'start', 'block', 'reopen', 'delete']);
const ENTITY_VERBS_WITH_TEXT = new Set(['edit', 'assign']);

/**
 * The command a reply's text means for the entity: `done` → `todo done <id>`, `comment Looks
 * good` → `todo comment <id> Looks good` (a comment takes every line of the new text), else the
 * first line as written.
 */
export function commandFor(text: string, entityId: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines[0] ?? '';
  const stripped = line.replace(/^\/+/, '').replace(/[.!]+$/, '');
  if (!entityId.startsWith('CHITTY-TODO-')) return stripped;
  const [first = '', ...rest] = stripped.split(/\s+/);
  const verb = first.toLowerCase();
  if (ENTITY_VERBS.has(verb) && rest.length === 0) return `todo ${verb} ${entityId}`;
  if (ENTITY_VERBS_WITH_TEXT.has(verb) && rest.length > 0) return `todo ${verb} ${entityId} ${rest.join(' ')}`;
  if (verb === 'comment') {
    const said = [line.replace(/^\/*\S+\s*/, ''), ...lines.slice(1)].join(' ').trim();
    if (said !== '') return `todo comment ${entityId} ${said}`;
  }
  return stripped;
}

/** The person's plain text: text/plain, else the HTML's text. */
function plainText(mail: ParsedMail): string {
  if (mail.text && mail.text.trim() !== '') return mail.text;
  if (typeof mail.html === 'string') {
    return mail.html
      .replace(/<(blockquote|div class="gmail_quote")[\s\S]*$/i, '')
      .replace(/<br\s*\/?>|<\/p>|<\/div>/gi, '\n')
      .replace(/<[^>]+>/g, '')
      .replace(/&nbsp;/g, ' ')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
  }
  return '';
}

/** Addresses the sender may be answering for: itself, and every email identity of its person. */
async function candidateRecipients(ctx: InboundContext, sender: string): Promise<string[]> {
  const person = await ctx.identities.personOfIdentity(`email:${sender}`);
  const linked = person ? (await ctx.identities.identitiesOf(person.id)).filter((k) => k.startsWith('email:')).map((k) => k.slice(6)) : [];
  return [...new Set([sender, ...linked])];
}

export async function decideInbound(ctx: InboundContext, raw: Buffer, envelope: Envelope | undefined, receivedAt: Date): Promise<InboundDecision> {
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  const sender = addressesOf(mail.from)[0];
  if (!sender) return { kind: 'ignore', reason: 'unsupported', detail: 'no From address' };
  if (sender === ctx.ownAddress || (envelope?.mailFrom && lower(envelope.mailFrom) === ctx.ownAddress)) return { kind: 'ignore', reason: 'own_echo', detail: 'mail from our own address (a loop)' };
  const auto = automatic(mail, envelope);
  if (auto) return { kind: 'ignore', reason: 'bot_message', detail: `automatic mail: ${auto}` };

  const targets = [...(envelope?.rcptTo ?? []), ...['delivered-to', 'x-original-to'].flatMap((h) => header(mail, h).split(/[,\s]+/)), ...addressesOf(mail.to), ...addressesOf(mail.cc)]
    .map((a) => lower(a.replace(/^<|>$/g, '')))
    .filter(Boolean);
  const token = targets.map((a) => tokenOfAddress(a, ctx.replyDomain)).find((t) => t !== undefined && t !== '');
  const candidates = await candidateRecipients(ctx, sender);
  let entityId: string;
  let recipient: string | undefined;
  if (token !== undefined) {
    const check = verifyReplyToken(ctx.tokenSecret, token, receivedAt);
    if (!check.ok) return { kind: 'refuse', status: 401, reason: check.reason === 'expired' ? 'the reply address has expired: reply to a newer notice' : 'the reply address is not one we issued' };
    entityId = check.claims.entityId;
    recipient = candidates.find((c) => recipientHash(c) === check.claims.recipient);
  } else {
    // The token was stripped (a forwarder rewrote Reply-To): match our thread by its Message-IDs.
    const ids = answeredIds(mail);
    const t = schema.channelThreads;
    const rows =
      ids.length === 0
        ? []
        : await ctx.db
            .select({ destinationKey: t.destinationKey, entityId: t.entityId })
            .from(t)
            .where(and(eq(t.channel, 'email'), inArray(t.rootMessageId, ids)));
    if (rows.length === 0) return { kind: 'refuse', status: 401, reason: 'no reply token and no thread of ours: reply to a notice' };
    const match = rows.map((r) => ({ r, to: candidates.find((c) => destinationKey('email', c) === r.destinationKey) })).find((x) => x.to !== undefined);
    if (!match) return { kind: 'refuse', status: 403, reason: 'the sender is not linked to the recipient of that thread' };
    entityId = match.r.entityId;
    recipient = match.to;
  }
  if (!recipient) return { kind: 'refuse', status: 403, reason: 'the sender is not linked to the recipient of that reply address' };

  const text = extractReply(plainText(mail));
  if (text === '') return { kind: 'ignore', reason: 'empty', detail: 'no new text above the quoted history' };
  const root = await ctx.threads.root(destinationKey('email', recipient), entityId);
  const providerMessageId = mail.messageId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  const name = mail.from?.value[0]?.name?.trim();
  return {
    kind: 'message',
    message: {
      channel: 'email',
      address: recipient,
      thread: root ?? `entity:${entityId}`,
      sender: `email:${sender}`,
      ...(name ? { senderName: name.slice(0, 200) } : {}),
      text: commandFor(text, entityId).slice(0, 20_000),
      providerMessageId: providerMessageId.slice(0, 500),
      receivedAt,
    },
    respond: {
      to: sender,
      subject: mail.subject ?? '',
      inReplyTo: mail.messageId,
      references: [...(Array.isArray(mail.references) ? mail.references : mail.references ? mail.references.split(/\s+/) : []), ...(mail.messageId ? [mail.messageId] : [])],
      entityId,
    },
  };
}
