/**
 * One-line usage for every command and the `help` text. Usage lines are written without a
 * leading slash: every channel accepts commands with or without one.
 */
import { lookup, PRIORITIES, SYNC_DOMAINS, TODO_STATUSES } from './values.ts';

/** One-line usage, keyed by command name (`Command['name']`) plus `stop`. */
export const USAGE = {
  'todo.add': `todo add <text> [--project P] [--due <when>] [--priority ${PRIORITIES.join('|')}] [--assign <who>]`,
  'todo.list': `todo list [--project P] [--status ${TODO_STATUSES.join('|')}] [--mine]`,
  'todo.done': 'todo done <ref>  (ref: 2, #2 or CHITTY-TODO-…; short: done 2)',
  'todo.start': 'todo start <ref>  (ref: 2, #2 or CHITTY-TODO-…; short: start 2)',
  'todo.block': 'todo block <ref>  (ref: 2, #2 or CHITTY-TODO-…; short: block 2)',
  'todo.reopen': 'todo reopen <ref>  (ref: 2, #2 or CHITTY-TODO-…; short: reopen 2)',
  'todo.edit': 'todo edit <ref> <text>',
  'todo.assign': 'todo assign <ref> <who>',
  'todo.comment': 'todo comment <ref> <text>  (short: comment 2 <text>; in a reply mail: comment <text>)',
  'todo.delete': 'todo delete <ref>',
  'todo.reconcile': 'todo reconcile [--project P]',
  sync: `sync <${SYNC_DOMAINS.join('|')}|all> [--project P] [--session S] [--dry-run]`,
  'sync.status': 'sync status',
  'sync.conflicts': 'sync conflicts',
  'sync.resolve': 'sync resolve <conflict> <choice>  (choice: a number from sync conflicts, or the value text)',
  'project.create': 'project create <name> [--description D]',
  'project.list': 'project list',
  'project.show': 'project show <P>',
  'project.use': 'project use <P>',
  'topic.create': 'topic create <name> [--description D]',
  'topic.list': 'topic list',
  'topic.show': 'topic show <T>',
  'topic.archive': 'topic archive <T>',
  'session.start': 'session start [<name>] [--project P]',
  'session.end': 'session end [<S>]',
  'session.list': 'session list [--project P]',
  'session.show': 'session show <S>',
  subscribe: 'subscribe [project P | topic T] [--domains todos,sessions,…]  (no target: the whole hub)',
  unsubscribe: 'unsubscribe [project P | topic T | all]  (no target: the whole hub)',
  subscriptions: 'subscriptions',
  'link.start': 'link  (start linking this account)',
  'link.code': 'link <code>',
  'link.approve': 'link approve <code>',
  help: 'help [command]',
  more: 'more  (next page of the last long reply)',
  stop: 'stop  (unsubscribe this conversation from everything)',
} as const satisfies Record<string, string>;

export type UsageKey = keyof typeof USAGE;

/** The command families: the word a person types first, and the usage keys under it. */
export const FAMILIES = {
  todo: ['todo.add', 'todo.list', 'todo.done', 'todo.start', 'todo.block', 'todo.reopen', 'todo.edit', 'todo.assign', 'todo.comment', 'todo.delete', 'todo.reconcile'],
  sync: ['sync', 'sync.status', 'sync.conflicts', 'sync.resolve'],
  project: ['project.create', 'project.list', 'project.show', 'project.use'],
  topic: ['topic.create', 'topic.list', 'topic.show', 'topic.archive'],
  session: ['session.start', 'session.end', 'session.list', 'session.show'],
  subscribe: ['subscribe'],
  unsubscribe: ['unsubscribe', 'stop'],
  subscriptions: ['subscriptions'],
  link: ['link.start', 'link.code', 'link.approve'],
  help: ['help'],
  more: ['more'],
  stop: ['stop'],
} as const satisfies Record<string, readonly UsageKey[]>;

