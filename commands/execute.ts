/** Runs a parsed Command against the hub: one handler per command family. */
import type { Reply } from '../src/core/reply.ts';
import type { Command } from './grammar/index.ts';
import type { CommandContext } from './context.ts';
import { todoCommand } from './handlers/todo.ts';
import { syncCommand } from './handlers/sync.ts';
import { entityCommand } from './handlers/entities.ts';
import { membershipCommand } from './handlers/membership.ts';

const READ_ONLY = new Set<string>([
  'todo.list',
  'sync.status',
  'sync.conflicts',
  'project.list',
  'project.show',
  'topic.list',
  'topic.show',
  'session.list',
  'session.show',
  'subscriptions',
  'help',
  'more',
]);

/** Commands that change nothing (safe to preview). `sync --dry-run` counts as read-only. */
export function isReadOnly(cmd: Command): boolean {
  return READ_ONLY.has(cmd.name) || (cmd.name === 'sync' && cmd.dryRun === true);
}

/** Runs every command but `more`, which the conversation core answers from its memory. */
export async function executeCommand(cmd: Exclude<Command, { name: 'more' }>, ctx: CommandContext): Promise<Reply> {
  if (cmd.name.startsWith('todo.')) return todoCommand(cmd as Parameters<typeof todoCommand>[0], ctx);
  if (cmd.name === 'sync' || cmd.name.startsWith('sync.')) return syncCommand(cmd as Parameters<typeof syncCommand>[0], ctx);
  if (/^(project|topic|session)\./.test(cmd.name)) return entityCommand(cmd as Parameters<typeof entityCommand>[0], ctx);
  return membershipCommand(cmd as Parameters<typeof membershipCommand>[0], ctx);
}
