import { SegmentedMessage } from 'sms-segments-calculator';
import { describe, expect, it } from 'vitest';
import type { Reply } from '../src/core/reply.ts';
import { clean, paginateSms, RenderValidationError, renderSms, smsCommand, smsText, transliterateGsm, validateSms } from './index.ts';
import { brokenLimit } from './test-checks.ts';
import { longList, shortOk, unicode } from './test-replies.ts';

const MARKER = /\n\((\d+)\/(\d+)\)( reply MORE)?$/;
const strip = (body: string): string => body.replace(MARKER, '');
const segments = (body: string) => new SegmentedMessage(body);

describe('renderSms', () => {
  it('renders a short reply as one GSM-7 segment with items and reply hints', () => {
    const bodies = renderSms(shortOk);
    expect(bodies).toEqual(['Todo added\nAdded "Buy milk" to Groceries.\n2. Buy milk [todo] (Groceries)\nReply DONE 2 to Done\nReply DELETE 2 to Delete\nChittyChat - project Groceries']);
    expect(segments(bodies[0] ?? '').encodingName).toBe('GSM-7');
    expect(segments(bodies[0] ?? '').segmentsCount).toBe(1);
  });

  it('shows items as "2. Buy milk [done]"', () => {
    expect(renderSms({ kind: 'ok', items: [{ ref: '2', text: 'Buy milk', status: 'completed' }] })).toEqual(['2. Buy milk [done]']);
  });

  it('pages a long list: every body one segment, each ends with (i/n) reply MORE, the last with (n/n)', () => {
    const bodies = renderSms(longList);
    const n = bodies.length;
    expect(n).toBeGreaterThan(10);
    bodies.forEach((body, i) => {
      expect(segments(body).segmentsCount).toBe(1);
      expect(body.match(MARKER)?.slice(1)).toEqual([String(i + 1), String(n), i + 1 < n ? ' reply MORE' : undefined]);
    });
  });

  it('never splits a word: the pages hold exactly the words of the text, in order', () => {
    const words = (s: string) => s.split(/\s+/).filter((w) => w !== '');
    const bodies = renderSms(longList);
    expect(words(bodies.map(strip).join(' '))).toEqual(words(transliterateGsm(clean(smsText(longList)))));
  });

  it('hard-breaks only a word longer than a segment', () => {
    const word = 'x'.repeat(400);
    const bodies = paginateSms(`short ${word} end`);
    expect(bodies.map(strip).join('').replace(/\s/g, '')).toBe(`short${word}end`);
    expect(bodies[0]?.startsWith('short x')).toBe(true);
    expect(strip(bodies.at(-1) ?? '').split(/\s/)).toContain('end');
    for (const b of bodies) expect(segments(b).segmentsCount).toBe(1);
  });

  it('uses the 70-unit UCS-2 segment when emoji or CJK remain', () => {
    const bodies = renderSms(unicode);
    for (const b of bodies) {
      const m = segments(b);
      expect(m.segmentsCount).toBe(1);
      if (m.encodingName === 'UCS-2') expect(b.length).toBeLessThanOrEqual(70);
    }
    expect(bodies.some((b) => segments(b).encodingName === 'UCS-2')).toBe(true);
    expect(bodies.some((b) => segments(b).encodingName === 'GSM-7')).toBe(true);
  });

  it('an empty reply still sends its kind', () => {
    expect(renderSms({ kind: 'ok' })).toEqual(['OK']);
    expect(paginateSms('  \n ')).toEqual([]);
  });

  it('renders hints from the command, first word upper-cased', () => {
    const reply: Reply = {
      kind: 'ok',
      actions: [
        { id: 'a', label: 'Done', command: 'todo done 2' },
        { id: 'b', label: 'more', command: 'more' },
      ],
    };
    expect(renderSms(reply)).toEqual(['Reply TODO done 2 to Done\nReply MORE']);
    expect(smsCommand('  done   2 ')).toBe('DONE 2');
  });
});

describe('transliterateGsm', () => {
  it('maps look-alikes to GSM-7', () => {
    const out = transliterateGsm('“Hi” ‘there’ – — … a\u00a0b • c ✓ ✔️ ✗ → ™ ½ ﬁ Ａ café naïve Çç');
    expect(out).toBe('"Hi" \'there\' - - ... a b - c [x] [x] [ ] -> TM 1/2 fi A café naive Çc');
    expect(segments(out).encodingName).toBe('GSM-7');
  });

  it('keeps emoji and CJK (UCS-2) and drops stray combining marks', () => {
    expect(transliterateGsm('家族👨‍👩‍👧‍👦 🇮🇹')).toBe('家族👨‍👩‍👧‍👦 🇮🇹');
    expect(transliterateGsm('e\u0301\u0301\u0301')).toBe('é');
  });
});

describe('validateSms', () => {
  it('throws for a body that needs two segments, naming the encoding limit', () => {
    expect(() => validateSms(['x'.repeat(161)])).toThrow(RenderValidationError);
    expect(brokenLimit(() => validateSms(['ok', '😀'.repeat(36)]))).toBe('SMS_UCS2_SEGMENT');
    expect(() => validateSms([])).toThrow(RenderValidationError);
    expect(() => validateSms(['x'.repeat(160), '😀'.repeat(35)])).not.toThrow();
  });
});

describe('SMS paging keeps list items whole', () => {
  it('never cuts an item that fits on a page, even when one item needs UCS-2', () => {
    const texts = [
      'Book venue',
      'Order swag & stickers',
      'Email the list',
      'Fix landing page 🚀',
      'Call the printer',
      'Review budget',
      'Test signup flow',
      'Translate FAQ into 日本語',
      'Set up analytics',
      'Draft launch tweet',
      'Celebrate',
      'Write press release',
    ];
    const bodies = renderSms({ kind: 'info', title: 'Open todos (12)', items: texts.map((text, i) => ({ ref: String(i + 1), text, status: 'pending' as const })) });
    for (const [i, text] of texts.entries()) {
      const line = `${i + 1}. ${transliterateGsm(text)} [todo]`;
      expect(
        bodies.filter((b) => b.split('\n').includes(line)),
        line,
      ).toHaveLength(1);
    }
  });
});
