/** sync <domain|all> [--project] [--session] [--dry-run], sync status|conflicts|resolve */
import type { Reply } from '../../src/core/reply.ts';
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
      const r = await ctx.hub.sync({ domain: cmd.domain, dryRun: cmd.dryRun, ...(project ? { projectId: project.chittyId } : {}), ...(session ? { sessionId: session.chittyId } : {}) }, ctx.actor);
      const lines: string[] = [];
      for (const rec of r.reconciled) {
        const merged = rec.groups.reduce((n, g) => n + g.merged.length, 0);
        if (!merged && !project) continue;
        const name = project?.chittyId === rec.projectId ? project.name : (await ctx.hub.get('projects', rec.projectId))?.name;
        lines.push(`${String(name ?? rec.projectId)}: ${merged ? `${cmd.dryRun ? 'would merge' : 'merged'} ${merged} duplicate todo${merged === 1 ? '' : 's'}` : 'no duplicate todos'}`);
      }
      const entities = r.broadcast.reduce((n, b) => n + b.entities, 0);
      lines.push(`${cmd.dryRun ? 'Would broadcast' : 'Broadcast'} ${entities} entit${entities === 1 ? 'y' : 'ies'} of ${cmd.domain === 'all' ? 'every domain' : cmd.domain} to subscribers.`);
      return {
        kind: 'ok',
        title: `${cmd.dryRun ? 'Dry run: ' : ''}sync ${cmd.domain}${project ? ` (${String(project.name)})` : ''}`,
        text: lines.join('\n'),
        ...(cmd.dryRun ? { footer: 'Nothing was changed.' } : {}),
      };
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
      const open = remember(
        ctx,
        (await ctx.hub.conflicts('open')).map((c) => ({ ...c, chittyId: c.id })),
      );
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
