/**
 * Text primitives shared by the renderers: clean user text, and cut escaped text to a limit
 * without breaking an escape sequence or a surrogate pair.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// C0 controls except TAB and LF, DEL and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** The ellipsis appended when text is cut. */
export const ELLIPSIS = '…';

/**
 * Normalises user text: well-formed UTF-16, CRLF/CR/U+2028/U+2029 → LF, TAB → space,
 * other control characters removed.
 */
export function clean(text: string | undefined): string {
  if (text === undefined) return '';
  return text
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .replace(/\t/g, ' ')
    .replace(CONTROL, '');
}

/** Cleaned text on one line (newlines and runs of spaces become one space), trimmed. */
export function oneLine(text: string | undefined): string {
  return clean(text).replace(/\s+/g, ' ').trim();
}

/** True when the text has nothing visible. */
export function isBlank(text: string | undefined): boolean {
  return text === undefined || clean(text).trim() === '';
}

/** Splits text into code points (never halves a surrogate pair). */
export function codePoints(text: string): string[] {
  return Array.from(text);
}

/**
 * Joins atomic tokens (escaped characters) until `max` UTF-16 units; when they do not all fit,
 * the result ends with `ellipsis` and stays within `max`.
 */
export function fitTokens(tokens: readonly string[], max: number, ellipsis = ELLIPSIS): string {
  let total = 0;
  for (const t of tokens) total += t.length;
  if (total <= max) return tokens.join('');
  const room = max - ellipsis.length;
  if (room < 0) return '';
  let out = '';
  for (const t of tokens) {
    if (out.length + t.length > room) break;
    out += t;
  }
  return out.trimEnd() + ellipsis;
}

/** Cuts plain text to `max` UTF-16 units, with an ellipsis when cut. */
export function truncate(text: string, max: number, ellipsis = ELLIPSIS): string {
  return text.length <= max ? text : fitTokens(codePoints(text), max, ellipsis);
}

/** Cuts plain text to `max` UTF-16 units without an ellipsis (identifiers, values). */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : fitTokens(codePoints(text), max, '');
}

/**
 * Splits tokens into chunks of at most `max` units, preferring to break after a newline or a
 * space in the second half of a chunk. Used to spread long text over several blocks.
 */
export function chunkTokens(tokens: readonly string[], max: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < tokens.length) {
    let len = 0;
    let end = start;
    let lastBreak = -1;
    while (end < tokens.length) {
      const t = tokens[end] ?? '';
      if (len + t.length > max) break;
      len += t.length;
      if (t === '\n' || t === ' ') lastBreak = end;
      end++;
    }
    if (end === start) end = start + 1; // a single token longer than max: cannot happen with escapers, guard anyway
    if (end < tokens.length && lastBreak > start + (end - start) / 2) end = lastBreak + 1;
    chunks.push(tokens.slice(start, end).join(''));
    start = end;
  }
  return chunks;
}
