/**
 * The command grammar every channel shares: text in, a typed `Command` or a one-line usage
 * error out. Pure (no I/O) and total: `parseCommand` never throws.
 */
import { tokenize, type FlagToken, type Token, type WordToken } from './tokenize.ts';
import { FAMILY_USAGE, GENERAL_USAGE, SHORT_FORMS, USAGE, type UsageKey } from './usage.ts';
import {
  lookup,
  quote,
  readDate,
  readDomain,
  readDomains,
  readIndex,
  readPriority,
  readRef,
  readStatus,
  SYNC_DOMAINS,
  type DateOptions,
  type Priority,
  type Read,
  type Ref,
  type SyncDomain,
  type TodoStatus,
} from './values.ts';

/** How a conflict is resolved: by the number of a listed value, or by the value text itself. */
export type ResolveChoice = { kind: 'index'; index: number } | { kind: 'value'; value: string };

/**
 * Every command a person can type. Project, topic and session arguments are ids or names as
 * typed; the handler resolves them. `due` is an ISO-8601 instant.
 */
export type Command =
  | { name: 'todo.add'; text: string; project?: string; due?: string; priority?: Priority; assign?: string }
  | { name: 'todo.list'; project?: string; status?: TodoStatus; mine: boolean }
  | { name: 'todo.done'; ref: Ref }
  | { name: 'todo.start'; ref: Ref }
  | { name: 'todo.block'; ref: Ref }
  | { name: 'todo.reopen'; ref: Ref }
  | { name: 'todo.edit'; ref: Ref; text: string }
  | { name: 'todo.assign'; ref: Ref; assignee: string }
  | { name: 'todo.delete'; ref: Ref }
  | { name: 'todo.reconcile'; project?: string }
  | { name: 'sync'; domain: SyncDomain | 'all'; project?: string; session?: string; dryRun: boolean }
  | { name: 'sync.status' }
  | { name: 'sync.conflicts' }
  | { name: 'sync.resolve'; conflict: Ref; choice: ResolveChoice }
  | { name: 'project.create'; projectName: string; description?: string }
  | { name: 'project.list' }
  | { name: 'project.show'; project: string }
  | { name: 'project.use'; project: string }
  | { name: 'topic.create'; topicName: string; description?: string }
  | { name: 'topic.list' }
  | { name: 'topic.show'; topic: string }
  | { name: 'topic.archive'; topic: string }
  | { name: 'session.start'; sessionName?: string; project?: string }
  | { name: 'session.end'; session?: string }
  | { name: 'session.list'; project?: string }
  | { name: 'session.show'; session: string }
  /** No `domains`: every domain. */
  | { name: 'subscribe'; target: SubscriptionTarget; domains?: SyncDomain[] }
  | { name: 'unsubscribe'; target: UnsubscribeTarget }
  | { name: 'subscriptions' }
  | { name: 'link.start' }
  | { name: 'link.code'; code: string }
  | { name: 'link.approve'; code: string }
  | { name: 'help'; topic?: string }
  | { name: 'more' };

export type CommandName = Command['name'];

/** `error`: a short sentence for the person; `usage`: the one-line usage to show with it. */
export type ParseResult = { ok: true; command: Command } | { ok: false; error: string; usage: string };

/** Where a subscription points: the whole hub, one project or one topic (ids or names as typed). */
export type SubscriptionTarget = { kind: 'hub' } | { kind: 'project'; project: string } | { kind: 'topic'; topic: string };

/** `all` = every subscription of this conversation (`unsubscribe all`, `stop`). */
export type UnsubscribeTarget = SubscriptionTarget | { kind: 'all' };

/** Options beyond `now`: the timezone `--due` words are read in (chrono offset minutes or abbreviation). */
export type ParseOptions = DateOptions;

/** Longest text we parse; anything longer is refused before tokenizing. */
export const MAX_COMMAND_LENGTH = 4000;

// ---------------------------------------------------------------------------------------------
// Command specs

type FlagKind = 'value' | 'text' | 'bool' | 'due' | 'domains';

interface Args {
  label: string;
  words: WordToken[];
  flags: Map<string, string | boolean>;
}

interface Spec {
  /** How the command is named in errors: `todo add`. */
  label: string;
  usage: UsageKey;
  flags: Readonly<Record<string, FlagKind>>;
  /** Ignore unexpected arguments and flags (for `stop`, which must always work). */
  lenient?: boolean;
  build(args: Args): Command;
}

/** A usage problem inside a spec; `parseCommand` turns it into `{ ok: false }`. */
class UsageError extends Error {}

const FLAG_ALIASES: Readonly<Record<string, string>> = { dryrun: 'dry-run', domain: 'domains' };

