/** Reply extraction: a few cases by hand, then the 154 corpus cases (read from ../shared/corpus at run time). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crispReply, extractReply, normalizeReply } from './reply-text.ts';
import { recipientHash, signReplyToken, tokenOfAddress, verifyReplyToken, REPLY_TOKEN_LENGTH } from './verify.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus/email/cases.json');

describe('email reply text', () => {
  it('cuts a Gmail "On … wrote:" header wrapped over two lines and the quote under it', () => {
    expect(extractReply('start\n\nOn Tue, Jan 2, 2024 at 10:00 AM ChittyChat <\nchitty@example.com> wrote:\n\n> [Alpha] Write brief\n> Todo added\n')).toBe('start');
  });
  it('cuts an Outlook From/Sent block, -----Original Message----- and a signature', () => {
    expect(extractReply('done\r\n\r\n________________________________\r\nFrom: ChittyChat <chitty@example.com>\r\nSent: Tuesday\r\nTo: ann@example.com\r\nSubject: x\r\n')).toBe('done');
    expect(extractReply('done\n\n-----Original Message-----\nFrom: a@b\n')).toBe('done');
    expect(extractReply('done\n\n-- \nAnn\nACME')).toBe('done');
    expect(extractReply('done\n\nSent from my iPhone')).toBe('done');
    expect(extractReply('fertig\n\nAm 02.01.2024 um 10:00 schrieb ChittyChat <chitty@example.com>:\n> x')).toBe('fertig');
  });
  it.skipIf(!existsSync(CORPUS))('reproduces at least as many corpus cases as the best single parser (prints the pass rate)', () => {
    const cases = JSON.parse(readFileSync(CORPUS, 'utf8')) as { id: string; body: string; expected_reply: string }[];
    let ours = 0;
    let crisp = 0;
    for (const c of cases) {
      const expected = normalizeReply(c.expected_reply);
      if (extractReply(c.body) === expected) ours++;
      if (normalizeReply(crispReply(c.body)) === expected) crisp++;
    }
    console.log(`email reply-stripping: ${ours}/${cases.length} corpus cases (npm email-reply-parser 2.3.5 alone: ${crisp})`);
    expect(cases).toHaveLength(154);
    expect(ours).toBeGreaterThanOrEqual(125);
  });
  it.runIf(!existsSync(CORPUS))('corpus absent', () => console.warn(`${CORPUS} is absent: the corpus pass rate is not measured`));
});

describe('email reply tokens', () => {
  const id = 'CHITTY-TODO-01HZY3K8Q2N4V6W8X0Y2Z4A6B8';
  const now = new Date('2026-01-01T00:00:00Z');
  const later = new Date('2026-02-01T00:00:00Z');
  it('fits a local part, survives lower-casing and names the entity and the recipient', () => {
    const t = signReplyToken('s'.repeat(20), id, 'Ann@Example.com', later);
    expect(t).toHaveLength(REPLY_TOKEN_LENGTH);
    expect(`todo+${t}`.length).toBeLessThanOrEqual(64);
    const check = verifyReplyToken('s'.repeat(20), t.toUpperCase(), now);
    expect(check).toEqual({ ok: true, claims: { entityId: id, recipient: recipientHash('ann@example.com'), expiresAt: new Date(Math.floor(later.getTime() / 1000) * 1000) } });
    expect(tokenOfAddress(`todo+${t}@Reply.Example.com`, 'reply.example.com')).toBe(t);
    expect(tokenOfAddress('todo@reply.example.com', 'reply.example.com')).toBe('');
    expect(tokenOfAddress('todo+x@other.example', 'reply.example.com')).toBeUndefined();
  });
  it('refuses a forged, moved (another entity) or expired token', () => {
    const t = signReplyToken('s'.repeat(20), id, 'ann@example.com', later);
    expect(verifyReplyToken('other-secret-xxxxxx', t, now)).toEqual({ ok: false, reason: 'forged' });
    const moved = `${t.slice(0, 1)}${'0'.repeat(26)}${t.slice(27)}`;
    expect(verifyReplyToken('s'.repeat(20), moved, now)).toEqual({ ok: false, reason: 'forged' });
    expect(verifyReplyToken('s'.repeat(20), t, new Date('2026-03-01T00:00:00Z'))).toEqual({ ok: false, reason: 'expired' });
    expect(verifyReplyToken('s'.repeat(20), 'short', now)).toEqual({ ok: false, reason: 'malformed' });
  });
});
