/**
 * The command table: one spec per command (its label, usage line, flags and how its arguments
 * become a `Command`), and the words that pick a spec — families, subcommands, short forms.
 * Reading the tokens lives in `commands.ts`; this file only says what each command is.
 */
import type { WordToken } from './tokenize.ts';
import { SHORT_FORMS, type UsageKey } from './usage.ts';
import { quote, readDomain, readDomains, readIndex, readPriority, readRef, readStatus, SYNC_DOMAINS, type Read, type Ref } from './values.ts';
import type { Command, SubscriptionTarget } from './command.ts';

// ---------------------------------------------------------------------------------------------
// Command specs

export type FlagKind = 'value' | 'text' | 'bool' | 'due' | 'domains';

export interface Args {
  label: string;
  words: WordToken[];
  flags: Map<string, string | boolean>;
}

export interface Spec {
  /** How the command is named in errors: `todo add`. */
  label: string;
  usage: UsageKey;
  flags: Readonly<Record<string, FlagKind>>;
  /** Ignore unexpected arguments and flags (for `stop`, which must always work). */
  lenient?: boolean;
  build(args: Args): Command;
}

/** A usage problem inside a spec; `parseCommand` turns it into `{ ok: false }`. */
export class UsageError extends Error {}

export const FLAG_ALIASES: Readonly<Record<string, string>> = { dryrun: 'dry-run', domain: 'domains' };

const must = <T>(r: Read<T>): T => {
  if (!r.ok) throw new UsageError(r.error);
  return r.value;
};

const opt = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

export const joined = (words: readonly WordToken[]): string =>
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

export const SPECS = {
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
  'todo.comment': {
    label: 'todo comment',
    usage: 'todo.comment',
    flags: {},
    build: (a) => ({ name: 'todo.comment', ref: firstRef(a, 'todo'), text: rest(a, 1, 'comment text') }),
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

export type SpecKey = keyof typeof SPECS;

/** Subcommand words (and aliases) of each family. */
export const SUBCOMMANDS: Readonly<Record<'todo' | 'project' | 'topic' | 'session', Readonly<Record<string, SpecKey>>>> = {
  todo: {
    add: 'todo.add',
    new: 'todo.add',
    list: 'todo.list',
    ls: 'todo.list',
    done: 'todo.done',
    complete: 'todo.done',
    start: 'todo.start',
    block: 'todo.block',
    reopen: 'todo.reopen',
    edit: 'todo.edit',
    assign: 'todo.assign',
    comment: 'todo.comment',
    delete: 'todo.delete',
    rm: 'todo.delete',
    remove: 'todo.delete',
    reconcile: 'todo.reconcile',
  },
  project: { create: 'project.create', new: 'project.create', list: 'project.list', ls: 'project.list', show: 'project.show', use: 'project.use' },
  topic: { create: 'topic.create', new: 'topic.create', list: 'topic.list', ls: 'topic.list', show: 'topic.show', archive: 'topic.archive' },
  session: { start: 'session.start', end: 'session.end', stop: 'session.end', list: 'session.list', ls: 'session.list', show: 'session.show' },
};

/** First words that pick a family with subcommands; the plural alone lists (`todos` = `todo list`). */
export const FAMILY_WORDS: Readonly<Record<string, { family: keyof typeof SUBCOMMANDS; bareSpec?: SpecKey }>> = {
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
export const DIRECT: Readonly<Record<string, SpecKey>> = {
  subscribe: 'subscribe',
  sub: 'subscribe',
  unsubscribe: 'unsubscribe',
  unsub: 'unsubscribe',
  subscriptions: 'subscriptions',
  stop: 'stop',
  stopall: 'stop',
  help: 'help',
  '?': 'help',
  more: 'more',
  ...SHORT_FORMS,
};

export const KNOWN_WORDS = ['todo', 'sync', 'project', 'topic', 'session', 'link', ...Object.keys(DIRECT).filter((w) => w.length > 2)];