const must = <T>(r: Read<T>): T => {
  if (!r.ok) throw new UsageError(r.error);
  return r.value;
};

const opt = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

const joined = (words: readonly WordToken[]): string =>
  words
    .map((w) => w.text)
    .join(' ')
    .trim();

const str = (a: Args, flag: string): string | undefined => {
  const v = a.flags.get(flag);
  return typeof v === 'string' ? v : undefined;
};

const bool = (a: Args, flag: string): boolean => a.flags.get(flag) === true;

function noArgs(a: Args): void {
  const extra = a.words[0];
  if (extra !== undefined) throw new UsageError(`Unexpected ${quote(extra.text)} after ${a.label}.`);
}

/** The words from `from` on as one name or text; missing is a usage error. */
function rest(a: Args, from: number, what: string): string {
  const text = joined(a.words.slice(from));
  if (text.length === 0) throw new UsageError(`Missing ${what} for ${a.label}.`);
  return text;
}

function oneRef(a: Args, what = 'todo'): Ref {
  const [first, extra] = a.words;
  if (first === undefined || first.text.trim() === '') throw new UsageError(`Missing ${what} number or id for ${a.label}.`);
  if (extra !== undefined) throw new UsageError(`Unexpected ${quote(extra.text)} after ${a.label} ${first.text}.`);
  return must(readRef(first.text, what));
}

function firstRef(a: Args, what: string): Ref {
  const first = a.words[0];
  if (first === undefined || first.text.trim() === '') throw new UsageError(`Missing ${what} number or id for ${a.label}.`);
  return must(readRef(first.text, what));
}

/** `project P`, `topic T`, or `hub`, `all` or nothing (the whole hub). */
function target(a: Args): SubscriptionTarget {
  const [first, ...others] = a.words;
  if (first === undefined) return { kind: 'hub' };
  const kind = first.quoted ? '' : first.text.toLowerCase();
  if ((kind === 'hub' || kind === 'all') && others.length === 0) return { kind: 'hub' };
  if (kind === 'project' || kind === 'projects') return { kind: 'project', project: rest(a, 1, 'project name or id') };
  if (kind === 'topic' || kind === 'topics') return { kind: 'topic', topic: rest(a, 1, 'topic name or id') };
  throw new UsageError(`${a.label === 'subscribe' ? 'Subscribe' : 'Unsubscribe'} to what? Write project P or topic T (nothing = the whole hub), not ${quote(first.text)}.`);
}

const refSpec = (name: 'todo.done' | 'todo.start' | 'todo.block' | 'todo.reopen' | 'todo.delete'): Spec => ({
  label: name.replace('.', ' '),
  usage: name,
  flags: {},
  build: (a) => ({ name, ref: oneRef(a) }),
});

const bare = (name: 'sync.status' | 'sync.conflicts' | 'project.list' | 'topic.list' | 'subscriptions' | 'more', label = name.replace('.', ' ')): Spec => ({
  label,
  usage: name,
  flags: {},
  build: (a) => {
    noArgs(a);
    return { name };
  },
});

