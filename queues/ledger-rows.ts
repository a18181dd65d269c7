/**
 * Rows of the ledger as the delivery worker reads them: what the waiting statements return
 * (ledger-statements.ts) as typed rows with their open claims applied, and which of them the next
 * request carries ({@link nextBatch}).
 */
import type { ClaimedDelivery, DeliveryRow, DeliveryStatus, RowSubscription } from './delivery-ledger.ts';

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
export function withClaims(rows: Record<string, unknown>[]): ClaimedDelivery[] {
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
