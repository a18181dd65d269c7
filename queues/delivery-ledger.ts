/**
 * The deliveries ledger in the database: what must reach which destination, and what happened.
 * A delivery job reads a destination's waiting rows (only one job per destination works at a
 * time: it holds the destination's lock in Redis), claims each request just before it is sent
 * (one `delivery_claims` row), then marks its rows sent, failed (to retry) or dead. A row is
 * written twice per attempt at most: queued, then its outcome.
 */
import { and, desc, eq, getTableName, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import { rowsOf, type Db } from '../src/db.ts';
import { statement } from '../src/db-statement.ts';
import { runPaced } from './table-upkeep.ts';

export const DELIVERY_STATUSES = ['queued', 'sent', 'failed', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type DeliveryRow = typeof schema.deliveries.$inferSelect;
/** The state of a row's subscription when the row is read for sending. */
export interface RowSubscription {
  /** `gone` = deleted; only `active` rows are sent. */
  state: 'active' | 'gone' | 'paused' | 'disabled';
  /** Webhook signing secrets now valid (current, and the previous one in its grace period); empty = the shared secret. */
  secrets: string[];
}
/** A claimed row with its message as JSON text (read from the outbox, where it is stored once). */
export type ClaimedDelivery = DeliveryRow & { messageJson: string; sub?: RowSubscription };
export type NewDelivery = typeof schema.deliveries.$inferInsert;
/** What a platform reports about a message after accepting it (WhatsApp Cloud API statuses). */
export const PROVIDER_STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
export type ProviderStatus = (typeof PROVIDER_STATUSES)[number];

/**
 * A condition that is always true and makes the statement's own transaction commit without
 * waiting for the WAL flush (synchronous_commit off, for this transaction only: ~0.3 ms instead
 * of ~2.5 ms here). Only for the pipeline's bookkeeping, where a commit lost to a Postgres crash
 * is redone: a lost relay mark re-relays, a lost fan-out is re-fanned by the sweeper (ledger rows
 * are idempotent), a lost "sent" re-sends under the same delivery id. Hub changes stay durable.
 */
export const ASYNC_COMMIT = sql`exists (select set_config('synchronous_commit', 'off', true))`;

/** Most rows one request carries (a digest of up to this many changes). */
export const MAX_BATCH = 500;

/**
 * After this many new rows (in this process, at most once per {@link ANALYZE_MIN_INTERVAL_MS}) the
 * ledger asks Postgres to ANALYZE it. A backlog can grow from nothing to 100,000 rows within the
 * minute autovacuum takes to notice; planned with the empty table's statistics, picking a batch
 * read and sorted the destination's whole backlog (60 ms per batch at 100,000 rows, 12 ms after).
 */
export const ANALYZE_AFTER_ROWS = 20_000;
export const ANALYZE_MIN_INTERVAL_MS = 10_000;
/**
 * Once the table is big, the next analyze waits until this share of the rows it then held was
 * added (as autovacuum's scale factor): an analyze samples the same 30,000 rows at any size and
 * cost 300–480 ms of a Postgres core in `npm run bench`, every 8 s at 500 changes/s × 5 with a
 * fixed 20,000, while a big table's plans no longer change with its growth (Postgres scales its
 * row estimates by the table's current size).
 */
export const ANALYZE_GROWTH_SHARE = 0.5;

/** Most rows one prune statement deletes (short statements, short locks). */
export const PRUNE_BATCH = 1000;

/** A request's rows: which destination, its id (X-Chitty-Delivery) and the deliveries rows it carried. */
export type SentBatch = { destinationKey: string; batchId: string; ids: string[] };

export class DeliveryLedger {
  constructor(
    private readonly db: Db,
    /** Least time between two analyzes (tests shorten it). */
    private readonly analyzeMinIntervalMs = ANALYZE_MIN_INTERVAL_MS,
  ) {
    const d = schema.deliveries;
    const o = schema.outbox;
    const s = schema.subscriptions;
    const c = schema.deliveryClaims;
    const p = (name: string) => sql.placeholder(name);
    // One parameter per list (JSON arrays), however many rows: fast for big fan-outs. The outbox
    // rows are found by id (outbox_id_uq, `= any(array(…))`): written as `in (select …)` the mark
    // was planned as a scan of every row not yet fanned out (0.2 against 0.04 ms with 1,000 of them).
    this.enqueueStatement = statement(
      db,
      sql`
      with inserted as (
        insert into ${d} (id, message_id, subscription_id, channel, destination_key, address, thread, domain, entity_id, status)
        select id, message_id, subscription_id, channel, destination_key, address, thread, domain, entity_id, status
        from json_to_recordset(${p('rows')}::json) as x(id text, message_id text, subscription_id text, channel text, destination_key text,
          address text, thread text, domain text, entity_id text, status text)
        on conflict (id) do nothing
        returning id),
      marked as (
        update ${o} set fanned_out_at = now()
        where ${o.id} = any(array(select json_array_elements_text(${p('messageIds')}::json))) and ${o.fannedOutAt} is null
          and ${ASYNC_COMMIT}
        returning 1)
      select id, (select count(*) from marked) as marked from inserted`,
    );
    // The batch is chosen from the ledger alone (the first rows of deliveries_waiting_order_idx),
    // then each row's message and subscription are looked up: a long backlog is never sorted, nor
    // joined with its messages, as a whole. Looked up by scalar subqueries rather than joins:
    // Postgres plans them in half the time (0.23 against 0.47 ms for the read that claims, at
    // 65,000 deliveries), and planning was most of its work on this path.
    // The destination's requests without an outcome come along (null when there are none): only a
    // dead worker leaves them, as the holder writes its own before it reads again.
    const openClaims = sql`(select json_agg(json_build_object('batchId', ${c.batchId}, 'sends', ${c.sends}, 'ids', ${c.ids})) from ${c} where ${c.destinationKey} = ${p('destinationKey')})`;
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
    this.waitingStatement = statement(db, inOrder(waitingRows(sql``), openClaims));
    // The same read that also claims the rows as the next request when they are a fresh batch
    // (what nextBatch makes of them: no request without an outcome, every row sendable): the
    // claim costs no statement of its own on the way to a send.
    this.takeWaitingStatement = statement(
      db,
      sql`
      with r as (${waitingRows(sql``)}),
      open as (select ${openClaims} as claims),
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
      from r where r.message_json is not null order by r.created_at, r.id`,
    );
    // Read while this job's own request is on its way (its claim is not another's to re-send).
    this.waitingAfterStatement = statement(db, inOrder(waitingRows(sql`and (${d.createdAt}, ${d.id}) > (select created_at, id from ${d} where ${d.id} = ${p('afterId')})`), sql`null`));
    // One small row per request on its way (see schema.deliveryClaims); the same batch claimed again counts one more send.
    this.claimStatement = statement(
      db,
      sql`insert into ${c} (batch_id, destination_key, ids, sends)
        select ${p('batchId')}, ${p('destinationKey')}, ${p('ids')}::text[], 1 where ${ASYNC_COMMIT}
      on conflict (batch_id) do update set ids = excluded.ids, claimed_at = now(), sends = ${c.sends} + 1`,
    );
    // The outcome and the claim's sends go onto the rows, and the claim goes, in one statement.
    const claimed = sql`with claim as (delete from ${c} where ${c.batchId} = ${p('batchId')} returning sends)`;
    const sends = sql`${d.sends} + coalesce((select sends from claim), 1)`;
    this.markSentStatement = statement(
      db,
      sql`${claimed} update ${d} set status = 'sent', attempts = ${d.attempts} + 1, sends = ${sends}, provider_message_id = ${p('providerMessageId')}, batch_id = ${p('batchId')},
        sent_at = now(), updated_at = now(), last_error = null, note = ${p('note')}
      where ${d.id} = any(${p('ids')}::text[]) and ${ASYNC_COMMIT}`,
    );
    this.markFailedStatement = statement(
      db,
      sql`${claimed}, decided as (select case when ${d.id} = any(${p('dead')}::text[]) then 'dead' else ${p('status')}::text end as status, ${d.id} as id
        from ${d} where ${d.id} = any(${p('ids')}::text[]))
      update ${d} set status = decided.status, last_error = ${p('error')}, updated_at = now(), sends = ${sends}, batch_id = ${p('batchId')},
        attempts = ${d.attempts} + case when decided.status = 'queued' then 0 else 1 end
      from decided where ${d.id} = decided.id`,
    );
  }

  private readonly enqueueStatement: (values: { rows: string; messageIds: string }) => Promise<{ id: string }[]>;
  private readonly waitingStatement: (values: { destinationKey: string; limit: number }) => Promise<Record<string, unknown>[]>;
  private readonly takeWaitingStatement: (values: { destinationKey: string; limit: number; maxAttempts: number }) => Promise<Record<string, unknown>[]>;
  private readonly waitingAfterStatement: (values: { destinationKey: string; afterId: string; limit: number }) => Promise<Record<string, unknown>[]>;
  private readonly claimStatement: (values: SentBatch) => Promise<unknown[]>;
  private readonly markSentStatement: (values: SentBatch & { providerMessageId: string | null; note: string | null }) => Promise<unknown[]>;
  private readonly markFailedStatement: (values: SentBatch & { error: string; status: 'failed' | 'dead' | 'queued'; dead: string[] }) => Promise<unknown[]>;

  /**
   * Record deliveries (idempotent: a row that exists is left alone) and, in the same statement,
   * mark the outbox messages they came from as fanned out. Returns the new rows' ids.
   */
  async enqueue(rows: NewDelivery[], fannedOutMessageIds: string[] = []): Promise<string[]> {
    if (rows.length === 0 && fannedOutMessageIds.length === 0) return [];
    const json = JSON.stringify(
      rows.map((r) => ({
        id: r.id,
        message_id: r.messageId,
        subscription_id: r.subscriptionId,
        channel: r.channel,
        destination_key: r.destinationKey,
        address: r.address,
        thread: r.thread ?? null,
        domain: r.domain,
        entity_id: r.entityId ?? null,
        status: r.status,
      })),
    );
    const ids = await this.enqueueStatement({ rows: json, messageIds: JSON.stringify(fannedOutMessageIds) });
    this.grown(ids.length);
    return ids.map((x) => x.id);
  }

  private sinceAnalyze = 0;
  private analyzedAt = 0;
  private analyzing = false;
  /** New rows after which the next analyze is due: {@link ANALYZE_AFTER_ROWS}, or {@link ANALYZE_GROWTH_SHARE} of the rows at the last one. */
  private analyzeAfter = ANALYZE_AFTER_ROWS;

  /** Have the table analyzed once it grew by {@link analyzeAfter} rows (in the background, paced as the vacuums are; a failure waits for the next time). */
  private grown(rows: number): void {
    this.sinceAnalyze += rows;
    if (this.analyzing || this.sinceAnalyze < this.analyzeAfter || Date.now() - this.analyzedAt < this.analyzeMinIntervalMs) return;
    this.analyzing = true;
    this.sinceAnalyze = 0;
    this.analyzedAt = Date.now();
    void runPaced(this.db, sql`analyze ${schema.deliveries}`)
      .then(async () => {
        const [table] = rowsOf<{ rows: number }>(await this.db.execute(sql`select reltuples::float8 as rows from pg_class where oid = to_regclass(${getTableName(schema.deliveries)})`));
        this.analyzeAfter = Math.max(ANALYZE_AFTER_ROWS, Math.round(ANALYZE_GROWTH_SHARE * Number(table?.rows ?? 0)));
      })
      .catch(() => undefined)
      .finally(() => {
        this.analyzing = false;
      });
  }

  /** New rows after which the next analyze is due (see {@link ANALYZE_GROWTH_SHARE}). */
  get rowsBeforeNextAnalyze(): number {
    return this.analyzeAfter;
  }

  /**
   * A destination's waiting rows, oldest first, with their messages (read by the lock holder). A
   * row carried by a request without an outcome (a dead worker's) comes as that batch, with that
   * request counted as a send: what {@link nextBatch} reads to send it again under the same id.
   */
  async waiting(destinationKey: string, limit = MAX_BATCH): Promise<ClaimedDelivery[]> {
    return withClaims(await this.waitingStatement({ destinationKey, limit }));
  }

  /**
   * {@link waiting}, and when the rows are a fresh batch as {@link nextBatch} makes it (no request
   * without an outcome, no row sent before, every row's subscription active and attempts below
   * `maxAttempts`), that batch claimed in the same statement (see {@link claim}): `claimed` is its id.
   */
  async takeWaiting(destinationKey: string, maxAttempts: number): Promise<{ rows: ClaimedDelivery[]; claimed: string | undefined }> {
    const raw = await this.takeWaitingStatement({ destinationKey, limit: MAX_BATCH, maxAttempts });
    const claimed = raw[0]?.claimed_batch;
    return { rows: withClaims(raw), claimed: typeof claimed === 'string' ? claimed : undefined };
  }

  /** A claim made by {@link takeWaiting} for rows that will not go as that batch after all. */
  async unclaim(batchId: string): Promise<void> {
    await this.db.delete(schema.deliveryClaims).where(eq(schema.deliveryClaims.batchId, batchId));
  }

  /**
   * The destination's waiting rows after row `afterId` in sending order (a backlog's next batch,
   * read while the batch ending with that row is sent), at most `limit`: the index's next rows.
   * Open claims are not read: a dead worker's come first in the destination's order, and were
   * sent again (by the reads of {@link waiting}) before any fresh batch, whose rows these follow.
   */
  async waitingAfter(destinationKey: string, afterId: string, limit = MAX_BATCH): Promise<ClaimedDelivery[]> {
    return withClaims(await this.waitingAfterStatement({ destinationKey, afterId, limit }));
  }

  /** Rows that will not be sent (their subscription is deleted, paused or disabled): dead letters, no attempt counted. */
  async markDropped(ids: string[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    const d = schema.deliveries;
    await this.db
      .update(d)
      .set({ status: 'dead', lastError: reason.slice(0, 2000), updatedAt: new Date() })
      .where(inArray(d.id, ids));
  }

  /** The destination is gone (410, "channel not found", "user blocked the bot"): every subscription of it is disabled. */
  async disableDestination(dest: { channel: string; address: string; thread: string | null }, reason: string): Promise<string[]> {
    const s = schema.subscriptions;
    const rows = await this.db
      .update(s)
      .set({ disabledAt: new Date(), disabledReason: reason.slice(0, 500) })
      .where(and(eq(s.channel, dest.channel), eq(s.address, dest.address), eq(s.thread, dest.thread ?? ''), isNull(s.disabledAt)))
      .returning({ id: s.id });
    return rows.map((x) => x.id);
  }

  /**
   * Just before a send: a claim names this request's id and rows (one row written, not the
   * batch's rows). Should the worker die before the outcome is written, the next
   * job finds the claim and sends the rows again as the same batch, under the same id (see
   * {@link waiting} and {@link nextBatch}).
   */
  async claim(batch: SentBatch): Promise<void> {
    if (batch.ids.length === 0) return;
    await this.claimStatement(batch);
  }

  /**
   * The batch went out: its rows are `sent`, with the request's id and sends, and its claim is
   * done. `note` says how it went out when not as asked (a WhatsApp template outside the 24-hour window).
   */
  async markSent(batch: SentBatch, providerMessageId: string | null, note?: string): Promise<void> {
    if (batch.ids.length === 0) return;
    await this.markSentStatement({ ...batch, providerMessageId, note: note ?? null });
  }

  /**
   * A platform's later word on a sent message, found by the id it gave at send (WhatsApp statuses).
   * Statuses only move forward (sent < delivered < read; failed is final), so one arriving late
   * changes nothing. A `failed` report makes the rows dead letters with the platform's error.
   * Returns the ids of the rows it changed.
   */
  async markProviderStatus(channel: string, providerMessageId: string, status: ProviderStatus, at: Date, error?: string): Promise<string[]> {
    const d = schema.deliveries;
    const rank = (v: SQL | string) => sql`(case ${v} when 'sent' then 1 when 'delivered' then 2 when 'read' then 3 when 'failed' then 4 else 0 end)`;
    const rows = await this.db
      .update(d)
      .set({
        providerStatus: status,
        providerStatusAt: at,
        updatedAt: new Date(),
        ...(status === 'failed' ? { status: 'dead' as const, lastError: (error ?? `${channel} reported the message failed`).slice(0, 2000) } : {}),
      })
      .where(and(eq(d.channel, channel), eq(d.providerMessageId, providerMessageId), sql`${rank(sql`coalesce(${d.providerStatus}, '')`)} < ${rank(status)}`))
      .returning({ id: d.id });
    return rows.map((r) => r.id);
  }

  /**
   * The platform accepted a message but could not deliver it for a passing reason (a carrier's
   * rate limit: Twilio 30007/63018): its rows wait for a retry (`failed`; the sweeper schedules
   * destinations whose rows wait), or become dead letters once `maxAttempts` sends were made. The
   * provider status is cleared so the retried message's own statuses count.
   */
  async retryProviderFailure(channel: string, providerMessageId: string, error: string, maxAttempts: number): Promise<{ retry: string[]; dead: string[] }> {
    const d = schema.deliveries;
    const lastError = error.slice(0, 2000);
    const mine = and(eq(d.channel, channel), eq(d.providerMessageId, providerMessageId), eq(d.status, 'sent'));
    const dead = await this.db
      .update(d)
      .set({ status: 'dead', providerStatus: 'failed', providerStatusAt: new Date(), lastError, updatedAt: new Date() })
      .where(and(mine, sql`${d.attempts} >= ${maxAttempts}`))
      .returning({ id: d.id });
    const retry = await this.db
      .update(d)
      .set({ status: 'failed', providerStatus: null, providerStatusAt: null, lastError, updatedAt: new Date() })
      .where(and(mine, sql`${d.attempts} < ${maxAttempts}`))
      .returning({ id: d.id });
    return { retry: retry.map((r) => r.id), dead: dead.map((r) => r.id) };
  }

  /**
   * A failed attempt of a sent batch: its rows become `status`, but those in `dead`, which are
   * dead letters. `failed` waits for a retry (as the same batch, under the same id), `dead` is a
   * dead letter; `queued` gives the attempt back (rate limited). The request counts as a send, and
   * its claim is done.
   */
  async markFailed(batch: SentBatch, error: string, status: 'failed' | 'dead' | 'queued', dead: string[] = []): Promise<void> {
    if (batch.ids.length === 0) return;
    await this.markFailedStatement({ ...batch, error: error.slice(0, 2000), status, dead });
  }

  async get(id: string): Promise<DeliveryRow | undefined> {
    const [row] = await this.db.select().from(schema.deliveries).where(eq(schema.deliveries.id, id));
    return row;
  }

  async list(f: { status?: DeliveryStatus; messageId?: string; entityId?: string; channel?: string; limit?: number } = {}): Promise<DeliveryRow[]> {
    const d = schema.deliveries;
    const where: SQL[] = [];
    if (f.status) where.push(eq(d.status, f.status));
    if (f.messageId) where.push(eq(d.messageId, f.messageId));
    if (f.entityId) where.push(eq(d.entityId, f.entityId));
    if (f.channel) where.push(eq(d.channel, f.channel));
    return this.db
      .select()
      .from(d)
      .where(and(...where))
      .orderBy(desc(d.createdAt))
      .limit(Math.min(f.limit ?? 100, 1000));
  }

  /** Put dead (or given) rows back in the queue; returns them so jobs can be scheduled. */
  async requeue(ids: string[] | 'all-dead'): Promise<DeliveryRow[]> {
    const d = schema.deliveries;
    const where = ids === 'all-dead' ? eq(d.status, 'dead') : and(inArray(d.id, ids), inArray(d.status, ['dead', 'failed']));
    return this.db.update(d).set({ status: 'queued', attempts: 0, updatedAt: new Date() }).where(where).returning();
  }

  /** Delete dead letters older than the date; returns how many. */
  async pruneDead(olderThan: Date): Promise<number> {
    const d = schema.deliveries;
    const rows = await this.db
      .delete(d)
      .where(and(eq(d.status, 'dead'), lt(d.updatedAt, olderThan)))
      .returning({ id: d.id });
    return rows.length;
  }

  /**
   * Claims older than the date: their rows were dropped or pruned since (a claim lives for one
   * request, a lock's lifetime when its worker dies). Returns how many went.
   */
  async pruneClaims(olderThan: Date): Promise<number> {
    const c = schema.deliveryClaims;
    return (await this.db.delete(c).where(lt(c.claimedAt, olderThan)).returning({ key: c.destinationKey })).length;
  }

  /** Sent rows sent before the date, at most `batch` of them in one statement; returns how many went. */
  async pruneSent(olderThan: Date, batch = PRUNE_BATCH): Promise<number> {
    const d = schema.deliveries;
    const r = await this.db.execute(sql`
      delete from ${d} where ${d.id} in (
        select ${d.id} from ${d} where ${d.status} = 'sent' and ${d.sentAt} < ${olderThan.toISOString()} limit ${batch})
      returning 1`);
    return rowsOf(r).length;
  }

  /**
   * Outbox rows fanned out before the date whose deliveries are all sent (or pruned), at most
   * `batch` in one statement; returns how many went. A row not fanned out yet, or with a delivery
   * still waiting, failed or dead (a dead letter can be retried: it needs its message), stays.
   */
  async pruneOutbox(olderThan: Date, batch = PRUNE_BATCH): Promise<number> {
    const d = schema.deliveries;
    const o = schema.outbox;
    const r = await this.db.execute(sql`
      delete from ${o} where ${o.seq} in (
        select x.seq from ${o} as x
        where x.fanned_out_at is not null and x.fanned_out_at < ${olderThan.toISOString()}
          and not exists (select 1 from ${d} where ${d.messageId} = x.id and ${d.status} <> 'sent')
        limit ${batch})
      returning 1`);
    return rowsOf(r).length;
  }

  /** Destinations with rows waiting longer than `olderThan` (their job may have been lost). */
  async stuckDestinations(olderThan: Date, limit = 500): Promise<{ destinationKey: string; channel: string; messageId: string }[]> {
    const d = schema.deliveries;
    const r = await this.db.execute(sql`
      select distinct on (${d.destinationKey}) ${d.destinationKey} as "destinationKey", ${d.channel} as channel, ${d.messageId} as "messageId"
      from ${d}
      where ${d.status} in ('queued', 'failed') and ${d.updatedAt} < ${olderThan.toISOString()}
      order by ${d.destinationKey}, ${d.createdAt}
      limit ${limit}`);
    return rowsOf(r);
  }

  /** Counts by status for the messages of one entity (sync status). */
  async countsForEntity(entityId: string): Promise<Record<DeliveryStatus, number>> {
    const d = schema.deliveries;
    const rows = await this.db.select({ status: d.status, n: sql<number>`count(*)::int` }).from(d).where(eq(d.entityId, entityId)).groupBy(d.status);
    const out: Record<DeliveryStatus, number> = { queued: 0, sent: 0, failed: 0, dead: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }
}

/**
 * Which of a destination's waiting rows (oldest first) the next request carries, and its id. Rows
 * already claimed by an earlier request that has no outcome (its worker died, or it failed and is
 * retried) go again as that same batch under the same id, so a receiver that dedupes on
 * X-Chitty-Delivery takes it once; otherwise the unclaimed rows up to the next claimed one form a
 * new batch, `<first row id>` or `<first row id>+<others>`. `resend`: some row was sent before
 * without an outcome (sends > attempts).
 */
export function nextBatch<T extends Pick<DeliveryRow, 'id' | 'batchId' | 'sends' | 'attempts'>>(rows: T[]): { rows: T[]; batchId: string; resend: boolean } {
  const first = rows[0];
  if (!first) return { rows: [], batchId: '', resend: false };
  if (first.batchId) {
    const same = rows.filter((r) => r.batchId === first.batchId);
    return { rows: same, batchId: first.batchId, resend: same.some((r) => r.sends > r.attempts) };
  }
  const end = rows.findIndex((r) => r.batchId);
  const fresh = end < 0 ? rows : rows.slice(0, end);
  return { rows: fresh, batchId: fresh.length === 1 ? first.id : `${first.id}+${fresh.length - 1}`, resend: false };
}

/**
 * Rows of the waiting statements. The message stays JSON text: a webhook sends it as it is,
 * without parsing and re-serializing. A row carried by an open claim belongs to that batch, and
 * that request counts as a send.
 */
function withClaims(rows: Record<string, unknown>[]): ClaimedDelivery[] {
  const open = (rows[0]?.open_claims ?? null) as { batchId: string; sends: number; ids: string[] }[] | null;
  const claimOf = new Map(open?.flatMap((c) => c.ids.map((id) => [id, c] as const)));
  return rows.map((x) => {
    const row = toRow(x) as ClaimedDelivery;
    row.messageJson = String(x.message_json);
    row.sub = subOf(x);
    const claim = open ? claimOf.get(row.id) : undefined;
    if (claim) {
      row.batchId = claim.batchId;
      row.sends += Number(claim.sends);
    }
    return row;
  });
}

/** The row's subscription as the waiting statements give it (JSON; null when it was deleted). */
function subOf(x: Record<string, unknown>): RowSubscription {
  const raw = typeof x.sub === 'string' ? (JSON.parse(x.sub) as unknown) : x.sub;
  const sub = (raw ?? null) as { paused: boolean; disabled: boolean; secret: string | null; previousSecret: string | null } | null;
  const state = sub === null ? 'gone' : sub.disabled ? 'disabled' : sub.paused ? 'paused' : 'active';
  const secrets = [sub?.secret, sub?.previousSecret].filter((v): v is string => typeof v === 'string' && v !== '');
  return { state, secrets };
}

/** A raw SQL row (snake_case) as the drizzle row type. */
function toRow(r: Record<string, unknown>): DeliveryRow {
  const date = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
  return {
    id: String(r.id),
    messageId: String(r.message_id),
    subscriptionId: String(r.subscription_id),
    channel: String(r.channel),
    destinationKey: String(r.destination_key),
    address: String(r.address),
    thread: (r.thread as string | null) ?? null,
    domain: String(r.domain),
    entityId: (r.entity_id as string | null) ?? null,
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    sends: Number(r.sends ?? 0),
    lastError: (r.last_error as string | null) ?? null,
    providerMessageId: (r.provider_message_id as string | null) ?? null,
    batchId: (r.batch_id as string | null) ?? null,
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
    sentAt: date(r.sent_at),
    providerStatus: (r.provider_status as string | null) ?? null,
    providerStatusAt: date(r.provider_status_at),
    note: (r.note as string | null) ?? null,
  };
}
