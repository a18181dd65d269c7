/** Conflicts between concurrent text versions: listed newest first and paged, resolved by a person's choice. */
import { and, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { ZodType } from 'zod';
import type { Db } from '../db.ts';
import * as schema from '../../drizzle/schema.ts';
import type { HubContext } from './context.ts';
import { domainSpec, type Domain } from './domains.ts';
import { ConflictStateError, InvalidChangeError, NotFoundError } from './errors.ts';
import { commitLocal, lockExisting } from './commit.ts';
import { parse } from './local-changes.ts';
import type { Actor, ConflictPage, ConflictView, Entity } from './types.ts';

/**
 * Conflicts, newest first, paged by id: `after` is the last id of the previous page (ids sort
 * by creation). `entityIds` narrows to some entities.
 */
export async function listConflicts(db: Db, status: 'open' | 'resolved' | 'all', page: ConflictPage): Promise<ConflictView[]> {
  const c = schema.conflicts;
  const where: SQL[] = [];
  if (status !== 'all') where.push(eq(c.status, status));
  if (page.after) where.push(lt(c.id, page.after));
  if (page.entityIds) where.push(page.entityIds.length ? inArray(c.entityId, page.entityIds) : sql`false`);
  const rows = await db
    .select()
    .from(c)
    .where(and(...where))
    .orderBy(desc(c.id))
    .limit(Math.min(page.limit ?? 500, 1000));
  return rows.map(toConflictView);
}

/** Resolve a conflict by choosing a version (index or change id) or giving a new value. */
export async function resolveConflict(hub: HubContext, id: string, choice: { version?: number | string; value?: string }, actor: Actor): Promise<{ conflict: ConflictView; entity: Entity }> {
  const result = await hub.transact(async (tx) => {
    const [row] = await tx.select().from(schema.conflicts).where(eq(schema.conflicts.id, id)).for('update');
    if (!row) throw new NotFoundError(`No conflict with id ${id}.`);
    if (row.status !== 'open') throw new ConflictStateError(`Conflict ${id} is already resolved.`);
    const view = toConflictView(row);
    let value: unknown;
    if (choice.value !== undefined) value = choice.value;
    else if (typeof choice.version === 'number') {
      const v = view.versions[choice.version];
      if (!v) throw new InvalidChangeError(`Conflict ${id} has versions 0 to ${view.versions.length - 1}; there is no version ${choice.version}.`);
      value = v.value;
    } else if (typeof choice.version === 'string') {
      const v = view.versions.find((x) => x.change === choice.version || x.node === choice.version);
      if (!v) throw new InvalidChangeError(`Conflict ${id} has no version from change or node ${choice.version}.`);
      value = v.value;
    } else throw new InvalidChangeError('Say which version wins ("version": index, change id or node) or give a "value".');
    const domain = row.domain as Domain;
    const fieldSchema = domainSpec(domain).registers.shape[row.field] as ZodType | undefined;
    if (fieldSchema) parse(fieldSchema, value, `value of ${row.field}`);
    const current = await lockExisting(tx, domain, row.entityId, true);
    const outcome = await commitLocal(hub, tx, domain, row.entityId, { set: { [row.field]: value } }, actor, 'update', false, current, { conflictId: id, value, by: actor });
    const [after] = await tx.select().from(schema.conflicts).where(eq(schema.conflicts.id, id));
    return { conflict: toConflictView(after!), entity: outcome };
  });
  return result;
}

function toConflictView(row: typeof schema.conflicts.$inferSelect): ConflictView {
  return {
    id: row.id,
    domain: row.domain,
    entityId: row.entityId,
    field: row.field,
    status: row.status,
    versions: row.versions as ConflictView['versions'],
    resolution: row.resolution ?? null,
    createdAt: row.createdAt.toISOString(),
    resolvedAt: row.resolvedAt ? row.resolvedAt.toISOString() : null,
  };
}
