/**
 * Email renderer: subject, plain-text and HTML bodies, and threading headers. Every message of
 * a conversation answers the thread root `<thread-KEY@DOMAIN>` so clients group them.
 * {@link https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4}
 */
import type { RenderContext, Reply } from '../src/core/reply.ts';
import { RenderValidationError } from './errors.ts';
import { escapeHtml } from './escape.ts';
import { clean, isBlank, oneLine, truncate } from './fit.ts';
import { EMAIL_SUBJECT } from './limits.ts';
import { KIND_LABEL, STATUS_WORD } from './model.ts';
import { renderText } from './text.ts';

/** Threading headers, ready for nodemailer's `headers`/`messageId`/`inReplyTo`/`references`. */
export interface EmailHeaders {
  'Message-ID': string;
  'In-Reply-To'?: string;
  References?: string;
}

export interface EmailPayload {
  subject: string;
  text: string;
  html: string;
  headers: EmailHeaders;
}

export interface EmailRenderOptions {
  /** Message-ID to use (with or without `<>`); makes the output deterministic. */
  messageId?: string;
  /** Generates the local part of a fresh Message-ID when `messageId` is not given. */
  generateId?: () => string;
}

/** Domain of generated Message-IDs when the context gives none. */
export const DEFAULT_MESSAGE_ID_DOMAIN = 'chittychat.local';
/** Most References kept (root + the latest ones); long chains are trimmed in the middle. */
export const EMAIL_MAX_REFERENCES = 20;

let sequence = 0;
/** Default id: time + per-process counter + random part. Not cryptographic; unique enough for ids. */
function defaultId(): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${Date.now().toString(36)}.${sequence.toString(36)}.${Math.random().toString(36).slice(2, 10)}`;
}

const safeLocal = (text: string): string => text.replace(/[^A-Za-z0-9!#$%&'*+\-/?^_`{|}~.]/g, (c) => `=${c.codePointAt(0)?.toString(16) ?? ''}`);
const safeDomain = (text: string | undefined): string => {
  const d = (text ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '')
    .replace(/^[.-]+|[.-]+$/g, '');
  return d === '' ? DEFAULT_MESSAGE_ID_DOMAIN : d;
};

/** Longest Message-ID accepted from outside; longer ones are dropped (header lines stay short). */
export const EMAIL_MAX_ID = 250;

/**
 * Parses a Message-ID from outside: the first `<id-left@id-right>` is taken and the rest dropped
 * (an RFC 5322 comment like `(Ann's message)`, or a smuggled `\r\nX-Evil: 1`); an id written
 * without brackets is its first word. Ids with spaces, control characters or over
 * {@link EMAIL_MAX_ID} characters are refused (undefined).
 * {@link https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4}
 */
export function normalizeMessageId(id: string): string | undefined {
  const bracketed = /<([^<>]*)>/.exec(id);
  const bare = bracketed ? bracketed[1]!.trim() : (/^[\s]*([^\s<>()]+)/.exec(id)?.[1] ?? '');
  if (bare === '' || bare.length > EMAIL_MAX_ID || /[\s<>\p{Cc}]/u.test(bare)) return undefined;
  return `<${bare}>`;
}

/** The thread root id for a thread key: `<thread-KEY@DOMAIN>`. */
export function threadRootId(threadKey: string, domain?: string): string {
  return `<thread-${safeLocal(threadKey)}@${safeDomain(domain)}>`;
}

/** Subject on one line (no CR/LF: no header injection), at most {@link EMAIL_SUBJECT} characters. */
export function emailSubject(reply: Reply, ctx?: RenderContext): string {
  const base = oneLine(reply.title) || oneLine(clean(reply.text).split('\n')[0]) || `ChittyChat: ${KIND_LABEL[reply.kind]}`;
  const subject = ctx?.inReplyTo !== undefined && !/^re:/i.test(base) ? `Re: ${base}` : base;
  return truncate(subject.replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' '), EMAIL_SUBJECT);
}

/** Example command for the footer: the first action's command, else `done 2`. */
function exampleCommand(reply: Reply): string {
  const first = (reply.actions ?? []).find((a) => !isBlank(a.command));
  return first === undefined ? 'done 2' : oneLine(first.command);
}

