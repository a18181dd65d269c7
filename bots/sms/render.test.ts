/**
 * What an SMS person gets: every segment vector and every smart-encoding pair of the corpus
 * through the SMS renderer (the same path as fan-out and answers).
 */
import { SegmentedMessage } from 'sms-segments-calculator';
import { describe, expect, it } from 'vitest';
import { clean, fitsOneSegment, isGsmText, paginateSms, renderSms, smsSize, transliterateGsm } from '../../renderers/index.ts';
import { hasCorpus, readCorpus } from './corpus.ts';

interface SegmentVector {
  text: string;
  encoding: 'GSM-7' | 'UCS-2' | null;
  segments: number | null;
  source: { test: string };
}
interface SmartEntry {
  from: string;
  from_codepoint: string;
  to: string;
  name: string;
}

const SEGMENTS = 'segments.json';
describe.skipIf(!hasCorpus(SEGMENTS))(`SMS renderer against ../shared/corpus/sms/${SEGMENTS} (skipped when the corpus is absent)`, () => {
  const vectors = hasCorpus(SEGMENTS) ? readCorpus<SegmentVector[]>(SEGMENTS) : [];

  it('has the 52 vectors', () => expect(vectors).toHaveLength(52));

  it.each(vectors.map((v, i) => [`${i + 1} ${v.source.test}`, v] as const))('%s: our count and single-segment test agree, and paged or rendered it is one segment per body', (_n, v) => {
    if (v.segments !== null) {
      expect(new SegmentedMessage(v.text).segmentsCount).toBe(v.segments);
      expect(fitsOneSegment(v.text)).toBe(v.segments === 1);
      for (const body of paginateSms(v.text)) expect(new SegmentedMessage(body).segmentsCount, body).toBe(1);
    }
    if (v.encoding !== null) expect(smsSize(v.text).encoding).toBe(v.encoding);
    if (v.text.trim() === '') return;
    const bodies = renderSms({ kind: 'info', text: v.text });
    for (const body of bodies) expect(new SegmentedMessage(body).segmentsCount, body).toBe(1);
    // A GSM-7 text stays GSM-7 through the renderer (the 160/153 limits, not 70/67).
    if (v.encoding === 'GSM-7') for (const body of bodies) expect(isGsmText(body)).toBe(true);
  });
});

/**
 * Where we map a look-alike differently from Twilio's Smart Encoding, on purpose: one space for
 * odd spaces (Twilio: two; a tab: seven) and nothing for C1 controls (Twilio: two spaces) —
 * cheaper in a 160-septet segment; `‹ ›` keep their direction (Twilio swaps them); line/paragraph
 * separators stay line breaks; presentation-form commas and the double low line keep their look.
 */
const OUR_CHOICE: Record<string, string> = {
  'U+00A0': ' ',
  'U+2000': ' ',
  'U+2002': ' ',
  'U+2003': ' ',
  'U+2004': ' ',
  'U+2005': ' ',
  'U+2006': ' ',
  'U+2007': ' ',
  'U+2008': ' ',
  'U+2009': ' ',
  'U+200A': ' ',
  'U+202F': ' ',
  'U+205F': ' ',
  'U+3000': ' ',
  'U+0009': ' ',
  'U+0080': '',
  'U+008D': '',
  'U+0090': '',
  'U+009B': '',
  'U+009F': '',
  'U+2039': '<',
  'U+203A': '>',
  'U+2028': '\n',
  'U+2029': '\n',
  'U+FE10': ',',
  'U+FE11': ',',
  'U+2017': '-',
};

const SMART = 'smart-encoding-map.json';
describe.skipIf(!hasCorpus(SMART))(`Look-alikes from ../shared/corpus/sms/${SMART} (Twilio Smart Encoding; skipped when absent)`, () => {
  const entries = hasCorpus(SMART) ? readCorpus<{ entries: SmartEntry[] }>(SMART).entries : [];

  it('has the 270 pairs', () => expect(entries).toHaveLength(270));

  it.each(entries.map((e) => [`${e.from_codepoint} ${e.name}`, e] as const))('%s', (_n, e) => {
    const ours = transliterateGsm(clean(e.from));
    expect(ours).toBe(OUR_CHOICE[e.from_codepoint] ?? e.to);
    expect(isGsmText(ours)).toBe(true);
  });

  it('a notice full of smart quotes, dashes and an ellipsis is GSM-7: 160 characters fit one segment', () => {
    // 158 characters; 160 once the ellipsis is three dots: exactly one GSM-7 segment.
    const text = `“Buy milk” — it’s due… ${'x'.repeat(160 - 25)}`;
    expect(new SegmentedMessage(text).encodingName).toBe('UCS-2');
    expect(new SegmentedMessage(text).segmentsCount).toBe(3);
    const [body, ...rest] = renderSms({ kind: 'info', text });
    expect(rest).toEqual([]);
    expect(body!.startsWith('"Buy milk" - it\'s due...')).toBe(true);
    expect(new SegmentedMessage(body!).encodingName).toBe('GSM-7');
    expect(body).toHaveLength(160);
    expect(new SegmentedMessage(body!).segmentsCount).toBe(1);
  });
});
