/**
 * What the grammar produces: the typed `Command` every handler takes, the parse result, and the
 * subscription targets. Types only (plus the input length limit); no parsing here.
 */
import type { DateOptions, Priority, Ref, SyncDomain, TodoStatus } from './values.ts';

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
  | { name: 'todo.comment'; ref: Ref; text: string }
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
