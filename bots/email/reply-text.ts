/**
 * The new text of an email reply, without the quoted history, the "On … wrote:" header above it
 * and the sender's signature. Two passes, combining what the reference parsers each get right
 * (the corpus in `../shared/corpus/email` grades them):
 * 1. our own quotation finder, in the style of mailgun/talon: the first line that starts the quoted
 *    history — an "On … wrote:" header in several languages (also wrapped over up to three lines, as
 *    Gmail does), an Outlook "From:/Sent:/To:/Subject:" block (also translated), a
 *    `-----Original Message-----` line, an underscore rule above such a block, a dated
 *    "2014-10-17 11:28 GMT+03:00 Name <a@b>:" line — and everything from there is dropped;
 * 2. npm `email-reply-parser` (crisp-oss) on what is left: it hides `>` quotes, `-- ` signatures,
 *    "Sent from my iPhone" lines and the headers it knows.
 * When the two disagree so much that nothing is left, the longer sensible answer wins.
 */
import EmailReplyParser from 'email-reply-parser';

/** Most lines an "On … wrote:" header may be wrapped over (Gmail wraps at ~78 characters). */
const HEADER_WRAP_LINES = 3;

/** The verbs of "On <date>, <name> wrote:" in the languages the common clients speak. */
const WROTE = [
  'wrote',
  'writes',
  'a écrit',
  'a ecrit',
  'schrieb',
  'hat geschrieben',
  'escribió',
  'escribio',
  'ha scritto',
  'scrisse',
  'schreef',
  'heeft geschreven',
  'napisał',
  'napisała',
  'napisal',
  'skrev',
  'skrifaði',
  'escreveu',
  'kirjoitti',
  'написал',
  'написала',
  'написав',
  'написала:',
  'napsal',
  'napísal',
  'írta',
  'έγραψε',
  'yazdı',
  'a scris',
  'rakstīja',
  'rašė',
  'kirjutas',
  'pisze',
  'escrigué',
  'va escriure',
  'schreibt',
  'wrote on',
  'ha escrit',
  'escribieron',
  'het volgende geschreven',
  'geschreven',
  'đã viết',
  'sent',
  'написав',
  'пишет',
  '写道',
  '寫道',
  '님이 작성',
  'のメッセージ',
];
const WROTE_ALT = WROTE.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
/** Words an "On … wrote:" header starts with. */
const ON = ['On', 'Le', 'Am', 'El', 'Il', 'Op', 'W dniu', 'Dnia', 'Dne', 'Den', 'På', 'Em', 'No dia', 'Kello', 'В', 'У', 'Στις', 'El dia', 'Vào'];
const ON_ALT = ON.join('|');

