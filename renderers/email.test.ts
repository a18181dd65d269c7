import { describe, expect, it } from 'vitest';
import { EMAIL_MAX_REFERENCES, emailSubject, normalizeMessageId, RenderValidationError, renderEmail, threadRootId, validateEmail } from './index.ts';
import { shortOk } from './test-replies.ts';

describe('renderEmail threading', () => {
  it('answers the thread root when nothing is being replied to', () => {
    const { headers } = renderEmail(shortOk, { threadKey: 'todo-42' }, { messageId: 'm1@chittychat.local' });
    expect(headers).toEqual({
      'Message-ID': '<m1@chittychat.local>',
      'In-Reply-To': '<thread-todo-42@chittychat.local>',
      References: '<thread-todo-42@chittychat.local>',
    });
  });

  it('References = [root, ...ctx.references, inReplyTo] without duplicates; custom domain', () => {
    const { headers } = renderEmail(
      shortOk,
      { threadKey: 'k', messageIdDomain: 'mail.example.com', inReplyTo: '<c@x>', references: ['<thread-k@mail.example.com>', '<a@x>', 'b@x', '<a@x>'] },
      { messageId: '<m@mail.example.com>' },
    );
    expect(headers['In-Reply-To']).toBe('<c@x>');
    expect(headers.References).toBe('<thread-k@mail.example.com> <a@x> <b@x> <c@x>');
  });

  it('gives each message a fresh Message-ID, or the generated one', () => {
    const a = renderEmail(shortOk, { threadKey: 'k' }).headers['Message-ID'];
    const b = renderEmail(shortOk, { threadKey: 'k' }).headers['Message-ID'];
    expect(a).not.toBe(b);
    expect(a).toMatch(/^<[^<>\s@]+@chittychat\.local>$/);
    expect(renderEmail(shortOk, { messageIdDomain: 'ex.test' }, { generateId: () => 'fixed.1' }).headers['Message-ID']).toBe('<fixed.1@ex.test>');
  });

  it('without a thread key or reply target there is no In-Reply-To or References', () => {
    expect(renderEmail(shortOk, undefined, { messageId: 'x@y' }).headers).toEqual({ 'Message-ID': '<x@y>' });
  });

  it('makes thread keys and domains safe inside a Message-ID', () => {
    expect(threadRootId('a b<c>@d', 'Ex ample.COM\r\n')).toBe('<thread-a=20b=3cc=3e=40d@example.com>');
  });
});

describe('renderEmail content', () => {
  it('subject from the title, Re: when answering, never CR/LF, at most 200 characters', () => {
    expect(emailSubject(shortOk)).toBe('Todo added');
    expect(emailSubject(shortOk, { inReplyTo: '<a@b>' })).toBe('Re: Todo added');
    expect(emailSubject({ kind: 'ok', title: 'Re: hi' }, { inReplyTo: '<a@b>' })).toBe('Re: hi');
    expect(emailSubject({ kind: 'ok', title: 'a\r\nBcc: x@y\u2028z' })).toBe('a Bcc: x@y z');
    expect(emailSubject({ kind: 'ok', title: 'w '.repeat(300) }).length).toBeLessThanOrEqual(200);
    expect(emailSubject({ kind: 'ok', text: 'first line\nsecond' })).toBe('first line');
    expect(emailSubject({ kind: 'error' })).toBe('ChittyChat: Error');
  });

  it('text body ends with how to reply; html is escaped and has the same parts', () => {
    const e = renderEmail(shortOk, { threadKey: 'k' }, { messageId: 'm@x' });
    expect(e.text).toContain('2. [ ] Buy milk — Groceries');
    expect(e.text.trimEnd().endsWith('Reply to this email with a command, e.g. `done 2`.')).toBe(true);
    expect(e.html).toContain('<li><b>2.</b> Buy milk [todo] — <i>Groceries</i></li>');
    expect(e.html).toContain('Done: reply <code>done 2</code>');
    expect(renderEmail({ kind: 'ok' }, {}, { messageId: 'm@x' }).text).toContain('e.g. `done 2`.');
  });
});

describe('validateEmail', () => {
  it('rejects CR/LF in headers and overlong subjects', () => {
    const ok = { subject: 's', text: '', html: '', headers: { 'Message-ID': '<a@b>' } };
    expect(() => validateEmail(ok)).not.toThrow();
    expect(() => validateEmail({ ...ok, subject: 'a\r\nBcc: x' })).toThrow(RenderValidationError);
    expect(() => validateEmail({ ...ok, subject: 's'.repeat(201) })).toThrow(RenderValidationError);
    expect(() => validateEmail({ ...ok, headers: { 'Message-ID': '<a@b>\r\nX: y' } })).toThrow(RenderValidationError);
    expect(() => validateEmail({ ...ok, headers: { 'Message-ID': 'no-brackets' } })).toThrow(RenderValidationError);
  });
});

describe('email: Message-ids from outside are parsed, not scrubbed', () => {
  it('takes the <…> id and drops an RFC 5322 comment or a smuggled header', () => {
    expect(normalizeMessageId("<orig-3@mail.example> (Ann's message)")).toBe('<orig-3@mail.example>');
    expect(normalizeMessageId('<r3@x>\r\nX-Evil: 1')).toBe('<r3@x>');
    expect(normalizeMessageId('  bare-1@host  ')).toBe('<bare-1@host>');
    expect(normalizeMessageId('<has space@x>')).toBeUndefined();
    expect(normalizeMessageId('')).toBeUndefined();
  });
  it("threads on the parsed ids and keeps the thread's first id when References is trimmed", () => {
    const refs = Array.from({ length: 30 }, (_, i) => `<r${i}@x> (comment ${i})`);
    const out = renderEmail({ kind: 'info', text: 'hi' }, { inReplyTo: "<orig-3@mail.example> (Ann's message)", references: refs }, { messageId: '<m@x>' });
    expect(out.headers['In-Reply-To']).toBe('<orig-3@mail.example>');
    const list = out.headers.References!.split(' ');
    expect(list[0]).toBe('<r0@x>');
    expect(list.at(-1)).toBe('<orig-3@mail.example>');
    expect(list.length).toBeLessThanOrEqual(EMAIL_MAX_REFERENCES);
  });
});
