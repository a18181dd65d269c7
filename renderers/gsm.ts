/**
 * GSM-7 (3GPP TS 23.038) character set, transliteration of look-alikes into it, and the
 * single-segment test used to pack SMS pages. The counting mirrors `sms-segments-calculator`
 * (which `validateSms` runs on the result): GSM-7 when every character is in the default or
 * extension table (extension characters cost two septets), otherwise UCS-2 counted in UTF-16
 * code units. {@link https://www.3gpp.org/ftp/Specs/archive/23_series/23.038/}
 */
import { SMS_GSM7_SEGMENT, SMS_UCS2_SEGMENT } from './limits.ts';

const GSM_BASIC = new Set(Array.from('\n\r !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ'));
const GSM_EXTENDED = new Set(Array.from('\f[\\]^{|}~€'));

/** True when the character is in the GSM-7 default alphabet or its extension table. */
export function isGsmChar(c: string): boolean {
  return GSM_BASIC.has(c) || GSM_EXTENDED.has(c);
}

/** True when the whole text encodes as GSM-7 (a CRLF pair is one grapheme and forces UCS-2). */
export function isGsmText(text: string): boolean {
  if (text.includes('\r\n')) return false;
  for (const c of text) if (!isGsmChar(c)) return false;
  return true;
}

/** Encoding, size in septets (GSM-7) or UTF-16 code units (UCS-2), and the one-segment limit. */
export interface SmsSize {
  encoding: 'GSM-7' | 'UCS-2';
  units: number;
  limit: number;
}

/** Size of a message body as one SMS. */
export function smsSize(text: string): SmsSize {
  if (!isGsmText(text)) return { encoding: 'UCS-2', units: text.length, limit: SMS_UCS2_SEGMENT };
  let units = 0;
  for (const c of text) units += GSM_EXTENDED.has(c) ? 2 : 1;
  return { encoding: 'GSM-7', units, limit: SMS_GSM7_SEGMENT };
}

/** True when the body fits in exactly one segment. */
export function fitsOneSegment(text: string): boolean {
  const size = smsSize(text);
  return size.units <= size.limit;
}

const sub = (chars: string, to: string): Array<[string, string]> => Array.from(chars, (c) => [c, to]);

/** Look-alike → GSM-7 substitutions (after NFC). An empty target drops the character. */
export const GSM_SUBSTITUTIONS: ReadonlyMap<string, string> = new Map<string, string>([
  ...sub('«»“”„‟″‶ʺ˝＂〝〞〟❝❞', '"'),
  ...sub('‘’‛′‵ʹʻʼʽʾʿˈˊˋ`´＇❛❜', "'"),
  // Single low-9 quotation mark: a comma to the eye (Twilio's Smart Encoding agrees).
  ['‚', ','],
  ...sub('‐‑‒–—―−﹘﹣－⁃⸺⸻', '-'),
  ...sub('\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000', ' '),
  ...sub('\u200B\u200C\u200D\u2060\uFEFF\u00AD\u034F\u180E\u2061\u2062\u2063\u2064', ''),
  ...sub('•·‣◦∙●○▪▫■□⦁⁌⁍', '-'),
  ...sub('✓✔☑✅', '[x]'),
  ...sub('✗✘❌☒❎', '[ ]'),
  ...sub('→⇒➔➜➝➞⟶', '->'),
  ...sub('←⇐⟵', '<-'),
  ...sub('↔⇔⟷', '<->'),
  ...sub('⁎∗⊛✢✣✤✥✱✲✳✺✻✼✽❃❉❊❋⧆', '*'),
  ...sub('∣⎸⎹⏐⎜⎟', '|'),
  ...sub('⧸', '/'),
  ...sub('⧹⧵', '\\'),
  ...sub('⎼⎽‗', '-'),
  ...sub('❨❪⟮⦅', '('),
  ...sub('❩❫⟯⦆', ')'),
  ...sub('、﹑､︑', ','),
  ...sub('。｡', '.'),
  ...sub('ː˸⦂꞉', ':'),
  ...sub('ˮ', '"'),
  ...sub('˷∼', '~'),
  ['❴', '{'],
  ['❵', '}'],
  ['ǃ', '!'],
  ['⁏', ';'],
  ['꞊', '='],
  ['˖', '+'],
  // Small capitals have no compatibility decomposition.
  ...Array.from('ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ', (c, i): [string, string] => [c, 'ABCDEFGHIJKLMNOPRSTUVWYZ'[i] ?? c]),
  ['…', '...'],
  ['‹', '<'],
  ['›', '>'],
  ['™', 'TM'],
  ['℠', 'SM'],
  ['©', '(c)'],
  ['®', '(R)'],
  ['¢', 'c'],
  ['¦', '|'],
  ['¨', '"'],
  ['¬', '-'],
  ['×', 'x'],
  ['÷', '/'],
  ['⁄', '/'],
  ['∕', '/'],
  ['°', 'o'],
  ['ˆ', '^'],
  ['˜', '~'],
  ['\u2028', '\n'],
  ['\u2029', '\n'],
  ['\t', ' '],
]);

