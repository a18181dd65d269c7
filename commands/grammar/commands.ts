/**
 * The command grammar every channel shares: text in, a typed `Command` or a one-line usage
 * error out. Pure (no I/O) and total: `parseCommand` never throws. This file reads tokens
 * (flags, dates, did-you-mean); what each command is lives in `specs.ts`, its types in `command.ts`.
 */
import { tokenize, type FlagToken, type Token, type WordToken } from './tokenize.ts';
import { FAMILY_USAGE, GENERAL_USAGE, USAGE } from './usage.ts';
import { lookup, quote, readDate } from './values.ts';
import { MAX_COMMAND_LENGTH, type ParseOptions, type ParseResult } from './command.ts';
import { type Args, DIRECT, type FlagKind, joined, FAMILY_WORDS, FLAG_ALIASES, KNOWN_WORDS, type Spec, type SpecKey, SPECS, SUBCOMMANDS, UsageError } from './specs.ts';

export {
  MAX_COMMAND_LENGTH,
  type Command,
  type CommandName,
  type ParseOptions,
  type ParseResult,
  type ResolveChoice,
  type SubscriptionTarget,
  type UnsubscribeTarget,
} from './command.ts';

// ---------------------------------------------------------------------------------------------
// Parsing

const failure = (error: string, usage: string): ParseResult => ({ ok: false, error, usage });

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let prevPrev = prev;
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      // A swapped pair of letters ("tood") counts as one edit.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prevPrev[j - 2] ?? 0) + 1);
      cur.push(d);
    }
    prevPrev = prev;
    prev = cur;
  }
  return prev[b.length] ?? 3;
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const limit = word.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best === undefined ? '' : ` Did you mean ${best}?`;
}

function readBool(flag: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['', 'true', 'yes', 'y', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'n', 'off', '0'].includes(v)) return false;
  throw new UsageError(`--${flag} takes no value (or yes/no), not ${quote(value)}.`);
}

const isWord = (t: Token | undefined): t is WordToken => t !== undefined && t.kind === 'word';

/** Splits the tokens after the command words into positional words and flag values. */
function collect(spec: Spec, tokens: readonly Token[], now: Date, options: ParseOptions): Args {
  const args: Args = { label: spec.label, words: [], flags: new Map() };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === undefined) continue;
    if (token.kind === 'word') {
      args.words.push(token);
      continue;
    }
    const name = lookup(FLAG_ALIASES, token.name) ?? token.name;
    const kind = lookup(spec.flags, name);
    if (kind === undefined) {
      if (spec.lenient === true) continue;
      throw new UsageError(`Unknown flag --${Array.from(token.name).slice(0, 30).join('')} for ${spec.label}.`);
    }
    if (args.flags.has(name)) throw new UsageError(`--${name} is given twice in ${spec.label}.`);
    const consumed = flagValue(spec, token, name, kind, tokens, i, now, options);
    args.flags.set(name, consumed.value);
    i += consumed.used;
  }
  return args;
}

/** The value of one flag and how many following tokens it used. */
function flagValue(spec: Spec, token: FlagToken, name: string, kind: FlagKind, tokens: readonly Token[], i: number, now: Date, options: ParseOptions): { value: string | boolean; used: number } {
  const missing = (): UsageError => new UsageError(`Missing value for --${name} in ${spec.label}.`);
  if (kind === 'bool') return { value: token.value === undefined ? true : readBool(name, token.value), used: 0 };

  if (token.value !== undefined) {
    const value = token.value.trim();
    if (value === '') throw missing();
    if (kind !== 'due') return { value, used: 0 };
    // `--due=tomorrow 5pm`: the date may run on into the following words.
    const longer = longestDate([value], tokens, i + 1, now, options);
    const iso = longer?.value ?? readDate(value, now, options);
    if (iso === undefined) throw new UsageError(`Could not read ${quote(value)} as a date for --${name}.`);
    return { value: iso, used: longer === undefined ? 0 : longer.used - 1 };
  }

  const next = tokens[i + 1];
  if (!isWord(next) || next.text.trim() === '') throw missing();

  if (kind === 'value') return { value: next.text.trim(), used: 1 };

  if (kind === 'text') {
    let used = 0;
    while (isWord(tokens[i + 1 + used])) used++;
    return { value: joined(tokens.slice(i + 1, i + 1 + used) as WordToken[]), used };
  }

  if (kind === 'domains') {
    let value = next.text.trim();
    let used = 1;
    for (let after = tokens[i + 1 + used]; isWord(after) && (value.endsWith(',') || after.text.startsWith(',')); after = tokens[i + 1 + used]) {
      value += after.text;
      used++;
    }
    return { value, used };
  }

  // due: a quoted value is the date; otherwise the longest run of following words that reads as one.
  if (next.quoted) {
    const iso = readDate(next.text, now, options);
    if (iso === undefined) throw new UsageError(`Could not read ${quote(next.text)} as a date for --${name}.`);
    return { value: iso, used: 1 };
  }
  const found = longestDate([], tokens, i + 1, now, options);
  if (found === undefined) throw new UsageError(`Could not read ${quote(next.text)} as a date for --${name}.`);
  return found;
}

