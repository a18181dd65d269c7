/**
 * The deliveries ledger's statements on the delivery path, each built once (src/db-statement.ts):
 * the fan-out's insert, the holder's reads of a destination's waiting rows (one of which claims
 * them as the next request, and one of which first writes the last request's outcome), the claim,
 * and the outcomes. delivery-ledger.ts runs them; this file is their SQL.
 */
import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import type { Db } from '../src/db.ts';
import { statement } from '../src/db-statement.ts';

/**
 * A condition that is always true and makes the statement's own transaction commit without
 * waiting for the WAL flush (synchronous_commit off, for this transaction only: ~0.3 ms instead
 * of ~2.5 ms here). Only for the pipeline's bookkeeping, where a commit lost to a Postgres crash
 * is redone: a lost relay mark re-relays, a lost fan-out is re-fanned by the sweeper (ledger rows
 * are idempotent), a lost "sent" re-sends under the same delivery id. Hub changes stay durable.
 */
export const ASYNC_COMMIT = sql`exists (select set_config('synchronous_commit', 'off', true))`;

/** A request's rows: which destination, its id (X-Chitty-Delivery) and the deliveries rows it carried. */
export type SentBatch = { destinationKey: string; batchId: string; ids: string[] };

/** A request that went out, as its rows record it (see DeliveryLedger.markSent). */
export interface SentOutcome {
  batch: SentBatch;
  providerMessageId: string | null;
  note: string | null;
}

type Rows = Promise<Record<string, unknown>[]>;

export interface LedgerStatements {
  enqueue(values: { rows: string; messageIds: string }): Promise<{ id: string }[]>;
  waiting(values: { destinationKey: string; limit: number }): Rows;
  takeWaiting(values: { destinationKey: string; limit: number; maxAttempts: number }): Rows;
  /** {@link takeWaiting} after writing the destination's last request's outcome ({@link markSent}), in one statement. */
  sentThenTakeWaiting(values: { destinationKey: string; limit: number; maxAttempts: number } & SentOutcomeValues): Rows;
  waitingAfter(values: { destinationKey: string; afterId: string; limit: number }): Rows;
  claim(values: SentBatch & { counted: number }): Promise<unknown[]>;
  markSent(values: SentBatch & { providerMessageId: string | null; note: string | null }): Promise<unknown[]>;
  markFailed(values: SentBatch & { error: string; status: 'failed' | 'dead' | 'queued'; dead: string[] }): Promise<unknown[]>;
}

/** {@link SentOutcome} as the statement's values (prefixed: the read has values of its own). */
export type SentOutcomeValues = { sentBatchId: string; sentIds: string[]; providerMessageId: string | null; note: string | null };

