/**
 * Escapers for user text, one per markup. Each returns TOKENS (one per source code point) so a
 * caller can cut to a limit with `fitTokens` without splitting an escape sequence.
 *
 * Slack mrkdwn and WhatsApp have no escape syntax for `*`, `_`, `~` and `` ` ``. Zero-width
 * characters are not reliable there (Slack treats U+200B as a word boundary, which is how
 * people *enable* mid-word bold), so those four characters are swapped for look-alikes that
 * no parser treats as markup: `*`→`∗` (U+2217), `_`→`ˍ` (U+02CD), `~`→`∼` (U+223C),
 * `` ` ``→`ˋ` (U+02CB). A `>` at the start of a line (block quote) becomes `＞` (U+FF1E).
 */
import { codePoints } from './fit.ts';

/** Look-alikes for characters that start formatting in Slack mrkdwn and WhatsApp. */
export const FORMAT_LOOKALIKE: Readonly<Record<string, string>> = {
  '*': '\u2217',
  _: '\u02CD',
  '~': '\u223C',
  '`': '\u02CB',
};

const ZWSP = '\u200B';

function atLineStart(cps: readonly string[], i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const c = cps[j];
    if (c === '\n') return true;
    if (c !== ' ') return false;
  }
  return true;
}

/**
 * Slack mrkdwn: `&`, `<`, `>` as entities (so `<!channel>` / `<@U123>` cannot ping or link),
 * formatting characters as look-alikes. Use with `verbatim: true` on the text object.
 * {@link https://api.slack.com/reference/surfaces/formatting#escaping}
 */
export function slackMrkdwnTokens(text: string): string[] {
  const cps = codePoints(text);
  return cps.map((c, i) => {
    if (c === '&') return '&amp;';
    if (c === '<') return '&lt;';
    if (c === '>') return atLineStart(cps, i) ? '\uFF1E' : '&gt;';
    return FORMAT_LOOKALIKE[c] ?? c;
  });
}

/**
 * Slack plain_text (header, button): not parsed for markup, but a zero-width space after `<`
 * keeps `<!channel>`-like sequences from ever appearing verbatim in the payload.
 */
export function slackPlainTokens(text: string): string[] {
  return codePoints(text).map((c) => (c === '<' ? `<${ZWSP}` : c));
}

const DISCORD_MARKDOWN = new Set(['\\', '*', '_', '~', '`', '|', '>', '#', '[', ']']);

/** Discord: breaks `@everyone`/`@here` and `<@…>`/`<#…>`/`<:…>` mention syntax with U+200B. */
function discordMention(cps: readonly string[], i: number, c: string): string | undefined {
  if (c === '<') return `<${ZWSP}`;
  if (c === '@') {
    const rest = cps
      .slice(i + 1, i + 9)
      .join('')
      .toLowerCase();
    if (rest.startsWith('everyone') || rest.startsWith('here')) return `@${ZWSP}`;
  }
  return undefined;
}

/**
 * Discord markdown (description, title, field): mentions broken, and `\ * _ ~ ` | > # [ ]`
 * backslash-escaped (`-`/`+` only at line start, where they make a list). {@link https://support.discord.com/hc/en-us/articles/210298617}
 */
export function discordMarkdownTokens(text: string): string[] {
  const cps = codePoints(text);
  return cps.map((c, i) => discordMention(cps, i, c) ?? (DISCORD_MARKDOWN.has(c) || ((c === '-' || c === '+') && atLineStart(cps, i)) ? `\\${c}` : c));
}

/** Discord text that is not markdown (footer, button label): only mentions are broken. */
export function discordPlainTokens(text: string): string[] {
  const cps = codePoints(text);
  return cps.map((c, i) => discordMention(cps, i, c) ?? c);
}

/** WhatsApp: formatting characters as look-alikes, a line-leading `>` as `＞`. */
export function whatsAppTokens(text: string): string[] {
  const cps = codePoints(text);
  return cps.map((c, i) => (c === '>' && atLineStart(cps, i) ? '\uFF1E' : (FORMAT_LOOKALIKE[c] ?? c)));
}

const HTML_ENTITY: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** HTML text and attribute values: `& < > " '` as entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITY[c] ?? c);
}