export type Family = keyof typeof FAMILIES;

/** One line for a whole family (what to show when the subcommand is missing or unknown). */
export const FAMILY_USAGE: Readonly<Record<Family, string>> = {
  todo: 'todo add|list|done|start|block|reopen|edit|assign|comment|delete|reconcile …  (help todo for details)',
  sync: 'sync <domain|all>|status|conflicts|resolve …  (help sync for details)',
  project: 'project create|list|show|use …  (help project for details)',
  topic: 'topic create|list|show|archive …  (help topic for details)',
  session: 'session start|end|list|show …  (help session for details)',
  subscribe: USAGE.subscribe,
  unsubscribe: USAGE.unsubscribe,
  subscriptions: USAGE.subscriptions,
  link: 'link | link <code> | link approve <code>',
  help: USAGE.help,
  more: USAGE.more,
  stop: USAGE.stop,
};

/** Short forms a phone user types, and the `todo` command each stands for (the parser reads them too). */
export const SHORT_FORMS = {
  add: 'todo.add',
  list: 'todo.list',
  done: 'todo.done',
  start: 'todo.start',
  block: 'todo.block',
  reopen: 'todo.reopen',
  comment: 'todo.comment',
} as const satisfies Record<string, UsageKey>;

const SHORT_FORMS_LINE = 'Short forms: add <text>, list, done 2, start 2, block 2, reopen 2, comment 2 <text>.';

/** The one-line list of everything, for an unknown or empty command. */
export const GENERAL_USAGE = `Commands: todo, sync, project, topic, session, subscribe, unsubscribe, subscriptions, link, help, more, stop. ${SHORT_FORMS_LINE}`;

const OVERVIEW_GROUPS: readonly (readonly [string, readonly UsageKey[]])[] = [
  ['Todos', FAMILIES.todo],
  ['Sync', FAMILIES.sync],
  ['Projects', FAMILIES.project],
  ['Topics', FAMILIES.topic],
  ['Sessions', FAMILIES.session],
  ['Subscriptions', ['subscribe', 'unsubscribe', 'subscriptions', 'stop']],
  ['Linking', FAMILIES.link],
  ['Other', ['more', 'help']],
];

function overview(): string {
  const lines = ['Commands (the leading / is optional; put names with spaces in quotes):'];
  for (const [title, keys] of OVERVIEW_GROUPS) {
    lines.push(`${title}:`);
    for (const key of keys) lines.push(`  ${USAGE[key]}`);
  }
  lines.push(SHORT_FORMS_LINE);
  lines.push('Dates: --due fri, --due "tomorrow 5pm", --due 2025-07-01.');
  return lines.join('\n');
}

const isFamily = (word: string): word is Family => Object.hasOwn(FAMILIES, word);

/**
 * Help text. No topic: a multi-line overview of every command. A family (`todo`): its usage
 * lines. A command (`todo add`, `sync resolve`) or short form (`done`): that one usage line.
 */
export function helpText(topic?: string): string {
  const words = (topic ?? '')
    .trim()
    .replace(/^\//u, '')
    .toLowerCase()
    .split(/\s+/u)
    .filter((w) => w.length > 0);
  const [first, second] = words;
  if (first === undefined) return overview();
  const family = first === 'todos' || first === 'projects' || first === 'topics' || first === 'sessions' ? first.slice(0, -1) : first;
  if (isFamily(family)) {
    const keys: readonly UsageKey[] = FAMILIES[family];
    if (second !== undefined) {
      const key = `${family}.${second}`;
      const match = keys.find((k) => k === key);
      if (match !== undefined) return USAGE[match];
    }
    return keys.map((k) => USAGE[k]).join('\n');
  }
  const short = lookup(SHORT_FORMS, first);
  if (short !== undefined) return USAGE[short];
  return `No help for "${Array.from(first).slice(0, 30).join('')}".\n${overview()}`;
}
