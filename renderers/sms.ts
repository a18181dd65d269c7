/**
 * SMS renderer: plain GSM-7 text where possible, each body exactly ONE segment (160 GSM-7
 * septets, or 70 UCS-2 units when emoji/CJK remain), so carriers never concatenate or bill
 * extra parts. A long reply becomes several pages, each ending with `(1/3) reply MORE`.
 *
 * `renderSms` returns ALL pages; the fan-out sends page 1 and keeps the rest for when the
 * person replies MORE (`ctx.page` is therefore not used here: page n is `renderSms(r)[n - 1]`).
 */
import { SegmentedMessage } from 'sms-segments-calculator';
import type { RenderContext, Reply } from '../src/core/reply.ts';
import { RenderValidationError } from './errors.ts';
import { clean, isBlank, oneLine } from './fit.ts';
import { fitsOneSegment, smsSize, splitGraphemes, transliterateGsm } from './gsm.ts';
import { SMS_GSM7_SEGMENT, SMS_UCS2_SEGMENT } from './limits.ts';
import { KIND_LABEL, STATUS_WORD, smsCommand } from './model.ts';

/** The word a person texts for the next page. */
export const SMS_MORE = 'MORE';

const marker = (page: number, pages: number): string => (page < pages ? `(${page}/${pages}) reply ${SMS_MORE}` : `(${page}/${pages})`);

/** Running size of a page: GSM-7 septets and UTF-16 units, and whether it is still GSM-7. */
interface Size {
  gsm: boolean;
  septets: number;
  units: number;
}
const EMPTY: Size = { gsm: true, septets: 0, units: 0 };
const sizeOf = (text: string): Size => {
  const size = smsSize(text);
  return { gsm: size.encoding === 'GSM-7', septets: size.encoding === 'GSM-7' ? size.units : 0, units: text.length };
};
const plus = (a: Size, b: Size): Size => {
  if (!(a.gsm && b.gsm)) {
    // Septets of a page that turns UCS-2 no longer matter: count UTF-16 units only.
    return { gsm: false, septets: 0, units: a.units + b.units };
  }
  return { gsm: true, septets: a.septets + b.septets, units: a.units + b.units };
};
const oneSegment = (s: Size): boolean => (s.gsm ? s.septets <= SMS_GSM7_SEGMENT : s.units <= SMS_UCS2_SEGMENT);
const SEP: Size = { gsm: true, septets: 1, units: 1 };

/** Packs the words of one line onto pages, splitting a word only when it alone exceeds a page. */
function pack(words: readonly string[], reserve: Size): string[] {
  const fits = (s: Size): boolean => oneSegment(plus(s, reserve));
  const pages: string[] = [];
  let cur = '';
  let size = EMPTY;
  for (const word of words) {
    const wordSize = sizeOf(word);
    const candidate = cur === '' ? wordSize : plus(plus(size, SEP), wordSize);
    if (fits(candidate)) {
      cur = cur === '' ? word : `${cur} ${word}`;
      size = candidate;
      continue;
    }
    if (cur !== '' && fits(wordSize)) {
      pages.push(cur);
      cur = word;
      size = wordSize;
      continue;
    }
    // A word longer than a whole page: the only place we split inside a word.
    if (cur !== '') {
      cur += ' ';
      size = plus(size, SEP);
    }
    for (const g of splitGraphemes(word)) {
      const next = plus(size, sizeOf(g));
      if (cur === '' || fits(next)) {
        cur += g;
        size = next;
        continue;
      }
      if (cur.trim() !== '') pages.push(cur.trimEnd());
      cur = g;
      size = sizeOf(g);
    }
  }
  if (cur.trim() !== '') pages.push(cur);
  return pages;
}

/**
 * Packs whole lines (a list item is one line) onto pages, so an item is never cut in two; a
 * line too long for a page of its own is packed word by word.
 */
