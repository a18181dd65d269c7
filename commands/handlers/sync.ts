/** sync <domain|all> [--project] [--session] [--dry-run], sync status|conflicts|resolve */
import type { Reply } from '../../src/core/reply.ts';
import { DOMAINS, type Domain } from '../../src/hub/domains.ts';
import { InvalidChangeError, NotFoundError } from '../../src/hub/errors.ts';
import type { ConflictView } from '../../src/hub/hub.ts';
import type { Command, Ref } from '../grammar/index.ts';
import type { CommandContext } from '../context.ts';
import { projectFor, resolveNamed } from './resolve.ts';
import { remember } from './views.ts';

type SyncCommand = Extract<Command, { name: 'sync' | `sync.${string}` }>;

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

async function conflictByRef(ref: Ref, ctx: CommandContext): Promise<ConflictView> {
  const open = await ctx.hub.conflicts('open');
  const id = ref.kind === 'id' ? ref.id : ctx.conversation.lastList[ref.index - 1];
  const c = open.find((x) => x.id === id);
  if (!c) throw new NotFoundError(`No open conflict ${ref.kind === 'id' ? ref.id : `#${ref.index}`}; "sync conflicts" lists them.`);
  return c;
}

export async function syncCommand(cmd: SyncCommand, ctx: CommandContext): Promise<Reply> {
  switch (cmd.name) {
    case 'sync': {
      const project = await projectFor(cmd.project, ctx);
      const session = cmd.session ? await resolveNamed('sessions', cmd.session, ctx) : undefined;
      const domains: Domain[] = cmd.domain === 'all' ? [...DOMAINS] : [cmd.domain];
      const lines: string[] = [];
      if (domains.includes('todos')) {
        const projects = project ? [project] : await ctx.hub.list('projects', { limit: 1000 });
        for (const p of projects) {
          const r = await ctx.hub.reconcileTodos({ projectId: p.chittyId, dryRun: cmd.dryRun }, ctx.actor);
          const merged = r.groups.reduce((n, g) => n + g.merged.length, 0);
          if (merged || project) lines.push(`${String(p.name)}: ${merged ? `${cmd.dryRun ? 'would merge' : 'merged'} ${merged} duplicate todo${merged === 1 ? '' : 's'}` : 'no duplicate todos'}`);
        }
      }
      let entities = 0;
      for (const domain of domains) {
        const b = await ctx.hub.broadcast(
          { domain, dryRun: cmd.dryRun, ...(project ? { projectId: project.chittyId } : {}), ...(session ? { sessionId: session.chittyId } : {}) },
          ctx.actor,
        );
        entities += b.entities;
      }
      lines.push(`${cmd.dryRun ? 'Would broadcast' : 'Broadcast'} ${entities} entit${entities === 1 ? 'y' : 'ies'} of ${cmd.domain === 'all' ? 'every domain' : cmd.domain} to subscribers.`);
      return { kind: 'ok', title: `${cmd.dryRun ? 'Dry run: ' : ''}sync ${cmd.domain}${project ? ` (${String(project.name)})` : ''}`, text: lines.join('\n'), ...(cmd.dryRun ? { footer: 'Nothing was changed.' } : {}) };
    }
    case 'sync.status': {
      const s = await ctx.hub.stats();
      return {
        kind: 'info',
        title: 'Sync status',
        fields: [
          { label: 'Node', value: s.nodeId, inline: true },
          { label: 'Changes recorded', value: String(s.events), inline: true },
          { label: 'Waiting to fan out', value: String(s.outboxPending), inline: true },
          { label: 'Open conflicts', value: String(s.openConflicts), inline: true },
        ],
        ...(s.openConflicts ? { footer: 'See them with "sync conflicts".' } : {}),
      };
    }
    case 'sync.conflicts': {
      const open = remember(ctx, (await ctx.hub.conflicts('open')).map((c) => ({ ...c, chittyId: c.id })));
      if (open.length === 0) return { kind: 'info', title: 'No open conflicts', text: 'Every replica agrees.' };
      return {
        kind: 'info',
        title: `Open conflicts (${open.length})`,
        items: open.map((c, i) => ({ ref: String(i + 1), id: c.id, text: `${c.entityId} ${c.field}: ${c.versions.map((v, j) => `${j + 1}) ${show(v.value)}`).join('  ')}` })),
        footer: 'Resolve with "sync resolve <#> <choice #>", e.g. sync resolve 1 2',
      };
    }
    case 'sync.resolve': {
      const c = await conflictByRef(cmd.conflict, ctx);
      const choice = cmd.choice;
      if (choice.kind === 'index' && (choice.index < 1 || choice.index > c.versions.length)) throw new InvalidChangeError(`Choose 1 to ${c.versions.length}, or type the value you want.`);
      const { entity } = await ctx.hub.resolveConflict(c.id, choice.kind === 'index' ? { version: choice.index - 1 } : { value: choice.value }, ctx.actor);
      return { kind: 'ok', title: `Resolved: ${c.field} is now`, text: show(entity[c.field]), footer: c.entityId };
    }
  }
}