/** The statements' SQL, by name (tests read their plans). */
export function ledgerQueries(): Record<keyof LedgerStatements, SQL> {
  const d = schema.deliveries;
  const o = schema.outbox;
  const s = schema.subscriptions;
  const c = schema.deliveryClaims;
  const p = (name: string) => sql.placeholder(name);

  // One parameter per list (JSON arrays), however many rows: fast for big fan-outs. The outbox
  // rows are found by id (outbox_id_uq, `= any(array(…))`): written as `in (select …)` the mark
  // was planned as a scan of every row not yet fanned out (0.2 against 0.04 ms with 1,000 of them).
  // No `fanned_out_at is null` condition either (a row fanned out before keeps its time through
  // the coalesce): with it, the plan made on an empty outbox scanned outbox_unfanned_idx, every
  // row not yet fanned out, at each run (1 destination in a 200,000-change run: 3,661 deliveries/s).
  const enqueue = sql`
    with inserted as (
      insert into ${d} (id, message_id, subscription_id, channel, destination_key, address, thread, domain, entity_id, status)
      select id, message_id, subscription_id, channel, destination_key, address, thread, domain, entity_id, status
      from json_to_recordset(${p('rows')}::json) as x(id text, message_id text, subscription_id text, channel text, destination_key text,
        address text, thread text, domain text, entity_id text, status text)
      on conflict (id) do nothing
      returning id),
    marked as (
      update ${o} set fanned_out_at = coalesce(${o.fannedOutAt}, now())
      where ${o.id} = any(array(select json_array_elements_text(${p('messageIds')}::json))) and ${ASYNC_COMMIT}
      returning 1)
    select id, (select count(*) from marked) as marked from inserted`;

  // The batch is chosen from the ledger alone (the first rows of deliveries_waiting_order_idx),
  // then each row's message and subscription are looked up: a long backlog is never sorted, nor
  // joined with its messages, as a whole. Looked up by scalar subqueries rather than joins:
  // Postgres plans them in half the time (0.23 against 0.47 ms for the read that claims, at
  // 65,000 deliveries), and planning was most of its work on this path.
  // The destination's requests without an outcome come along (null when there are none): only a
  // dead worker leaves them, as the holder writes its own before it reads again.
  const openClaims = (except: SQL = sql``) =>
    sql`(select json_agg(json_build_object('batchId', ${c.batchId}, 'sends', ${c.sends}, 'ids', ${c.ids})) from ${c} where ${c.destinationKey} = ${p('destinationKey')} ${except})`;
  const waitingRows = (after: SQL) => sql`
    select w.*, (select ${o.message}::text from ${o} where ${o.id} = w.message_id) as message_json,
      (select json_build_object('paused', ${s.paused}, 'disabled', ${s.disabledAt} is not null, 'secret', ${s.secret},
        'previousSecret', case when ${s.previousSecretUntil} > now() then ${s.previousSecret} end) from ${s} where ${s.id} = w.subscription_id) as sub
    from (
      select * from ${d}
      where ${d.destinationKey} = ${p('destinationKey')} and ${d.status} in ('queued', 'failed') ${after}
      order by ${d.createdAt}, ${d.id}
      limit ${p('limit')}) as w`;
  const inOrder = (rows: SQL, claims: SQL) => sql`select r.*, ${claims} as open_claims from (${rows}) as r where r.message_json is not null order by r.created_at, r.id`;

  // The same read that also claims the rows as the next request when they are a fresh batch
  // (what nextBatch makes of them: no request without an outcome, every row sendable): the
  // claim costs no statement of its own on the way to a send. `before`: statements (CTEs) that
  // run first; `except`: what of the ledger the read leaves out (what they changed: every part
  // of one statement reads the ledger as it was when the statement began).
  const take = (before: SQL, except: { rows: SQL; claims: SQL }) => sql`
    with ${before} r as (${waitingRows(except.rows)}),
    open as (select ${openClaims(except.claims)} as claims),
    fresh as (
      select array_agg(id order by created_at, id) as ids from r
      having count(*) > 0 and (select claims from open) is null
        and bool_and(batch_id is null and message_json is not null and sub is not null and not (sub ->> 'paused')::boolean
          and not (sub ->> 'disabled')::boolean and attempts < ${p('maxAttempts')}::int)),
    claimed as (
      insert into ${c} (batch_id, destination_key, ids, sends)
      select case when cardinality(ids) = 1 then ids[1] else ids[1] || '+' || (cardinality(ids) - 1) end, ${p('destinationKey')}, ids, 1
      from fresh where ${ASYNC_COMMIT}
      on conflict (batch_id) do update set ids = excluded.ids, claimed_at = now(), sends = ${c.sends} + 1
      returning batch_id)
    select r.*, (select claims from open) as open_claims, (select batch_id from claimed) as claimed_batch
    from r where r.message_json is not null order by r.created_at, r.id`;

  // The outcome and the claim's sends go onto the rows, and the claim goes, in one statement.
  const claimOf = (batchId: Placeholder) => sql`claim as (delete from ${c} where ${c.batchId} = ${batchId} returning sends)`;
  const sends = sql`${d.sends} + coalesce((select sends from claim), 1)`;
  const sent = (batchId: Placeholder, ids: Placeholder) => sql`
    update ${d} set status = 'sent', attempts = ${d.attempts} + 1, sends = ${sends}, provider_message_id = ${p('providerMessageId')}, batch_id = ${batchId},
      sent_at = now(), updated_at = now(), last_error = null, note = ${p('note')}
    where ${d.id} = any(${ids}::text[]) and ${ASYNC_COMMIT}`;
  const sentIds = p('sentIds');
  const sentBatchId = p('sentBatchId');

  return {
    enqueue,
    waiting: inOrder(waitingRows(sql``), openClaims()),
    takeWaiting: take(sql``, { rows: sql``, claims: sql`` }),
    sentThenTakeWaiting: take(sql`${claimOf(sentBatchId)}, sent as (${sent(sentBatchId, sentIds)} returning 1),`, {
      rows: sql`and not (${d.id} = any(${sentIds}::text[]))`,
      claims: sql`and ${c.batchId} <> ${sentBatchId}`,
    }),
    // Read while this job's own request is on its way (its claim is not another's to re-send).
    waitingAfter: inOrder(waitingRows(sql`and (${d.createdAt}, ${d.id}) > (select created_at, id from ${d} where ${d.id} = ${p('afterId')})`), sql`null`),
    // One small row per request on its way (see schema.deliveryClaims); the same batch claimed again
    // counts one more send, unless the request of the claim before is known never to have left (`counted` 0).
    claim: sql`insert into ${c} (batch_id, destination_key, ids, sends)
        select ${p('batchId')}, ${p('destinationKey')}, ${p('ids')}::text[], 1 where ${ASYNC_COMMIT}
      on conflict (batch_id) do update set ids = excluded.ids, claimed_at = now(), sends = ${c.sends} + ${p('counted')}::int`,
    markSent: sql`with ${claimOf(p('batchId'))} ${sent(p('batchId'), p('ids'))}`,
    markFailed: sql`with ${claimOf(p('batchId'))}, decided as (select case when ${d.id} = any(${p('dead')}::text[]) then 'dead' else ${p('status')}::text end as status, ${d.id} as id
        from ${d} where ${d.id} = any(${p('ids')}::text[]))
      update ${d} set status = decided.status, last_error = ${p('error')}, updated_at = now(), sends = ${sends}, batch_id = ${p('batchId')},
        attempts = ${d.attempts} + case when decided.status = 'queued' then 0 else 1 end
      from decided where ${d.id} = decided.id`,
  };
}

/** The statements, built once, run on `db` (Database.pipeline on the delivery path). */
export function ledgerStatements(db: Db): LedgerStatements {
  const q = ledgerQueries();
  return {
    enqueue: statement(db, q.enqueue),
    waiting: statement(db, q.waiting),
    takeWaiting: statement(db, q.takeWaiting),
    sentThenTakeWaiting: statement(db, q.sentThenTakeWaiting),
    waitingAfter: statement(db, q.waitingAfter),
    claim: statement(db, q.claim),
    markSent: statement(db, q.markSent),
    markFailed: statement(db, q.markFailed),
  };
}
