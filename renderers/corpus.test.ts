import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SegmentedMessage } from 'sms-segments-calculator';
import { describe, expect, it } from 'vitest';
import { clean, fitsOneSegment, isGsmText, paginateSms, smsSize, transliterateGsm } from './index.ts';

// Recorded vectors live outside the repository, in ../shared/corpus (see its README-email-sms.md).
// They are read at run time and never copied here; without them these suites are skipped.
const corpus = (path: string): URL => new URL(`../../shared/corpus/sms/${path}`, import.meta.url);
const SEGMENTS = corpus('segments.json');
const SMART = corpus('smart-encoding-map.json');
const missing = (url: URL): boolean => !existsSync(fileURLToPath(url));

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
}

describe.skipIf(missing(SEGMENTS))('SMS segment vectors from ../shared/corpus/sms/segments.json (skipped when the corpus is absent)', () => {
  const vectors = missing(SEGMENTS) ? [] : (JSON.parse(readFileSync(SEGMENTS, 'utf8')) as SegmentVector[]).filter((v) => v.segments !== null);

  it('has vectors', () => {
    expect(vectors.length).toBeGreaterThan(40);
  });

  it.each(vectors.map((v) => [v.source.test, v] as const))('%s: our single-segment test and encoding agree', (_name, v) => {
    expect(fitsOneSegment(v.text)).toBe(v.segments === 1);
    if (v.encoding !== null) expect(smsSize(v.text).encoding).toBe(v.encoding);
    // The library we validate with agrees with the recorded expectation too.
    expect(new SegmentedMessage(v.text).segmentsCount).toBe(v.segments);
  });

  it.each(vectors.map((v) => [v.source.test, v] as const))('%s: paginateSms turns it into single-segment bodies', (_name, v) => {
    for (const body of paginateSms(v.text)) expect(new SegmentedMessage(body).segmentsCount).toBe(1);
  });
});

describe.skipIf(missing(SMART))('Twilio smart-encoding characters from ../shared/corpus/sms/smart-encoding-map.json (skipped when absent)', () => {
  const entries = missing(SMART) ? [] : (JSON.parse(readFileSync(SMART, 'utf8')) as { entries: SmartEntry[] }).entries;

  it('every look-alike transliterates to GSM-7 text', () => {
    expect(entries.length).toBeGreaterThan(200);
    const notGsm = entries.filter((e) => !isGsmText(transliterateGsm(clean(e.from)))).map((e) => e.from_codepoint);
    expect(notGsm).toEqual([]);
  });

  it('most agree with Twilio’s own substitution (ours may differ: NBSP → one space, lone accents dropped)', () => {
    const same = entries.filter((e) => transliterateGsm(clean(e.from)) === e.to).length;
    expect(same / entries.length).toBeGreaterThan(0.8);
  });
});
