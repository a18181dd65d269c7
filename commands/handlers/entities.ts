/** project create|list|show|use, topic create|list|show|archive, session start|end|list|show */
import type { Reply, ReplyField } from '../../src/core/reply.ts';
import { SESSION_PLATFORMS } from '../../src/hub/domains.ts';
import type { Entity } from '../../src/hub/hub.ts';
import type { Command } from '../grammar/index.ts';
import type { CommandContext } from '../context.ts';
import { projectFor, resolveNamed } from './resolve.ts';
import { namedItem, remember, rememberOne } from './views.ts';

type EntityCommand = Extract<Command, { name: `project.${string}` | `topic.${string}` | `session.${string}` }>;

function details(e: Entity, fields: [string, string][]): ReplyField[] {
  return fields
    .filter(([key]) => e[key] !== undefined && e[key] !== null && e[key] !== '' && !(Array.isArray(e[key]) && (e[key] as unknown[]).length === 0))
    .map(([key, label]) => ({ label, value: Array.isArray(e[key]) ? (e[key] as unknown[]).join(', ') : String(e[key]), inline: true }));
}

async function counts(ctx: CommandContext, projectId: string): Promise<string> {
  const todos = await ctx.hub.list('todos', { projectId, limit: 1000 });
  const by = (s: string) => todos.filter((t) => t.status === s).length;
  return `${by('pending')} pending · ${by('in_progress')} in progress · ${by('blocked')} blocked · ${by('completed')} done`;
}

export async function entityCommand(cmd: EntityCommand, ctx: CommandContext): Promise<Reply> {
  switch (cmd.name) {
    case 'project.create': {
      const p = await ctx.hub.create('projects', { name: cmd.projectName, ...(cmd.description ? { description: cmd.description } : {}), owner: ctx.person.id }, ctx.actor);
      return { kind: 'ok', title: 'Project created', items: [namedItem(p, rememberOne(ctx, p.chittyId), 'name')], footer: `Use it here with: project use ${String(p.name)}` };
    }
    case 'project.list': {
      const ps = remember(ctx, await ctx.hub.list('projects', { limit: 1000 }));
      if (ps.length === 0) return { kind: 'info', title: 'No projects yet', text: 'Create one: project create <name>' };
      return {
        kind: 'info',
        title: `Projects (${ps.length})`,
        items: ps.map((p, i) => namedItem(p, i + 1, 'name')),
        ...(ctx.conversation.projectId ? { footer: `In use here: ${ctx.conversation.projectId}` } : {}),
      };
    }
    case 'project.show': {
      const p = await resolveNamed('projects', cmd.project, ctx);
      return {
        kind: 'info',
        title: String(p.name),
        ...(p.description ? { text: String(p.description) } : {}),
        fields: [
          ...details(p, [
            ['status', 'Status'],
            ['owner', 'Owner'],
          ]),
          { label: 'Todos', value: await counts(ctx, p.chittyId) },
        ],
        footer: p.chittyId,
      };
    }
    case 'project.use': {
      const p = await resolveNamed('projects', cmd.project, ctx);
      ctx.conversation.projectId = p.chittyId;
      return { kind: 'ok', title: `Using ${String(p.name)}`, text: 'Todo commands here now apply to this project unless you add --project.', footer: p.chittyId };
    }
    case 'topic.create': {
      const project = ctx.conversation.projectId;
      const t = await ctx.hub.create('topics', { title: cmd.topicName, ...(cmd.description ? { description: cmd.description } : {}), ...(project ? { projectId: project } : {}) }, ctx.actor);
      return { kind: 'ok', title: 'Topic created', items: [namedItem(t, rememberOne(ctx, t.chittyId), 'title')] };
    }
    case 'topic.list': {
      const ts = remember(
        ctx,
        (await ctx.hub.list('topics', { limit: 1000 })).filter((t) => t.status === 'active'),
      );
      if (ts.length === 0) return { kind: 'info', title: 'No topics', text: 'Create one: topic create <name>' };
      return { kind: 'info', title: `Topics (${ts.length})`, items: ts.map((t, i) => namedItem(t, i + 1, 'title')) };
    }
    case 'topic.show': {
      const t = await resolveNamed('topics', cmd.topic, ctx);
      return {
        kind: 'info',
        title: String(t.title),
        ...(t.description ? { text: String(t.description) } : {}),
        fields: details(t, [
          ['status', 'Status'],
          ['projectId', 'Project'],
          ['participants', 'Participants'],
          ['tags', 'Tags'],
        ]),
        footer: t.chittyId,
      };
    }
    case 'topic.archive': {
      const t = await resolveNamed('topics', cmd.topic, ctx);
      const u = await ctx.hub.update('topics', t.chittyId, { status: 'archived' }, ctx.actor);
      return { kind: 'ok', title: `Archived ${String(u.title)}`, footer: u.chittyId };
    }
    case 'session.start': {
      const project = await projectFor(cmd.project, ctx);
      const s = await ctx.hub.create(
        'sessions',
        {
          title: cmd.sessionName ?? `${ctx.channel} session`,
          platform: (SESSION_PLATFORMS as readonly string[]).includes(ctx.channel) ? ctx.channel : 'api',
          status: 'active',
          startedAt: ctx.now.toISOString(),
          participants: [ctx.person.id],
          ...(project ? { projectId: project.chittyId } : {}),
        },
        ctx.actor,
      );
      ctx.conversation.sessionId = s.chittyId;
      return { kind: 'ok', title: 'Session started', items: [namedItem(s, rememberOne(ctx, s.chittyId), 'title')], footer: 'End it with: session end' };
    }
    case 'session.end': {
      const s = cmd.session ? await resolveNamed('sessions', cmd.session, ctx) : ctx.conversation.sessionId ? await ctx.hub.mustGet('sessions', ctx.conversation.sessionId) : undefined;
      if (!s) return { kind: 'usage', text: 'Which session? No session was started in this conversation.', footer: 'session end [<S>]' };
      const u = await ctx.hub.update('sessions', s.chittyId, { status: 'ended', endedAt: ctx.now.toISOString() }, ctx.actor);
      if (ctx.conversation.sessionId === s.chittyId) delete ctx.conversation.sessionId;
      return { kind: 'ok', title: `Ended ${String(u.title || u.chittyId)}`, footer: u.chittyId };
    }
    case 'session.list': {
      const project = await projectFor(cmd.project, ctx);
      const ss = remember(
        ctx,
        (await ctx.hub.list('sessions', { ...(project ? { projectId: project.chittyId } : {}), limit: 1000 })).filter((s) => s.status !== 'ended'),
      );
      if (ss.length === 0) return { kind: 'info', title: 'No active sessions', text: 'Start one: session start [name]' };
      return { kind: 'info', title: `Active sessions (${ss.length})`, items: ss.map((s, i) => namedItem(s, i + 1, 'title')) };
    }
    case 'session.show': {
      const s = await resolveNamed('sessions', cmd.session, ctx);
      return {
        kind: 'info',
        title: String(s.title || s.chittyId),
        fields: details(s, [
          ['status', 'Status'],
          ['platform', 'Platform'],
          ['projectId', 'Project'],
          ['startedAt', 'Started'],
          ['participants', 'Participants'],
        ]),
        footer: s.chittyId,
      };
    }
  }
}