const MARK = /\p{M}/gu;
const MAX_GRAPHEME_UNITS = 16;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Splits text into user-perceived characters. */
export function splitGraphemes(text: string): string[] {
  return Array.from(graphemes.segment(text), (s) => s.segment);
}

function transliterateChar(c: string, depth = 0): string {
  if (isGsmChar(c)) return c;
  const direct = GSM_SUBSTITUTIONS.get(c);
  if (direct !== undefined) return direct;
  if (depth > 0) return c;
  // Compatibility decomposition without accents: é stays (GSM), á → a, ﬁ → fi, ½ → 1/2, Ａ → A.
  const decomposed = Array.from(c.normalize('NFKD').replace(MARK, ''), (d) => transliterateChar(d, depth + 1)).join('');
  return decomposed !== '' && isGsmText(decomposed) ? decomposed : c;
}

/**
 * Combining marks that stand alone (no base letter before them) and look like a GSM-7
 * character, as Twilio's Smart Encoding maps them; other lone marks are dropped.
 */
export const LONE_MARK_SUBSTITUTIONS: ReadonlyMap<string, string> = new Map<string, string>([
  ...sub('\u0313\u0314', "'"),
  ...sub('\u0337\u0338', '/'),
  ['\u20E5', '\\'],
  ['\u0332', '_'],
  ...sub('\u20D2\u20D3', '|'),
  ['\u0326', ','],
  ['\u0347', '='],
  ...sub('\u0302\u1DCD', '^'),
  ...sub('\u0303\u0330\u0334', '~'),
]);

const ONLY_MARKS = /^\p{M}+$/u;
const GSM_PATTERN_SOURCE = Array.from(GSM_BASIC)
  .concat(Array.from(GSM_EXTENDED))
  .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  .join('');
/** Runs of characters outside GSM-7; only these are looked at closely. */
const NON_GSM_RUN = new RegExp(`[^${GSM_PATTERN_SOURCE}]+`, 'gu');

function transliterateCluster(g: string): string {
  // Lone accents (no base letter, or none left after NFC): a look-alike when there is one, else dropped.
  if (ONLY_MARKS.test(g)) return Array.from(g, (m) => LONE_MARK_SUBSTITUTIONS.get(m) ?? '').join('');
  if (Array.from(g).length === 1) return transliterateChar(g);
  // A cluster: base + marks, or an emoji sequence. Use the GSM-7 form when the whole cluster
  // has one (á + accent → a, ✔ + VS16 → [x]); otherwise keep it whole (it goes out as UCS-2).
  const stripped = g.normalize('NFKD').replace(MARK, '');
  const gsm = Array.from(stripped, (c) => transliterateChar(c)).join('');
  if (stripped !== '' && isGsmText(gsm)) return gsm;
  return g.length > MAX_GRAPHEME_UNITS ? (Array.from(g)[0] ?? '') : g;
}

/**
 * Transliterates to GSM-7 where a look-alike exists (smart quotes → straight, dashes → `-`,
 * `…` → `...`, odd spaces → space, bullets → `-`, check marks → `[x]`, accents dropped when the
 * accented letter is not in GSM-7). What has no GSM-7 form (emoji, CJK) stays, and the message
 * then goes out as UCS-2. Oversized grapheme clusters are cut to their first code point.
 */
export function transliterateGsm(text: string): string {
  return text.normalize('NFC').replace(NON_GSM_RUN, (run) => splitGraphemes(run).map(transliterateCluster).join(''));
}
