/** CRUD for every domain, plus the spec's session, todo and context endpoints. */
import { z } from 'zod';
import { createSchema, DOMAINS, domainSpec, updateSchema, type Domain } from '../../hub/domains.ts';
import type { Hub } from '../../hub/hub.ts';
import { NotFoundError } from '../../hub/errors.ts';
import { route, type RouteDef } from '../route-table.ts';
import { actorOf } from '../auth.ts';

const Id = z.object({ id: z.string().min(1).max(200) });
const Entity = z.record(z.string(), z.unknown()).describe('Entity');
const EntityList = z.object({ items: z.array(Entity), next: z.string().nullable() });
const ListQuery = z.strictObject({
  projectId: z.string().max(200).optional(),
  sessionId: z.string().max(200).optional(),
  status: z.string().max(50).optional(),
  assignee: z.string().max(200).optional(),
  after: z.string().max(200).optional().describe('Cursor: the last id of the previous page'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  includeDeleted: z.enum(['true', 'false']).optional(),
});
const AtQuery = z.strictObject({ at: z.iso.datetime({ offset: true }).optional().describe('Return the state as it was at this time') });

function crud(hub: Hub, domain: Domain): RouteDef[] {
  const spec = domainSpec(domain);
  const tag = domain;
  const name = spec.entityType;
  return [
    route({
      method: 'POST',
      url: `/${domain}`,
      tag,
      status: 201,
      summary: `Create a ${name}`,
      body: createSchema(domain),
      response: Entity,
      handler: ({ body, req }) => hub.create(domain, body, actorOf(req)),
    }),
    route({
      method: 'GET',
      url: `/${domain}`,
      tag,
      summary: `List ${domain} (filtered, cursor-paged by id)`,
      query: ListQuery,
      response: EntityList,
      handler: async ({ query }) => {
        const items = await hub.list(domain, {
          ...(query.projectId ? { projectId: query.projectId } : {}),
          ...(query.sessionId ? { sessionId: query.sessionId } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(query.assignee ? { assignee: query.assignee } : {}),
          ...(query.after ? { after: query.after } : {}),
          includeDeleted: query.includeDeleted === 'true',
          limit: query.limit,
        });
        return { items, next: items.length === query.limit ? (items[items.length - 1]?.chittyId ?? null) : null };
      },
    }),
    route({
      method: 'GET',
      url: `/${domain}/:id`,
      tag,
      summary: `Get a ${name}; with ?at=ISO, as it was then`,
      params: Id,
      query: AtQuery,
      response: Entity,
      handler: async ({ params, query }) => {
        if (!query.at) return hub.mustGet(domain, params.id);
        const e = await hub.getAt(domain, params.id, new Date(query.at));
        if (!e) throw new NotFoundError(`No ${name} with id ${params.id} existed at ${query.at}.`);
        return e;
      },
    }),
    route({
      method: 'PUT',
      url: `/${domain}/:id`,
      tag,
      summary: `Update a ${name} (only the fields sent; set fields replace the set)`,
      params: Id,
      body: updateSchema(domain),
      response: Entity,
      handler: ({ params, body, req }) => hub.update(domain, params.id, body, actorOf(req)),
    }),
    route({
      method: 'DELETE',
      url: `/${domain}/:id`,
      tag,
      summary: domain === 'sessions' ? 'End a session (status ended; it stays readable)' : `Delete a ${name} (kept in the event log)`,
      params: Id,
      response: Entity,
      handler: ({ params, req }) => (domain === 'sessions' ? hub.update('sessions', params.id, { status: 'ended' }, actorOf(req)) : hub.remove(domain, params.id, actorOf(req))),
    }),
    route({
      method: 'GET',
      url: `/${domain}/:id/history`,
      tag,
      summary: `Event log of a ${name} (each change with its vector clock and checksum)`,
      params: Id,
      handler: async ({ params }) => {
        const events = await hub.history(params.id);
        if (events.length === 0) throw new NotFoundError(`No ${name} with id ${params.id}.`);
        return { items: events };
      },
    }),
  ];
}

const Reconcile = z.strictObject({ projectId: z.string().min(1).max(200), dryRun: z.boolean().default(false) });
const Enrich = z.strictObject({
  source: z.string().min(1).max(200),
  kind: z.string().max(50).default('note'),
  data: z.record(z.string(), z.unknown()).default({}),
  keyPoints: z.array(z.string().max(2000)).max(50).optional(),
  summary: z.string().max(20_000).optional(),
});
const Propagate = z.strictObject({
  contextId: z.string().min(1).max(200),
  source: z.string().max(50).optional(),
  target: z.string().max(50).optional(),
  targets: z.array(z.string().max(50)).max(50).optional(),
  summary: z.string().max(20_000).optional(),
});
const SyncRequest = z.strictObject({ dryRun: z.boolean().default(false) }).default({ dryRun: false });

export function entityRoutes(hub: Hub): RouteDef[] {
  const special: RouteDef[] = [
    route({
      method: 'GET',
      url: '/sessions/:id/context',
      tag: 'sessions',
      summary: 'Get session context',
      params: Id,
      handler: async ({ params }) => (await hub.mustGet('sessions', params.id)).context,
    }),
    route({
      method: 'POST',
      url: '/sessions/:id/sync',
      tag: 'sessions',
      summary: "Broadcast this session's state to every subscriber",
      params: Id,
      body: SyncRequest.optional(),
      handler: ({ params, body, req }) => hub.broadcast({ domain: 'sessions', entityId: params.id, dryRun: body?.dryRun ?? false }, actorOf(req)),
    }),
    route({
      method: 'POST',
      url: '/todos/reconcile',
      tag: 'todos',
      summary: 'Reconcile parallel session todos of a project (spec Example 2)',
      body: Reconcile,
      handler: ({ body, req }) => hub.reconcileTodos({ projectId: body.projectId, dryRun: body.dryRun }, actorOf(req)),
    }),
    route({
      method: 'GET',
      url: '/todos/mesh',
      tag: 'todos',
      summary: 'Todo mesh: todos by session, dependencies and merges',
      query: z.strictObject({ projectId: z.string().max(200).optional() }),
      handler: ({ query }) => hub.mesh(query.projectId),
    }),
    route({
      method: 'POST',
      url: '/contexts/:id/enrich',
      tag: 'contexts',
      summary: 'Add an enrichment (and optionally key points / summary) to a context',
      params: Id,
      body: Enrich,
      handler: async ({ params, body, req }) => {
        const ctx = await hub.mustGet('contexts', params.id);
        const enrichments = [...((ctx.enrichments as unknown[]) ?? []), { source: body.source, kind: body.kind, data: body.data, at: new Date().toISOString() }];
        const update: Record<string, unknown> = { enrichments, sources: [...new Set([...((ctx.sources as string[]) ?? []), body.source])] };
        if (body.keyPoints) update.keyPoints = [...new Set([...((ctx.keyPoints as string[]) ?? []), ...body.keyPoints])];
        if (body.summary !== undefined) update.summary = body.summary;
        return hub.update('contexts', params.id, update, actorOf(req));
      },
    }),
    route({
      method: 'POST',
      url: '/contexts/propagate',
      tag: 'contexts',
      summary: 'Propagate a context to other platforms/models (queued as an event)',
      body: Propagate,
      handler: async ({ body, req }) => {
        const ctx = await hub.mustGet('contexts', body.contextId);
        const targets = [...(body.targets ?? []), ...(body.target ? [body.target] : [])];
        return hub.publishEvent(
          'contexts',
          ctx.chittyId,
          { kind: 'context_propagation', source: body.source ?? actorOf(req).platform, summary: body.summary ?? ctx.summary, context: ctx },
          targets,
          actorOf(req),
        );
      },
    }),
  ];
  return [...special, ...DOMAINS.flatMap((d) => crud(hub, d))];
}