const SPECS = {
  'todo.add': {
    label: 'todo add',
    usage: 'todo.add',
    flags: { project: 'value', due: 'due', priority: 'value', assign: 'value' },
    build: (a) => {
      const priority = str(a, 'priority');
      return {
        name: 'todo.add',
        text: rest(a, 0, 'todo text'),
        ...opt('project', str(a, 'project')),
        ...opt('due', str(a, 'due')),
        ...opt('priority', priority === undefined ? undefined : must(readPriority(priority))),
        ...opt('assign', str(a, 'assign')),
      };
    },
  },
  'todo.list': {
    label: 'todo list',
    usage: 'todo.list',
    flags: { project: 'value', status: 'value', mine: 'bool' },
    build: (a) => {
      noArgs(a);
      const status = str(a, 'status');
      return {
        name: 'todo.list',
        ...opt('project', str(a, 'project')),
        ...opt('status', status === undefined ? undefined : must(readStatus(status))),
        mine: bool(a, 'mine'),
      };
    },
  },
  'todo.done': refSpec('todo.done'),
  'todo.start': refSpec('todo.start'),
  'todo.block': refSpec('todo.block'),
  'todo.reopen': refSpec('todo.reopen'),
  'todo.delete': refSpec('todo.delete'),
  'todo.edit': {
    label: 'todo edit',
    usage: 'todo.edit',
    flags: {},
    build: (a) => ({ name: 'todo.edit', ref: firstRef(a, 'todo'), text: rest(a, 1, 'new text') }),
  },
  'todo.assign': {
    label: 'todo assign',
    usage: 'todo.assign',
    flags: {},
    build: (a) => ({ name: 'todo.assign', ref: firstRef(a, 'todo'), assignee: rest(a, 1, 'who to assign') }),
  },
  'todo.reconcile': {
    label: 'todo reconcile',
    usage: 'todo.reconcile',
    flags: { project: 'value' },
    build: (a) => {
      noArgs(a);
      return { name: 'todo.reconcile', ...opt('project', str(a, 'project')) };
    },
  },
  sync: {
    label: 'sync',
    usage: 'sync',
    flags: { project: 'value', session: 'value', 'dry-run': 'bool' },
    build: (a) => {
      const [first, extra] = a.words;
      if (first === undefined) throw new UsageError(`Say what to sync: ${SYNC_DOMAINS.join(', ')} or all.`);
      const word = first.text.trim().toLowerCase();
      const domain = word === 'all' ? 'all' : readDomain(word);
      if (domain === undefined) throw new UsageError(`Cannot sync ${quote(first.text)}; use ${SYNC_DOMAINS.join(', ')} or all.`);
      if (extra !== undefined) throw new UsageError(`Unexpected ${quote(extra.text)} after sync ${word}.`);
      return {
        name: 'sync',
        domain,
        ...opt('project', str(a, 'project')),
        ...opt('session', str(a, 'session')),
        dryRun: bool(a, 'dry-run'),
      };
    },
  },
  'sync.status': bare('sync.status'),
  'sync.conflicts': bare('sync.conflicts'),
  'sync.resolve': {
    label: 'sync resolve',
    usage: 'sync.resolve',
    flags: {},
    build: (a) => {
      const conflict = firstRef(a, 'conflict');
      const words = a.words.slice(1);
      const text = rest(a, 1, 'choice (a number or the value)');
      const only = words.length === 1 ? words[0] : undefined;
      const index = only !== undefined && !only.quoted ? readIndex(only.text) : undefined;
      return { name: 'sync.resolve', conflict, choice: index !== undefined ? { kind: 'index', index } : { kind: 'value', value: text } };
    },
  },
  'project.create': {
    label: 'project create',
    usage: 'project.create',
    flags: { description: 'text' },
    build: (a) => ({ name: 'project.create', projectName: rest(a, 0, 'project name'), ...opt('description', str(a, 'description')) }),
  },
  'project.list': bare('project.list'),
  'project.show': {
    label: 'project show',
    usage: 'project.show',
    flags: {},
    build: (a) => ({ name: 'project.show', project: rest(a, 0, 'project name or id') }),
  },
  'project.use': {
    label: 'project use',
    usage: 'project.use',
    flags: {},
    build: (a) => ({ name: 'project.use', project: rest(a, 0, 'project name or id') }),
  },
  'topic.create': {
    label: 'topic create',
    usage: 'topic.create',
    flags: { description: 'text' },
    build: (a) => ({ name: 'topic.create', topicName: rest(a, 0, 'topic name'), ...opt('description', str(a, 'description')) }),
  },
  'topic.list': bare('topic.list'),
  'topic.show': {
    label: 'topic show',
    usage: 'topic.show',
    flags: {},
    build: (a) => ({ name: 'topic.show', topic: rest(a, 0, 'topic name or id') }),
  },
  'topic.archive': {
    label: 'topic archive',
    usage: 'topic.archive',
    flags: {},
    build: (a) => ({ name: 'topic.archive', topic: rest(a, 0, 'topic name or id') }),
  },
  'session.start': {
    label: 'session start',
    usage: 'session.start',
    flags: { project: 'value' },
    build: (a) => {
      const sessionName = joined(a.words);
      return { name: 'session.start', ...opt('sessionName', sessionName || undefined), ...opt('project', str(a, 'project')) };
    },
  },
  'session.end': {
    label: 'session end',
    usage: 'session.end',
    flags: {},
    build: (a) => ({ name: 'session.end', ...opt('session', joined(a.words) || undefined) }),
  },
  'session.list': {
    label: 'session list',
    usage: 'session.list',
    flags: { project: 'value' },
    build: (a) => {
      noArgs(a);
      return { name: 'session.list', ...opt('project', str(a, 'project')) };
    },
  },
  'session.show': {
    label: 'session show',
    usage: 'session.show',
    flags: {},
    build: (a) => ({ name: 'session.show', session: rest(a, 0, 'session name or id') }),
  },
  subscribe: {
    label: 'subscribe',
    usage: 'subscribe',
    flags: { domains: 'domains' },
    build: (a) => {
      const t = target(a);
      const domains = str(a, 'domains');
      return { name: 'subscribe', target: t, ...opt('domains', domains === undefined ? undefined : must(readDomains(domains))) };
    },
  },
  unsubscribe: {
    label: 'unsubscribe',
    usage: 'unsubscribe',
    flags: {},
    build: (a) => {
      // `all` or `everything` alone: every subscription of this conversation, like `stop`.
      const [first, ...others] = a.words;
      const word = first === undefined || first.quoted ? '' : first.text.toLowerCase();
      const all = (word === 'all' || word === 'everything') && others.length === 0;
      return { name: 'unsubscribe', target: all ? { kind: 'all' } : target(a) };
    },
  },
  stop: {
    label: 'stop',
    usage: 'stop',
    flags: {},
    lenient: true,
    build: () => ({ name: 'unsubscribe', target: { kind: 'all' } }),
  },
  subscriptions: bare('subscriptions'),
  link: {
    label: 'link',
    usage: 'link.code',
    flags: {},
    build: (a) => {
      const [code, extra] = a.words;
      if (code === undefined) return { name: 'link.start' };
      if (extra !== undefined) throw new UsageError(`Unexpected ${quote(extra.text)} after link ${code.text}.`);
      return { name: 'link.code', code: code.text.trim() };
    },
  },
  'link.approve': {
    label: 'link approve',
    usage: 'link.approve',
    flags: {},
    build: (a) => {
      const [code, extra] = a.words;
      if (code === undefined || code.text.trim() === '') throw new UsageError('Missing code for link approve.');
      if (extra !== undefined) throw new UsageError(`Unexpected ${quote(extra.text)} after link approve ${code.text}.`);
      return { name: 'link.approve', code: code.text.trim() };
    },
  },
  help: {
    label: 'help',
    usage: 'help',
    flags: {},
    build: (a) => {
      const topic = joined(a.words).replace(/^\//u, '').toLowerCase().replace(/\s+/gu, ' ').trim();
      return { name: 'help', ...opt('topic', topic || undefined) };
    },
  },
  more: bare('more'),
} as const satisfies Record<string, Spec>;

type SpecKey = keyof typeof SPECS;

/** Subcommand words (and aliases) of each family. */
const SUBCOMMANDS: Readonly<Record<'todo' | 'project' | 'topic' | 'session', Readonly<Record<string, SpecKey>>>> = {
  todo: {
    add: 'todo.add', new: 'todo.add',
    list: 'todo.list', ls: 'todo.list',
    done: 'todo.done', complete: 'todo.done',
    start: 'todo.start',
    block: 'todo.block',
    reopen: 'todo.reopen',
    edit: 'todo.edit',
    assign: 'todo.assign',
    delete: 'todo.delete', rm: 'todo.delete', remove: 'todo.delete',
    reconcile: 'todo.reconcile',
  },
  project: { create: 'project.create', new: 'project.create', list: 'project.list', ls: 'project.list', show: 'project.show', use: 'project.use' },
  topic: { create: 'topic.create', new: 'topic.create', list: 'topic.list', ls: 'topic.list', show: 'topic.show', archive: 'topic.archive' },
  session: { start: 'session.start', end: 'session.end', stop: 'session.end', list: 'session.list', ls: 'session.list', show: 'session.show' },
};

/** First words that pick a family with subcommands; the plural alone lists (`todos` = `todo list`). */
const FAMILY_WORDS: Readonly<Record<string, { family: keyof typeof SUBCOMMANDS; bareSpec?: SpecKey }>> = {
  todo: { family: 'todo' },
  todos: { family: 'todo', bareSpec: 'todo.list' },
  project: { family: 'project' },
  projects: { family: 'project', bareSpec: 'project.list' },
  topic: { family: 'topic' },
  topics: { family: 'topic', bareSpec: 'topic.list' },
  session: { family: 'session' },
  sessions: { family: 'session', bareSpec: 'session.list' },
};

/** First words that are a whole command (including the short forms for phones). */
const DIRECT: Readonly<Record<string, SpecKey>> = {
  subscribe: 'subscribe', sub: 'subscribe',
  unsubscribe: 'unsubscribe', unsub: 'unsubscribe',
  subscriptions: 'subscriptions',
  stop: 'stop', stopall: 'stop',
  help: 'help', '?': 'help',
  more: 'more',
  ...SHORT_FORMS,
};

const KNOWN_WORDS = ['todo', 'sync', 'project', 'topic', 'session', 'link', ...Object.keys(DIRECT).filter((w) => w.length > 2)];

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
function flagValue(
  spec: Spec,
  token: FlagToken,
  name: string,
  kind: FlagKind,
  tokens: readonly Token[],
  i: number,
  now: Date,
  options: ParseOptions,
): { value: string | boolean; used: number } {
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