function html(reply: Reply, example: string): string {
  const parts: string[] = [];
  if (!isBlank(reply.title)) parts.push(`<h2>${escapeHtml(oneLine(reply.title))}</h2>`);
  if (!isBlank(reply.text)) {
    for (const para of clean(reply.text)
      .trim()
      .split(/\n{2,}/))
      parts.push(`<p>${escapeHtml(para).replace(/\n/g, '<br>')}</p>`);
  }
  const fields = reply.fields ?? [];
  if (fields.length > 0) {
    const rows = fields.map((f) => `<tr><th align="left">${escapeHtml(oneLine(f.label))}</th><td>${escapeHtml(oneLine(f.value))}</td></tr>`);
    parts.push(`<table>${rows.join('')}</table>`);
  }
  const items = reply.items ?? [];
  if (items.length > 0) {
    const lis = items.map((i) => {
      const ref = isBlank(i.ref) ? '' : `<b>${escapeHtml(oneLine(i.ref))}.</b> `;
      const status = i.status === undefined ? '' : ` [${STATUS_WORD[i.status]}]`;
      const detail = isBlank(i.detail) ? '' : ` — <i>${escapeHtml(oneLine(i.detail))}</i>`;
      return `<li>${ref}${escapeHtml(oneLine(i.text))}${status}${detail}</li>`;
    });
    parts.push(`<ul>${lis.join('')}</ul>`);
  }
  const actions = reply.actions ?? [];
  if (actions.length > 0) {
    const lis = actions.map((a) => `<li>${escapeHtml(oneLine(a.label))}: reply <code>${escapeHtml(oneLine(a.command))}</code></li>`);
    parts.push(`<p>Actions:</p><ul>${lis.join('')}</ul>`);
  }
  if (!isBlank(reply.footer)) parts.push(`<p><small>${escapeHtml(oneLine(reply.footer))}</small></p>`);
  parts.push(`<p><small>Reply to this email with a command, e.g. <code>${escapeHtml(example)}</code>.</small></p>`);
  return `<!DOCTYPE html><html><body>${parts.join('\n')}</body></html>`;
}

/**
 * Renders a reply as an email. Message-ID is fresh per call unless `options.messageId` is given;
 * In-Reply-To is `ctx.inReplyTo` or the thread root; References is
 * [thread root, ...ctx.references, In-Reply-To] without duplicates.
 */
export function renderEmail(reply: Reply, ctx?: RenderContext, options?: EmailRenderOptions): EmailPayload {
  const domain = safeDomain(ctx?.messageIdDomain);
  const given = options?.messageId === undefined ? undefined : normalizeMessageId(options.messageId);
  const messageId = given ?? `<${safeLocal((options?.generateId ?? defaultId)())}@${domain}>`;
  const root = ctx?.threadKey === undefined || ctx.threadKey === '' ? undefined : threadRootId(ctx.threadKey, domain);
  const inReplyTo = (ctx?.inReplyTo === undefined ? undefined : normalizeMessageId(ctx.inReplyTo)) ?? root;
  const chain = [root, ...(ctx?.references ?? []).map(normalizeMessageId), inReplyTo].filter((id): id is string => id !== undefined && id !== messageId);
  let references = [...new Set(chain)];
  if (references.length > EMAIL_MAX_REFERENCES) references = [...references.slice(0, 1), ...references.slice(1 - EMAIL_MAX_REFERENCES)];

  const headers: EmailHeaders = { 'Message-ID': messageId };
  if (inReplyTo !== undefined) headers['In-Reply-To'] = inReplyTo;
  if (references.length > 0) headers.References = references.join(' ');

  const example = exampleCommand(reply);
  const body = renderText(reply) || KIND_LABEL[reply.kind];
  const payload: EmailPayload = {
    subject: emailSubject(reply, ctx),
    text: `${body}\n\n-- \nReply to this email with a command, e.g. \`${example}\`.\n`,
    html: html(reply, example),
    headers,
  };
  validateEmail(payload);
  return payload;
}

/** Checks subject length, and that no header carries CR/LF; throws {@link RenderValidationError}. */
export function validateEmail(payload: EmailPayload): void {
  if (payload.subject.trim() === '') throw new RenderValidationError('email', 'EMAIL_SUBJECT', 'subject is empty');
  if (payload.subject.length > EMAIL_SUBJECT) throw new RenderValidationError('email', 'EMAIL_SUBJECT', `subject has ${payload.subject.length} characters`);
  for (const [name, value] of Object.entries({ Subject: payload.subject, ...payload.headers })) {
    if (/[\r\n]/.test(value)) throw new RenderValidationError('email', 'header-injection', `${name} contains CR or LF`);
  }
  for (const [name, value] of Object.entries(payload.headers)) {
    if (!/^<[^<>\s]+>( <[^<>\s]+>)*$/.test(value)) throw new RenderValidationError('email', 'message-id', `${name} is not a list of <id>: ${value}`);
  }
}
