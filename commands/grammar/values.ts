/**
 * Argument values of the command grammar: refs, priorities, statuses, domains, dates.
 * Each reader returns the value or a short sentence saying what was wrong.
 */
import * as chrono from 'chrono-node';
import type { Domain, TodoStatus as HubTodoStatus } from '../../src/hub/domains.ts';

/** A todo (or conflict) named by its ChittyID or by its number in the last list shown. */
export type Ref = { kind: 'id'; id: string } | { kind: 'index'; index: number };

export const SYNC_DOMAINS = ['topics', 'projects', 'sessions', 'todos', 'contexts', 'repos', 'services'] as const satisfies readonly Domain[];
export type SyncDomain = (typeof SYNC_DOMAINS)[number];

export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const TODO_STATUSES = ['pending', 'in_progress', 'completed', 'blocked'] as const satisfies readonly HubTodoStatus[];
export type TodoStatus = (typeof TODO_STATUSES)[number];

/** A value-or-problem result; `error` is a sentence for the person. */
export type Read<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Read<T> => ({ ok: true, value });
const fail = <T>(error: string): Read<T> => ({ ok: false, error });

const ID_REF = /^CHITTY-[A-Z]+-[0-9A-Z]+$/i;
const INDEX_REF = /^#?([0-9]+)$/;
/** Longest list number we accept; anything larger is a typo. */
export const MAX_INDEX = 1_000_000;

/**
 * `table[key]` when `key` is the table's own entry, else `undefined`: typed words such as
 * `constructor` or `__proto__` must not reach `Object.prototype`.
 */
export function lookup<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Shortens what the person typed for quoting back in an error. */
export function quote(text: string, max = 40): string {
  const chars = Array.from(text);
  return `"${chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text}"`;
}

/** A positive list number: `2` or `#2`. */
export function readIndex(text: string): number | undefined {
  const m = INDEX_REF.exec(text.trim());
  if (m === null || m[1] === undefined) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_INDEX ? n : undefined;
}

/** `CHITTY-TODO-…` (upper-cased) or a list number (`2`, `#2`). */
export function readRef(text: string, what = 'todo'): Read<Ref> {
  const t = text.trim();
  if (ID_REF.test(t)) return ok({ kind: 'id', id: t.toUpperCase() });
  const index = readIndex(t);
  if (index !== undefined) return ok({ kind: 'index', index });
  return fail(`${quote(t)} is not a ${what} number (like 2 or #2) or a CHITTY-… id.`);
}

export function readPriority(text: string): Read<Priority> {
  const t = text.trim().toLowerCase();
  return (PRIORITIES as readonly string[]).includes(t) ? ok(t as Priority) : fail(`Priority must be one of ${PRIORITIES.join(', ')} (not ${quote(text)}).`);
}

const STATUS_ALIASES: Readonly<Record<string, TodoStatus>> = {
  pending: 'pending',
  open: 'pending',
  todo: 'pending',
  in_progress: 'in_progress',
  'in-progress': 'in_progress',
  inprogress: 'in_progress',
  doing: 'in_progress',
  completed: 'completed',
  complete: 'completed',
  done: 'completed',
  blocked: 'blocked',
};

/** A todo status, also accepting done, open, todo, in-progress and doing. */
export function readStatus(text: string): Read<TodoStatus> {
  const status = lookup(STATUS_ALIASES, text.trim().toLowerCase());
  return status !== undefined ? ok(status) : fail(`Status must be one of ${TODO_STATUSES.join(', ')} (or done, open, doing), not ${quote(text)}.`);
}

const DOMAIN_ALIASES: Readonly<Record<string, SyncDomain>> = {
  topic: 'topics',
  project: 'projects',
  session: 'sessions',
  todo: 'todos',
  context: 'contexts',
  repo: 'repos',
  repository: 'repos',
  repositories: 'repos',
  service: 'services',
};

/** A sync domain, singular or plural, any case. */
export function readDomain(text: string): SyncDomain | undefined {
  const t = text.trim().toLowerCase();
  if ((SYNC_DOMAINS as readonly string[]).includes(t)) return t as SyncDomain;
  return lookup(DOMAIN_ALIASES, t);
}

/** A comma-separated domain list (`todos,sessions`); `all` means every domain. Deduplicated, in order. */
export function readDomains(text: string): Read<SyncDomain[]> {
  const parts = text.split(/[,\s]+/u).filter((p) => p.length > 0);
  if (parts.length === 0) return fail(`List domains after --domains, like --domains todos,sessions.`);
  const out: SyncDomain[] = [];
  for (const part of parts) {
    if (part.toLowerCase() === 'all') return ok([...SYNC_DOMAINS]);
    const domain = readDomain(part);
    if (domain === undefined) return fail(`Unknown domain ${quote(part)}; use ${SYNC_DOMAINS.join(', ')}.`);
    if (!out.includes(domain)) out.push(domain);
  }
  return ok(out);
}

/** Options for reading dates: chrono's timezone (offset minutes or an abbreviation like "EST"). */
export interface DateOptions {
  timezone?: string | number;
}

/**
 * The first date in `text` (relative to `now`, always forward), as an ISO string.
 * `whole` requires that date to span the entire text (used to find where a date ends).
 */
export function readDate(text: string, now: Date, options: DateOptions = {}, whole = false): string | undefined {
  const t = text.trim();
  if (t.length === 0 || t.length > 200) return undefined;
  try {
    const ref = options.timezone === undefined ? { instant: now } : { instant: now, timezone: options.timezone };
    const results = chrono.parse(t, ref, { forwardDate: true });
    const first = results[0];
    if (first === undefined) return undefined;
    if (whole && (first.index !== 0 || !/^[\s.,;:!?]*$/u.test(t.slice(first.text.length)))) return undefined;
    const date = first.start.date();
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  } catch {
    return undefined;
  }
}
