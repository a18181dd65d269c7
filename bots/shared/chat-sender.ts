/**
 * The fan-out side every chat channel shares: a batch of SyncMessages for one destination becomes
 * one neutral reply (`describeChange`, or a digest when several), and a change about one entity
 * goes into that entity's thread where the channel has threads (the first message's platform id
 * is kept in the database). Each channel only says how to post a rendered reply.
 */
import type { Reply } from '../../src/core/reply.ts';
import type { ThreadStore } from '../../src/core/thread-store.ts';
import { describeDigest } from '../../src/sync/describe-change.ts';
import type { SyncMessage } from '../../src/sync/sync-message.ts';
import { destinationKey } from '../../queues/names.ts';
import type { DeliveryBatch, DeliverySender } from '../../queues/senders.ts';

/** What a channel is asked to post. */
export interface ChatPost {
  /** The conversation: Slack channel id, Discord channel id, phone number, address. */
  address: string;
  /** Thread to post into: the subscription's own thread, else the entity's thread root. */
  thread: string | undefined;
  reply: Reply;
  /** Stable key of what the message is about (entity id, or the batch), for renderers. */
  threadKey: string;
  /** Id of this delivery (idempotency key where the platform takes one). */
  batchId: string;
}

/** What the platform said: its id of the message, and the id a thread would hang from. */
export interface ChatPosted {
  providerMessageId: string | null;
  /** Set when this message can start a thread (Slack `ts`, Discord message id). */
  threadRoot?: string;
  /** How it went out when not as asked (a WhatsApp template outside the 24-hour window): kept in the ledger. */
  note?: string;
}

/** The single entity a batch is about, if it is about one. */
export function entityOf(messages: SyncMessage[]): string | undefined {
  const ids = new Set(messages.map((m) => m.payload.entity.chittyId));
  const [only] = ids;
  return ids.size === 1 && only && /^CHITTY-[A-Z]+-/.test(only) ? only : undefined;
}

export abstract class ChatSender implements DeliverySender {
  constructor(
    protected readonly channelName: 'slack' | 'discord' | 'sms' | 'whatsapp' | 'email',
    private readonly threads: ThreadStore | undefined,
  ) {}

  /** Post one rendered reply through the platform's API; throw a ChannelError on failure. */
  protected abstract post(p: ChatPost): Promise<ChatPosted>;

  async send(batch: DeliveryBatch): Promise<{ providerMessageId: string | null; note?: string }> {
    const messages = batch.messagesJson.map((j) => JSON.parse(j) as SyncMessage);
    const reply = describeDigest(messages);
    const entityId = entityOf(messages);
    const dest = destinationKey(batch.channel, batch.address, batch.thread);
    const root = !batch.thread && entityId && this.threads ? await this.threads.root(dest, entityId) : undefined;
    const posted = await this.post({ address: batch.address, thread: batch.thread ?? root, reply, threadKey: entityId ?? batch.batchId, batchId: batch.batchId });
    if (!batch.thread && !root && entityId && posted.threadRoot && this.threads) await this.threads.remember(this.channelName, dest, entityId, posted.threadRoot);
    return { providerMessageId: posted.providerMessageId, ...(posted.note ? { note: posted.note } : {}) };
  }
}