/** The longest run of `start` plus unquoted words from `from` that reads as exactly one date. */
function longestDate(start: readonly string[], tokens: readonly Token[], from: number, now: Date, options: ParseOptions): { value: string; used: number } | undefined {
  const words = [...start];
  for (let j = from; j < tokens.length && words.length < 8; j++) {
    const t = tokens[j];
    if (!isWord(t) || t.quoted) break;
    words.push(t.text);
  }
  for (let len = words.length; len >= Math.max(1, start.length); len--) {
    const iso = readDate(words.slice(0, len).join(' '), now, options, true);
    if (iso !== undefined) return { value: iso, used: len };
  }
  return undefined;
}

function run(key: SpecKey, tokens: readonly Token[], now: Date, options: ParseOptions): ParseResult {
  const spec: Spec = SPECS[key];
  try {
    return { ok: true, command: spec.build(collect(spec, tokens, now, options)) };
  } catch (e) {
    if (e instanceof UsageError) return failure(e.message, USAGE[spec.usage]);
    throw e;
  }
}

function parseTokens(tokens: readonly Token[], now: Date, options: ParseOptions): ParseResult {
  const [first, ...after] = tokens;
  if (first === undefined) return failure('Type a command, or help for the list.', GENERAL_USAGE);
  if (first.kind === 'flag') return failure(`Start with a command, not --${Array.from(first.name).slice(0, 30).join('')}.`, GENERAL_USAGE);
  const word = first.text.toLowerCase();

  const family = lookup(FAMILY_WORDS, word);
  if (family !== undefined) {
    const sub = after[0];
    const familyUsage = FAMILY_USAGE[family.family];
    if (sub === undefined && family.bareSpec !== undefined) return run(family.bareSpec, [], now, options);
    if (!isWord(sub)) {
      const choices = Object.entries(SUBCOMMANDS[family.family])
        .filter(([w, k]) => k.endsWith(`.${w}`))
        .map(([w]) => w)
        .join(', ');
      return failure(`Say what to do with ${family.family}: ${choices}.`, familyUsage);
    }
    const subs = SUBCOMMANDS[family.family];
    const subWord = sub.text.toLowerCase();
    const key = lookup(subs, subWord);
    if (key === undefined) {
      return failure(`Unknown ${family.family} command ${quote(sub.text)}.${didYouMean(subWord, Object.keys(subs))}`, familyUsage);
    }
    return run(key, after.slice(1), now, options);
  }

  if (word === 'sync') {
    const sub = after[0];
    const subWord = isWord(sub) && !sub.quoted ? sub.text.toLowerCase() : '';
    if (subWord === 'status') return run('sync.status', after.slice(1), now, options);
    if (subWord === 'conflicts' || subWord === 'conflict') return run('sync.conflicts', after.slice(1), now, options);
    if (subWord === 'resolve') return run('sync.resolve', after.slice(1), now, options);
    return run('sync', after, now, options);
  }

  if (word === 'link') {
    const sub = after[0];
    if (isWord(sub) && !sub.quoted && sub.text.toLowerCase() === 'approve') return run('link.approve', after.slice(1), now, options);
    return run('link', after, now, options);
  }

  const direct = lookup(DIRECT, word);
  if (direct !== undefined) return run(direct, after, now, options);

  return failure(`Unknown command ${quote(first.text)}.${didYouMean(word, KNOWN_WORDS)}`, GENERAL_USAGE);
}

/**
 * Parses what a person typed (`/todo add Buy milk --due fri`, `done 2`, `STOP`) into a
 * `Command`, reading dates relative to `now`. Never throws: bad input is `{ ok: false }` with
 * a sentence and the usage line of the command that was meant.
 *
 * Forms: a leading `/` is optional; command words and flag names are case-insensitive; `—x`/`–x`
 * mean `--x`; quotes may be straight or smart. Short forms: `add`, `list`, `done|start|block|reopen
 * <ref>` are the `todo` commands; `todos`/`projects`/`topics`/`sessions` alone list. `stop` (any
 * case, anything after it ignored, like the SMS keyword) is `unsubscribe` with target `all`.
 * Single-word flag values with spaces need quotes (`--project "Chitty Chat"`); trailing names
 * (`project create Chitty Chat`) do not. `--due` takes the longest run of words that is a date.
 */
export function parseCommand(text: string, now: Date = new Date(), options: ParseOptions = {}): ParseResult {
  try {
    const input = typeof text === 'string' ? text : String(text);
    if (input.length > MAX_COMMAND_LENGTH) return failure(`Command too long (at most ${MAX_COMMAND_LENGTH} characters).`, GENERAL_USAGE);
    const trimmed = input.trim().replace(/^\/\s*/u, '');
    const when = now instanceof Date && !Number.isNaN(now.getTime()) ? now : new Date();
    return parseTokens(tokenize(trimmed), when, options);
  } catch {
    return failure('Could not read that command.', GENERAL_USAGE);
  }
}
