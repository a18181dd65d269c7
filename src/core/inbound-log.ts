/**
 * The inbound log: every message is written before it is worked on (so an ack never outruns the
 * record), keyed by the provider's own message id so a re-delivery runs once and gets the first
 * answer, and numbered in arrival order (`seq`) so a conversation's messages run in the order they
 * arrived, whichever web process took them.
 */
import { and, asc, eq, isNull, lte, ne, sql } from 'drizzle-orm';
import * as schema from '../../drizzle/schema.ts';
import { rowsOf, type Db } from '../db.ts';
import { conversationKey, PRIVATE_MARK, type Channel, type InboundMessage } from './inbound.ts';

export type InboundStatus = 'received' | 'done' | 'failed';

/** The row's identity: channel + the provider's message id. */
export type InboundRef = Pick<InboundMessage, 'channel' | 'providerMessageId'>;

export type Recorded<R> = { kind: 'new'; seq: number } | { kind: 'duplicate'; seq: number; reply: R | null; status: InboundStatus };

type Row = typeof schema.inboundMessages.$inferSelect;

/** Advisory-lock namespace of conversations (the first key of the two-key form). */
const CONVERSATION_LOCK_SPACE = 0x43484154; // "CHAT"

export class InboundLog<R = unknown> {
  constructor(private readonly db: Db) {}

  /** Record a message; tells whether it was already seen (and its answer, if it has one). */
  async record(m: InboundMessage): Promise<Recorded<R>> {
    const inserted = await this.db
      .insert(schema.inboundMessages)
      .values({
        channel: m.channel,
        providerMessageId: m.providerMessageId,
        conversationKey: conversationKey(m),
        address: m.address,
        thread: m.thread ?? null,
        identityKey: m.sender,
        senderName: m.senderName ?? null,
        text: m.text,
        actionId: m.actionId ?? null,
        status: 'received',
        receivedAt: m.receivedAt,
      })
      .onConflictDoNothing()
      .returning({ seq: schema.inboundMessages.seq });
    if (inserted[0]) return { kind: 'new', seq: inserted[0].seq };
    const prior = await this.get(m);
    if (!prior) throw new Error(`inbound message ${m.channel}/${m.providerMessageId} was neither inserted nor found`);
    return { kind: 'duplicate', seq: prior.seq, reply: (prior.reply as R | null) ?? null, status: prior.status };
  }

  async get(ref: InboundRef): Promise<Row | undefined> {
    const t = schema.inboundMessages;
    const [row] = await this.db
      .select()
      .from(t)
      .where(and(eq(t.channel, ref.channel), eq(t.providerMessageId, ref.providerMessageId)));
    return row;
  }

  /**
   * Take the conversation's lock until the surrounding transaction ends: one message of a
   * conversation runs at a time across every process that shares the database.
   */
  async lockConversation(key: string): Promise<void> {
    await this.db.execute(sql`select pg_advisory_xact_lock(${CONVERSATION_LOCK_SPACE}::int4, hashtext(${key}))`);
  }

  /** The conversation's oldest unfinished message up to `seq` (run under its lock). */
  async nextUnfinished(key: string, uptoSeq: number): Promise<Row | undefined> {
    const t = schema.inboundMessages;
    const [row] = await this.db
      .select()
      .from(t)
      .where(and(eq(t.conversationKey, key), eq(t.status, 'received'), lte(t.seq, uptoSeq)))
      .orderBy(asc(t.seq))
      .limit(1);
    return row;
  }

  /**
   * Take the answer of a finished message to hand it out. True for exactly one caller per message
   * (the first), so a platform's re-delivery never gets a second copy sent.
   */
  async claimAnswer(ref: InboundRef): Promise<boolean> {
    const t = schema.inboundMessages;
    const claimed = await this.db
      .update(t)
      .set({ answerClaimedAt: new Date() })
      .where(and(eq(t.channel, ref.channel), eq(t.providerMessageId, ref.providerMessageId), isNull(t.answerClaimedAt), ne(t.status, 'received')))
      .returning({ seq: t.seq });
    return claimed.length > 0;
  }

  /** Conversations with messages recorded but not finished (a crash between ack and answer). */
  async unfinished(limit = 1000): Promise<{ key: string; seq: number }[]> {
    const r = await this.db.execute(sql`select conversation_key as key, max(seq)::bigint as seq from ${schema.inboundMessages}
      where status = 'received' group by conversation_key order by min(seq) limit ${limit}`);
    return rowsOf<{ key: string; seq: string | number }>(r).map((x) => ({ key: x.key, seq: Number(x.seq) }));
  }

  /**
   * Store the answer; only an unfinished message changes (a finished one keeps its first answer).
   * `claim`: the caller hands the answer out itself (see {@link claimAnswer}).
   */
  async finish(ref: InboundRef, reply: R, status: 'done' | 'failed' = 'done', claim = false): Promise<boolean> {
    const t = schema.inboundMessages;
    const now = new Date();
    const updated = await this.db
      .update(t)
      .set({ status, reply: reply as unknown, processedAt: now, ...(claim ? { answerClaimedAt: now } : {}) })
      .where(and(eq(t.channel, ref.channel), eq(t.providerMessageId, ref.providerMessageId), eq(t.status, 'received')))
      .returning({ seq: t.seq });
    return updated.length > 0;
  }
}

/** The message as it was recorded, to run it again after a crash. */
export function recordedMessage(row: Row): InboundMessage {
  const privateAnswer = row.conversationKey.endsWith(`${PRIVATE_MARK}${row.identityKey}`);
  const [, address = row.conversationKey, thread] = row.conversationKey.slice(0, privateAnswer ? -(PRIVATE_MARK.length + row.identityKey.length) : undefined).split('|');
  const threadOf = row.address !== null ? row.thread : (row.thread ?? thread);
  return {
    channel: row.channel as Channel,
    address: row.address ?? address,
    ...(threadOf ? { thread: threadOf } : {}),
    ...(privateAnswer ? { privateAnswer } : {}),
    sender: row.identityKey,
    ...(row.senderName ? { senderName: row.senderName } : {}),
    text: row.text,
    ...(row.actionId ? { actionId: row.actionId } : {}),
    providerMessageId: row.providerMessageId,
    receivedAt: row.receivedAt,
  };
}