function packLines(lines: readonly string[], reserveText: string): string[] {
  const reserve = sizeOf(reserveText);
  const fits = (text: string): boolean => oneSegment(plus(sizeOf(text), reserve));
  const pages: string[] = [];
  let cur = '';
  for (const text of lines) {
    if (cur !== '' && fits(`${cur}\n${text}`)) {
      cur = `${cur}\n${text}`;
      continue;
    }
    if (cur !== '') pages.push(cur);
    if (fits(text)) {
      cur = text;
      continue;
    }
    const parts = pack(text.split(' '), reserve);
    pages.push(...parts.slice(0, -1));
    cur = parts[parts.length - 1] ?? '';
  }
  if (cur.trim() !== '') pages.push(cur);
  return pages;
}

/**
 * Transliterates text to GSM-7 and splits it into single-segment bodies at spaces and line
 * breaks (a word is split only when it alone exceeds a segment). With more than one page,
 * each ends with `(i/n) reply MORE` (the last with `(n/n)`).
 */
export function paginateSms(text: string): string[] {
  // Lines with single spaces between words: packLines and pack split at '\n' and ' '.
  const lines = transliterateGsm(clean(text))
    .split('\n')
    .map((line) => line.replace(/ +/g, ' ').trim())
    .filter((line) => line !== '');
  const body = lines.join('\n');
  if (body === '') return [];
  if (fitsOneSegment(body)) return [body];
  // The marker's width depends on the page count: pack, and pack again if the count got wider.
  for (let digits = 1; ; ) {
    const widest = '9'.repeat(digits);
    const pages = packLines(lines, `\n(${widest}/${widest}) reply ${SMS_MORE}`);
    const needed = String(pages.length).length;
    if (needed <= digits) return pages.map((p, i) => `${p}\n${marker(i + 1, pages.length)}`);
    digits = needed;
  }
}

/** The reply as text lines, before paging: title, text, fields, `2. Buy milk [done]`, `Reply DONE 2`, footer. */
export function smsText(reply: Reply): string {
  const lines: string[] = [];
  if (!isBlank(reply.title)) lines.push(oneLine(reply.title));
  if (!isBlank(reply.text)) lines.push(clean(reply.text).trim());
  for (const f of reply.fields ?? []) lines.push(`${oneLine(f.label)}: ${oneLine(f.value)}`.trim());
  for (const item of reply.items ?? []) {
    const ref = isBlank(item.ref) ? '' : `${oneLine(item.ref)}. `;
    const status = item.status === undefined ? '' : ` [${STATUS_WORD[item.status]}]`;
    const detail = isBlank(item.detail) ? '' : ` (${oneLine(item.detail)})`;
    lines.push(`${ref}${oneLine(item.text)}${status}${detail}`);
  }
  for (const a of reply.actions ?? []) {
    const command = smsCommand(a.command);
    if (command === '') continue;
    const label = oneLine(a.label);
    const hint = label === '' || label.toLowerCase() === oneLine(a.command).toLowerCase() ? '' : ` to ${label}`;
    lines.push(`Reply ${command}${hint}`);
  }
  if (!isBlank(reply.footer)) lines.push(oneLine(reply.footer));
  return lines.join('\n');
}

/** Renders a reply as SMS bodies, each exactly one segment; validated before it is returned. */
export function renderSms(reply: Reply, _ctx?: RenderContext): string[] {
  const pages = paginateSms(smsText(reply));
  const bodies = pages.length > 0 ? pages : [KIND_LABEL[reply.kind]];
  validateSms(bodies);
  return bodies;
}

/** Checks with `sms-segments-calculator` that every body is non-empty and exactly one segment. */
export function validateSms(bodies: readonly string[]): void {
  if (bodies.length === 0) throw new RenderValidationError('sms', 'SMS_GSM7_SEGMENT', 'no message body');
  bodies.forEach((body, i) => {
    if (body.trim() === '') throw new RenderValidationError('sms', 'SMS_GSM7_SEGMENT', `body ${i + 1} is empty`);
    const message = new SegmentedMessage(body);
    if (message.segmentsCount !== 1) {
      const limit = message.encodingName === 'GSM-7' ? 'SMS_GSM7_SEGMENT' : 'SMS_UCS2_SEGMENT';
      const max = message.encodingName === 'GSM-7' ? SMS_GSM7_SEGMENT : SMS_UCS2_SEGMENT;
      throw new RenderValidationError('sms', limit, `body ${i + 1} needs ${message.segmentsCount} ${message.encodingName} segments (one holds ${max})`);
    }
  });
}
