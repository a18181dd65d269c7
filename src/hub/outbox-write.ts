/**
 * Writes SyncMessages to the outbox, many in one statement: one parameter (a JSON array) however
 * many messages, each row's `seq` in the messages' order. Drizzle's multi-row insert would bind
 * four parameters per message and rebuild the statement's text on every call.
 */
import { sql } from 'drizzle-orm';
import * as schema from '../../drizzle/schema.ts';
import type { Db, Tx } from '../db.ts';
import { sqlStatement } from '../db-statement.ts';
import type { SyncMessage } from '../sync/sync-message.ts';

const o = schema.outbox;
const insert = sqlStatement(sql`
  insert into ${o} (id, domain, entity_id, message)
  select x.id, x.domain, x.entity_id, x.message
  from rows from (jsonb_to_recordset(${sql.placeholder('rows')}::jsonb) as (id text, domain text, entity_id text, message jsonb)) with ordinality as x(id, domain, entity_id, message, n)
  order by x.n`);

/**
 * One outbox row per message, in order. `entityId`: the entity the rows are about (null: no one
 * entity); by default each message's own.
 */
export async function writeOutbox(db: Db | Tx, domain: string, messages: SyncMessage[], entityId?: string | null): Promise<void> {
  if (messages.length === 0) return;
  const rows = messages.map((m) => ({ id: m.id, domain, entity_id: entityId === undefined ? m.payload.entity.chittyId : entityId, message: m }));
  await insert(db, { rows: JSON.stringify(rows) });
}