/** "On Tue, 2 Jan 2024 at 10:00, Ann <ann@x> wrote:" — and its translations, on one joined line. */
const ON_WROTE = new RegExp(`^\\s*(?:${ON_ALT})\\b.{0,300}?(?:${WROTE_ALT})\\s*:?\\s*$`, 'iu');
/** A line that is only a date and an address ending in a colon (Gmail in some locales). */
const DATED_ADDRESS = /^\s*(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}\s+\p{L}+\.?\s+\d{4}).{0,120}(?:<\s*[^<>\s]+@[^<>\s]+>|[^\s<>]+@[^\s<>]+)\s*\)?\s*:\s*$/u;
/** A line ending with "<address> wrote:" or "… wrote:" with a date somewhere before it. */
const ADDRESS_WROTE = new RegExp(`(?:@[^\\s]+>?|\\d{1,2}:\\d{2}.*)\\s*(?:${WROTE_ALT})\\s*:\\s*$`, 'iu');
/** The window ends with "<verb> [name <address>]:" — a header whose first word is not known (Finnish "pe 20. …"). */
const ENDS_WROTE = new RegExp(`(?:${WROTE_ALT})(?:\\s+[^:\\n]{0,100})?\\s*:\\s*$`, 'iu');
/** "reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:" — the reply and the header share a line. */
const SHARED_LINE = new RegExp(`^(.*?\\S)[-\\s]*\\b(?:${ON_ALT})\\s.{0,200}\\d.{0,200}(?:${WROTE_ALT})\\s*:\\s*$`, 'iu');
/** A dash-bracketed title line: `-----Antwort Nachricht-----`, `---- John Smith wrote ----`. */
const DASH_TITLE = /^\s*-{3,10}\s*[\p{L}][\p{L}' .]{2,40}\s*-{3,10}\s*$/u;
/** A forwarded message is kept whole (talon: quotations of forwards are not parsed). */
const FORWARDED = /^\s*-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado)\s*-{2,}\s*$/iu;
/** `-----Original Message-----` and its translations; also forwarded-message rules. */
const ORIGINAL_MESSAGE =
  /^\s*[-_=*]{2,}\s*(?:original message|reply message|antwort nachricht|mensaje original|message d'origine|message original|ursprüngliche nachricht|originalnachricht|oorspronkelijk bericht|origineel bericht|messaggio originale|wiadomość oryginalna|originalmeddelande|oprindelig meddelelse|opprinnelig melding|alkuperäinen viesti|mensagem original|исходное сообщение|原始邮件|原始郵件)\s*[-_=*]{2,}\s*$/iu;
/** First line of an Outlook header block: "From: …" in several languages (bold `*From:*` too). */
const FROM_LINE = /^\s*\*?(?:from|von|de|van|da|od|fra|från|lähettäjä|от|від|feladó|kimden|发件人|寄件者|差出人|보낸 사람|보낸사람)\s*\*?\s*[:：]/iu;
/** Other lines of that block: Sent/Date/To/Subject/Cc, translated. */
const HEADER_LINE =
  /^\s*\*?(?:sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|envoye|date|à|a|objet|enviado|fecha|para|asunto|verzonden|aan|onderwerp|inviato|data|oggetto|wysłano|wysłane|do|temat|sendt|til|emne|skickat|till|ämne|lähetetty|vastaanottaja|aihe|отправлено|кому|тема|发送时间|日期|收件人|主题|時間|送信日時|宛先|件名|보낸 날짜|받는 사람|제목)\s*\*?\s*[:：]/iu;
/** An underscore rule (Outlook puts one above its header block). */
const UNDERSCORE_RULE = /^\s*_{10,}\s*$/;
/** A separator line left at the end of the reply once the history is cut. */
const TRAILING_RULE = /^\s*[-_=*]{5,}\s*$/;
/** "Date: …" opening a header block (talon: a From block may start with the date). */
const DATE_LINE = /^\s*\*?(?:date|datum|fecha|data)\s*\*?\s*:/iu;

const lf = (text: string): string => text.replace(/\r\n?/g, '\n');

/** Normalises for comparison: LF, no trailing blanks on a line, trimmed. */
export function normalizeReply(text: string): string {
  return lf(text)
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/, ''))
    .join('\n')
    .trim();
}

/** Where the quoted history starts: its first line, and its last header line; or undefined. */
export interface QuoteStart {
  line: number;
  /** Last line of the header ("… wrote:") when the header was found, else `line`. */
  headerEnd: number;
  /** For a header sharing a line with the reply: the reply's part of that line. */
  keep?: string;
}

const hasDateOrAddress = (s: string): boolean => /\d|@/.test(s);

