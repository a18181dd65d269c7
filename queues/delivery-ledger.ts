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
import { ledgerStatements, type LedgerStatements, type SentBatch, type SentOutcome } from './ledger-statements.ts';
import { withClaims } from './ledger-rows.ts';
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

export { ASYNC_COMMIT, type SentBatch, type SentOutcome } from './ledger-statements.ts';
export { nextBatch } from './ledger-rows.ts';

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

export class DeliveryLedger {
  /** Least time between two analyzes (tests shorten it). */
  private readonly analyzeMinIntervalMs: number;

  /**
   * `opts.statements`: where the delivery path's statements run (Database.pipeline; default `db`,
   * which runs everything else: the API's reads, retries, prunes, provider statuses).
   */
  constructor(
    private readonly db: Db,
    opts: { statements?: Db; analyzeMinIntervalMs?: number } = {},
  ) {
    this.statements = ledgerStatements(opts.statements ?? db);
    this.analyzeMinIntervalMs = opts.analyzeMinIntervalMs ?? ANALYZE_MIN_INTERVAL_MS;
  }

  /** The delivery path's statements, built once (ledger-statements.ts). */
  private readonly statements: LedgerStatements;

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
    const ids = await this.statements.enqueue({ rows: json, messageIds: JSON.stringify(fannedOutMessageIds) });
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
    return withClaims(await this.statements.waiting({ destinationKey, limit }));
  }

  /**
   * {@link waiting}, and when the rows are a fresh batch as {@link nextBatch} makes it (no request
   * without an outcome, no row sent before, every row's subscription active and attempts below
   * `maxAttempts`), that batch claimed in the same statement (see {@link claim}): `claimed` is its id.
   * `sent`: the destination's last request, whose outcome ({@link markSent}) is written first, in
   * the same statement (one round trip between two requests to a destination instead of two).
   */
  async takeWaiting(destinationKey: string, maxAttempts: number, sent?: SentOutcome): Promise<{ rows: ClaimedDelivery[]; claimed: string | undefined }> {
    const read = { destinationKey, limit: MAX_BATCH, maxAttempts };
    const raw =
      sent && sent.batch.ids.length > 0
        ? await this.statements.sentThenTakeWaiting({ ...read, sentBatchId: sent.batch.batchId, sentIds: sent.batch.ids, providerMessageId: sent.providerMessageId, note: sent.note })
        : await this.statements.takeWaiting(read);
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
    return withClaims(await this.statements.waitingAfter({ destinationKey, afterId, limit }));
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
   * {@link waiting} and {@link nextBatch}). Claimed again, the batch counts one more send, unless
   * `lastLeft` is false: the request of the claim before never left (its worker died first).
   */
  async claim(batch: SentBatch, lastLeft = true): Promise<void> {
    if (batch.ids.length === 0) return;
    await this.statements.claim({ ...batch, counted: lastLeft ? 1 : 0 });
  }

  /**
   * The batch went out: its rows are `sent`, with the request's id and sends, and its claim is
   * done. `note` says how it went out when not as asked (a WhatsApp template outside the 24-hour window).
   */
  async markSent(batch: SentBatch, providerMessageId: string | null, note?: string | null): Promise<void> {
    if (batch.ids.length === 0) return;
    await this.statements.markSent({ ...batch, providerMessageId, note: note ?? null });
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
    await this.statements.markFailed({ ...batch, error: error.slice(0, 2000), status, dead });
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
