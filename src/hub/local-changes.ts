/** Local changes (API, CLI, commands): validate a create/update/delete body and commit it as this node's change. */
import type { ZodType } from 'zod';
import { createSchema, domainSpec, updateSchema, type Domain } from './domains.ts';
import { InvalidChangeError } from './errors.ts';
import { entityId } from './ids.ts';
import type { HubContext } from './context.ts';
import { commitLocal, lockExisting } from './commit.ts';
import type { Actor, Entity } from './types.ts';

export async function createEntity(hub: HubContext, domain: Domain, body: unknown, actor: Actor): Promise<Entity> {
  const parsed = parse(createSchema(domain), body, `new ${domainSpec(domain).entityType}`);
  const id = entityId(domain);
  const { set, add } = splitFields(domain, parsed);
  const spec = domainSpec(domain);
  const registers: Record<string, unknown> = { ...spec.defaults, ...set };
  if (domain === 'todos') {
    if (registers.status === 'completed') registers.completedAt ??= new Date().toISOString();
    if (typeof registers.sessionId === 'string') add.sessions = [...new Set([...(add.sessions ?? []), registers.sessionId])];
  }
  if (domain === 'sessions') registers.startedAt ??= new Date().toISOString();
  return hub.transact((tx) => commitLocal(hub, tx, domain, id, { set: registers, add }, actor, 'create', true));
}

export async function updateEntity(hub: HubContext, domain: Domain, id: string, body: unknown, actor: Actor): Promise<Entity> {
  const parsed = parse(updateSchema(domain), body, `update of ${id}`);
  return hub.transact(async (tx) => {
    const current = await lockExisting(tx, domain, id);
    const { set, add } = splitFields(domain, parsed);
    const remove: Record<string, string[]> = {};
    // Set fields in an update replace the whole set: diff into adds and removes.
    for (const [field, wanted] of Object.entries(add)) {
      const have = new Set((current.data[field] as string[] | undefined) ?? []);
      add[field] = wanted.filter((v) => !have.has(v));
      remove[field] = [...have].filter((v) => !wanted.includes(v));
    }
    if (domain === 'todos' && set.status !== undefined && set.status !== current.data.status) {
      set.completedAt = set.status === 'completed' ? new Date().toISOString() : null;
    }
    if (domain === 'todos' && typeof set.sessionId === 'string') add.sessions = [...(add.sessions ?? []), set.sessionId];
    if (domain === 'sessions' && set.status === 'ended' && current.data.status !== 'ended') set.endedAt ??= new Date().toISOString();
    return commitLocal(hub, tx, domain, id, { set, add, remove }, actor, 'update', false, current);
  });
}

export async function removeEntity(hub: HubContext, domain: Domain, id: string, actor: Actor): Promise<Entity> {
  return hub.transact(async (tx) => {
    const current = await lockExisting(tx, domain, id);
    return commitLocal(hub, tx, domain, id, { set: { deleted: true } }, actor, 'delete', false, current);
  });
}

/** Validate `body`, or throw an InvalidChangeError that says what is wrong with `what`. */
export function parse<T>(schemaOf: ZodType<T>, body: unknown, what: string): T {
  const r = schemaOf.safeParse(body);
  if (!r.success) throw new InvalidChangeError(`Invalid ${what}: ${formatIssues(r.error.issues)}`, r.error.issues);
  return r.data;
}

export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function splitFields(domain: Domain, body: Record<string, unknown>): { set: Record<string, unknown>; add: Record<string, string[]> } {
  const spec = domainSpec(domain);
  const set: Record<string, unknown> = {};
  const add: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined) continue;
    if (spec.setFields.includes(k)) add[k] = [...new Set(v as string[])];
    else set[k] = v;
  }
  return { set, add };
}
