/** todo add|list|done|start|block|reopen|edit|assign|comment|delete|reconcile */
import type { Reply, ReplyItem } from '../../src/core/reply.ts';
import type { Entity } from '../../src/hub/hub.ts';
import type { Command } from '../grammar/index.ts';
import type { CommandContext } from '../context.ts';
import { projectFor, resolveRef, resolveWho } from './resolve.ts';
import { assigneeNames, commentLines, remember, rememberOne, todoItem } from './views.ts';

type TodoCommand = Extract<Command, { name: `todo.${string}` }>;

const OPEN = new Set(['pending', 'in_progress', 'blocked']);
/** Most todos one list shows (the hub's page limit); the title says how many more match. */
const LIST_PAGE = 1000;
const STATUS_CHANGE = {
  'todo.done': { status: 'completed', verb: 'Completed' },
  'todo.start': { status: 'in_progress', verb: 'Started' },
  'todo.block': { status: 'blocked', verb: 'Blocked' },
  'todo.reopen': { status: 'pending', verb: 'Reopened' },
} as const;

async function one(ctx: CommandContext, kind: Reply['kind'], title: string, t: Entity): Promise<Reply> {
  return { kind, title, items: [todoItem(t, rememberOne(ctx, t.chittyId), ctx, await assigneeNames(ctx, [t]))] };
}

export async function todoCommand(cmd: TodoCommand, ctx: CommandContext): Promise<Reply> {
  switch (cmd.name) {
    case 'todo.add': {
      const project = await projectFor(cmd.project, ctx);
      const assignees = cmd.assign ? [await resolveWho(cmd.assign, ctx)] : [];
      const t = await ctx.hub.create(
        'todos',
        {
          content: cmd.text,
          createdBy: ctx.person.id,
          ...(project ? { projectId: project.chittyId } : {}),
          ...(cmd.due ? { deadline: cmd.due } : {}),
          ...(cmd.priority ? { priority: cmd.priority } : {}),
          ...(assignees.length ? { assignees } : {}),
        },
        ctx.actor,
      );
      const reply = await one(ctx, 'ok', 'Todo added', t);
      if (project) reply.footer = `in ${String(project.name)}`;
      return reply;
    }
    case 'todo.list': {
      const project = await projectFor(cmd.project, ctx);
      // Filtered in SQL, so the page is the first LIST_PAGE matching todos, never a page of all of them filtered here.
      const filter = {
        ...(project ? { projectId: project.chittyId } : {}),
        ...(cmd.status ? { status: cmd.status } : { statuses: [...OPEN] }),
        ...(cmd.mine ? { mine: ctx.person.id } : {}),
      };
      const todos = await ctx.hub.list('todos', { ...filter, limit: LIST_PAGE });
      const total = todos.length < LIST_PAGE ? todos.length : await ctx.hub.count('todos', filter);
      const scope = [cmd.mine ? 'your' : '', cmd.status ? cmd.status.replace('_', ' ') : 'open'].filter(Boolean).join(' ');
      const shown = total > todos.length ? `first ${todos.length} of ${total}` : String(todos.length);
      const title = `${scope[0]!.toUpperCase()}${scope.slice(1)} todos${project ? ` in ${String(project.name)}` : ''} (${shown})`;
      if (todos.length === 0) return { kind: 'info', title, text: 'Nothing here. Add one with: add <text>' };
      const names = await assigneeNames(ctx, todos);
      const items: ReplyItem[] = remember(ctx, todos).map((t, i) => todoItem(t, i + 1, ctx, names));
      const narrow = total > todos.length ? ' Narrow the list with --project, --status or --mine.' : '';
      // The example names a number on the list: #2 when there are two or more, else #1.
      const n = Math.min(2, items.length);
      return { kind: 'info', title, items, footer: `Reply "done ${n}" to complete #${n}, "start ${n}" to start it.${narrow}` };
    }
    case 'todo.done':
    case 'todo.start':
    case 'todo.block':
    case 'todo.reopen': {
      const t = await resolveRef(cmd.ref, ctx);
      const { status, verb } = STATUS_CHANGE[cmd.name];
      const set: Record<string, unknown> = { status, completedAt: status === 'completed' ? ctx.now.toISOString() : null };
      const updated = t.status === status ? t : await ctx.hub.update('todos', t.chittyId, set, ctx.actor);
      return one(ctx, 'ok', t.status === status ? `Already ${status.replace('_', ' ')}` : verb, updated);
    }
    case 'todo.edit': {
      const t = await resolveRef(cmd.ref, ctx);
      return one(ctx, 'ok', 'Edited', await ctx.hub.update('todos', t.chittyId, { content: cmd.text }, ctx.actor));
    }
    case 'todo.assign': {
      const t = await resolveRef(cmd.ref, ctx);
      const who = await resolveWho(cmd.assignee, ctx);
      const name = who === ctx.person.id ? 'you' : ((await assigneeNames(ctx, [{ chittyId: '', assignees: [who] }])).get(who) ?? who);
      return one(ctx, 'ok', `Assigned to ${name}`, await ctx.hub.update('todos', t.chittyId, { assignees: [who] }, ctx.actor));
    }
    case 'todo.comment': {
      const t = await resolveRef(cmd.ref, ctx);
      const { entity } = await ctx.hub.comment('todos', t.chittyId, { text: cmd.text, by: ctx.person.id, name: ctx.person.name }, ctx.actor);
      const reply = await one(ctx, 'ok', 'Comment added', entity);
      return { ...reply, text: commentLines(entity).join('\n') };
    }
    case 'todo.delete': {
      const t = await resolveRef(cmd.ref, ctx);
      await ctx.hub.remove('todos', t.chittyId, ctx.actor);
      return { kind: 'ok', title: 'Deleted', text: String(t.content), footer: t.chittyId };
    }
    case 'todo.reconcile': {
      const project = await projectFor(cmd.project, ctx);
      if (!project) return { kind: 'usage', text: 'Which project? Add --project P, or pick one with "project use P" first.', footer: 'todo reconcile [--project P]' };
      const r = await ctx.hub.reconcileTodos({ projectId: project.chittyId }, ctx.actor);
      const names = await assigneeNames(ctx, r.todos);
      const merged = r.groups.reduce((n, g) => n + g.merged.length, 0);
      return {
        kind: 'ok',
        title: merged ? `Merged ${merged} duplicate todo${merged === 1 ? '' : 's'} in ${String(project.name)}` : `No duplicates in ${String(project.name)}`,
        items: remember(ctx, r.todos).map((t, i) => todoItem(t, i + 1, ctx, names)),
        footer: `${r.todos.length} todos`,
      };
    }
  }
}
