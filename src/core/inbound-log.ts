/**
 * The inbound log: every message is written before it is worked on (so an ack never outruns the
 * record), keyed by the provider's own message id so a re-delivery runs once and gets the first
 * answer.
 */
import { and, eq } from 'drizzle-orm';
import * as schema from '../../drizzle/schema.ts';
import type { Db } from '../db.ts';
import { conversationKey, type InboundMessage } from './inbound.ts';

export type Recorded<R> = { kind: 'new' } | { kind: 'duplicate'; reply: R | null; status: 'received' | 'done' | 'failed' };

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
        identityKey: m.sender,
        text: m.text,
        actionId: m.actionId ?? null,
        status: 'received',
        receivedAt: m.receivedAt,
      })
      .onConflictDoNothing()
      .returning({ status: schema.inboundMessages.status });
    if (inserted.length > 0) return { kind: 'new' };
    const prior = await this.get(m.channel, m.providerMessageId);
    return { kind: 'duplicate', reply: (prior?.reply as R | null) ?? null, status: prior?.status ?? 'received' };
  }

  async get(channel: string, providerMessageId: string) {
    const t = schema.inboundMessages;
    const [row] = await this.db.select().from(t).where(and(eq(t.channel, channel), eq(t.providerMessageId, providerMessageId)));
    return row;
  }

  async finish(m: InboundMessage, reply: R, status: 'done' | 'failed' = 'done'): Promise<void> {
    const t = schema.inboundMessages;
    await this.db
      .update(t)
      .set({ status, reply: reply as unknown, processedAt: new Date() })
      .where(and(eq(t.channel, m.channel), eq(t.providerMessageId, m.providerMessageId)));
  }
}