/** The first line of the quoted history, or undefined. */
export function quoteStart(lines: string[]): QuoteStart | undefined {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (FORWARDED.test(line)) return undefined;
    if (ORIGINAL_MESSAGE.test(line) || DASH_TITLE.test(line)) return { line: i, headerEnd: i };
    const shared = SHARED_LINE.exec(line);
    if (shared && !/^\s*>/.test(line) && !ON_WROTE.test(line)) return { line: i, headerEnd: i, keep: shared[1]!.replace(/[-\s]+$/, '') };
    // "On … wrote:" may be wrapped over a few lines (blank lines between, as Polymail writes them).
    let joined = '';
    let used = 0;
    for (let j = i; j < lines.length && j < i + 2 * HEADER_WRAP_LINES && used < HEADER_WRAP_LINES + 1; j++) {
      const part = lines[j]!.replace(/^>+\s?/, '').trim();
      if (part === '') continue;
      used++;
      joined = joined === '' ? part : `${joined} ${part}`;
      if (ON_WROTE.test(joined) && hasDateOrAddress(joined)) return { line: i, headerEnd: j };
      if (DATED_ADDRESS.test(joined) || (used === 1 && ADDRESS_WROTE.test(joined))) return { line: i, headerEnd: j };
      if (/^\S*\d/.test(lines[i]!.trim()) && ENDS_WROTE.test(joined) && /@/.test(joined)) return { line: i, headerEnd: j };
      if (/^\s*\d{4}\/\d{1,2}\/\d{1,2}\s.{0,80}<[^<>\s]+@[^<>\s]+>\s*$/.test(joined)) return { line: i, headerEnd: j };
    }
    if ((FROM_LINE.test(line) || DATE_LINE.test(line)) && outlookBlock(lines, i)) {
      const at = UNDERSCORE_RULE.test(lines[i - 1] ?? '') ? i - 1 : i;
      return { line: at, headerEnd: at };
    }
    if (UNDERSCORE_RULE.test(line) && FROM_LINE.test(nextNonBlank(lines, i + 1) ?? '')) return { line: i, headerEnd: i };
  }
  return undefined;
}

function nextNonBlank(lines: string[], from: number): string | undefined {
  for (let i = from; i < lines.length; i++) if (lines[i]!.trim() !== '') return lines[i];
  return undefined;
}

/** A "From:" line followed, within a few lines, by at least one other header line. */
function outlookBlock(lines: string[], i: number): boolean {
  let headers = 0;
  for (let j = i + 1; j < Math.min(lines.length, i + 6); j++) {
    const l = lines[j]!;
    if (l.trim() === '') continue;
    if (HEADER_LINE.test(l)) headers++;
  }
  return headers >= 1;
}

/** The text above the quoted history (our own pass), as written. */
export function cutQuoted(text: string): string {
  const lines = lf(text).split('\n');
  const start = quoteStart(lines);
  if (!start) return lines.join('\n');
  const before = lines.slice(0, start.line);
  if (start.keep !== undefined) before.push(start.keep);
  while (before.length > 0 && (before.at(-1)!.trim() === '' || TRAILING_RULE.test(before.at(-1)!))) before.pop();
  return [...before, ...afterQuote(lines, start)].join('\n');
}

/**
 * What the sender wrote below a `>`-quoted block that followed the header ("Regards, Roman"):
 * kept when nothing after it is quoted again (talon keeps a reply that wraps the quotation).
 */
function afterQuote(lines: string[], start: QuoteStart): string[] {
  let k = start.headerEnd + 1;
  let quoted = 0;
  while (k < lines.length && (lines[k]!.trim() === '' || /^\s*>/.test(lines[k]!))) {
    if (/^\s*>/.test(lines[k]!)) quoted++;
    k++;
  }
  if (quoted === 0 || k >= lines.length) return [];
  const rest = lines.slice(k);
  if (rest.some((l) => /^\s*>/.test(l)) || quoteStart(rest)) return [];
  return lines[k - 1]!.trim() === '' && lines[start.line - 1]?.trim() === '' ? ['', ...rest] : rest;
}

const parser = new EmailReplyParser();

/** The reference parser's visible text (npm email-reply-parser). */
export function crispReply(text: string): string {
  return parser.parseReply(lf(text));
}

/**
 * The new text of a plain-text reply: quoted history, reply headers and signature removed,
 * normalised (LF, no trailing blanks, trimmed). Empty when nothing new was written.
 */
export function extractReply(text: string): string {
  const body = lf(text);
  const cut = cutQuoted(body);
  const both = normalizeReply(crispReply(cut));
  if (both !== '') return both;
  const alone = normalizeReply(crispReply(body));
  if (alone !== '') return alone;
  return normalizeReply(cut);
}
