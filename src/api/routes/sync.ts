/** The spec's sync endpoints: replica changes in, broadcasts out, conflicts, sync status. */
import { z } from 'zod';
import { DomainSchema } from '../../hub/domains.ts';
import type { Hub } from '../../hub/hub.ts';
import { SyncMessageSchema } from '../../sync/sync-message.ts';
import { route, type RouteDef } from '../route-table.ts';
import { actorOf } from '../auth.ts';

const MAX_BATCH = 500;
const SyncBody = z.union([z.strictObject({ messages: z.array(SyncMessageSchema).min(1).max(MAX_BATCH) }), SyncMessageSchema]);
const SyncScope = z.strictObject({
  domain: z.union([DomainSchema, z.literal('all')]),
  projectId: z.string().max(200).optional(),
  sessionId: z.string().max(200).optional(),
  dryRun: z.boolean().default(false),
  target: z
    .strictObject({
      platforms: z.array(z.string().trim().toLowerCase().min(1).max(50)).max(50).optional().describe('Only these platforms or channels (web, cli, mcp, slack, sms, webhook…)'),
      models: z.array(z.string().trim().toLowerCase().min(1).max(50)).max(50).optional().describe('Only these AI models (MCP clients and webhook subscriptions labelled with a model)'),
    })
    .optional()
    .describe('Narrow the broadcast to these destinations (chitty sync --platform/--channel/--model); default everyone'),
});
const scope = (b: z.infer<typeof SyncScope>) => ({
  domain: b.domain,
  dryRun: b.dryRun,
  ...(b.projectId ? { projectId: b.projectId } : {}),
  ...(b.sessionId ? { sessionId: b.sessionId } : {}),
  ...(b.target ? { target: { ...(b.target.platforms ? { platforms: b.target.platforms } : {}), ...(b.target.models ? { models: b.target.models } : {}) } } : {}),
});

/** Extra sync-status figures from the fan-out (deliveries by status). */
export type DeliveryCounts = (entityId: string) => Promise<Record<string, number>>;

export function syncRoutes(hub: Hub, deliveryCounts?: DeliveryCounts): RouteDef[] {
  return [
    route({
      method: 'GET',
      url: '/sync/conflicts',
      tag: 'sync',
      summary: 'List conflicts (open by default), newest first, cursor-paged by id',
      query: z.strictObject({
        status: z.enum(['open', 'resolved', 'all']).default('open'),
        after: z.string().max(200).optional().describe('Cursor: the last id of the previous page (newest first)'),
        limit: z.coerce.number().int().min(1).max(1000).default(500),
      }),
      handler: async ({ query }) => {
        const items = await hub.conflicts(query.status, { limit: query.limit, ...(query.after ? { after: query.after } : {}) });
        return { items, next: items.length === query.limit ? (items[items.length - 1]?.id ?? null) : null };
      },
    }),
    route({
      method: 'POST',
      url: '/sync/conflicts/:id/resolve',
      tag: 'sync',
      summary: 'Resolve a conflict: choose a version (index, change id or node id) or give a value',
      params: z.object({ id: z.string().min(1).max(200) }),
      body: z
        .strictObject({ version: z.union([z.number().int().nonnegative(), z.string().min(1).max(200)]).optional(), value: z.string().max(20_000).optional() })
        .refine((b) => (b.version === undefined) !== (b.value === undefined), 'send exactly one of "version" or "value"'),
      handler: ({ params, body, req }) =>
        hub.resolveConflict(params.id, { ...(body.version !== undefined ? { version: body.version } : {}), ...(body.value !== undefined ? { value: body.value } : {}) }, actorOf(req)),
    }),
    route({
      method: 'POST',
      url: '/sync/broadcast',
      tag: 'sync',
      summary: 'Broadcast a state snapshot of a domain (or all) to every subscriber',
      body: SyncScope,
      handler: async ({ body, req }) => {
        const r = await hub.sync({ ...scope(body), reconcile: false }, actorOf(req));
        return { dryRun: r.dryRun, results: r.broadcast };
      },
    }),
    route({
      method: 'POST',
      url: '/sync/run',
      tag: 'sync',
      summary: 'What `chitty sync <domain>` does: reconcile parallel-session todos (todos or all), then broadcast the state',
      body: SyncScope,
      handler: ({ body, req }) => hub.sync(scope(body), actorOf(req)),
    }),
    route({
      method: 'GET',
      url: '/sync/:domain/:id/status',
      tag: 'sync',
      summary: 'Sync status of one entity: clock, events, outbox, open conflicts',
      params: z.object({ domain: DomainSchema, id: z.string().min(1).max(200) }),
      handler: async ({ params }) => {
        const status = await hub.syncStatus(params.domain, params.id);
        return deliveryCounts ? { ...status, deliveries: await deliveryCounts(params.id) } : status;
      },
    }),
    route({
      method: 'POST',
      url: '/sync/:domain/:id',
      tag: 'sync',
      summary: "Broadcast one entity's current state",
      params: z.object({ domain: DomainSchema, id: z.string().min(1).max(200) }),
      body: z.strictObject({ dryRun: z.boolean().default(false) }).optional(),
      handler: ({ params, body, req }) => hub.broadcast({ domain: params.domain, entityId: params.id, dryRun: body?.dryRun ?? false }, actorOf(req)),
    }),
    route({
      method: 'POST',
      url: '/sync/:domain',
      tag: 'sync',
      summary: `Apply SyncMessages from another replica (one message, or {messages: [...]} up to ${MAX_BATCH}); duplicates are ignored`,
      params: z.object({ domain: DomainSchema }),
      body: SyncBody,
      handler: async ({ params, body }) => {
        const messages = 'messages' in body ? body.messages : [body];
        const results = await hub.applyRemote(params.domain, messages);
        const entityIds = [...new Set(results.flatMap((r) => (r.entityId ? [r.entityId] : [])))];
        return { results, openConflicts: await hub.conflicts('open', { entityIds, limit: 1000 }) };
      },
    }),
  ];
}
