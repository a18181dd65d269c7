/**
 * Senders: how a batch of changes for one destination leaves the gateway. The webhook sender
 * posts the SyncMessage (or a digest envelope) signed with CHITTY_WEBHOOK_SECRET; channels whose
 * SDK adapter is not configured fail with a NotConfiguredError (not retried: a dead letter that can
 * be replayed once the channel is set up).
 */
import { RawJson, WebhookSender } from '../bots/webhook/index.ts';
import type { EgressPolicy } from '../src/core/egress-policy.ts';
import { NotConfiguredError } from '../src/core/channel-errors.ts';
import type { DestinationChannel } from '../src/core/subscription-store.ts';

export interface DeliveryBatch {
  channel: DestinationChannel;
  address: string;
  thread: string | null;
  /** Id of this request (shared by every row it carries). */
  batchId: string;
  /** The SyncMessages as JSON text, oldest first. */
  messagesJson: string[];
  /** Webhook secrets of the rows' subscriptions; `legacy`: some row's subscription has none (shared secret). */
  signing?: { secrets: string[]; legacy: boolean };
  /**
   * A sender that {@link DeliverySender.marksLeaving} calls this just before each request of the
   * batch goes to the network (the worker notes the batch as leaving); for any other sender the
   * worker notes it before `send`.
   */
  leaving?: () => void;
}

export interface DeliverySender {
  /**
   * When set, every destination of this channel takes its tokens from this one bucket instead of
   * its own: the pace is the sender's (an SMS sending number), not each destination's.
   */
  readonly paceKey?: string;
  /** It calls {@link DeliveryBatch.leaving} itself, as late as it can. */
  readonly marksLeaving?: boolean;
  /** `note`: how it went out when not as asked (kept in the ledger), e.g. a WhatsApp template. */
  send(batch: DeliveryBatch): Promise<{ providerMessageId: string | null; note?: string }>;
}

/** Bytes a digest body may take (the sender refuses bodies over 1 MB). */
export const WEBHOOK_BODY_BUDGET = 900_000;

/** Consecutive groups whose JSON stays under `budget` bytes (a single huge message is its own group). */
export function splitBySize(messagesJson: string[], budget: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const m of messagesJson) {
    const n = Buffer.byteLength(m);
    if (current.length > 0 && size + n > budget) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += n + 1;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The webhook body: the SyncMessage itself, or `{type: "digest", count, messages}` for several. */
export function webhookBody(messagesJson: string[]): RawJson {
  return new RawJson(messagesJson.length === 1 ? messagesJson[0]! : `{"type":"digest","count":${messagesJson.length},"messages":[${messagesJson.join(',')}]}`);
}

export class WebhookDeliverySender implements DeliverySender {
  private readonly sender: WebhookSender;
  readonly marksLeaving = true;

  constructor(
    private readonly secret: string,
    timeoutMs = 10_000,
    egress?: EgressPolicy,
  ) {
    this.sender = new WebhookSender({ secret, timeoutMs, ...(egress ? { egress } : {}) });
  }

  /** Sends the batch as one request, or several when a digest would pass the body limit. */
  async send(batch: DeliveryBatch) {
    let providerMessageId: string | null = null;
    const chunks = splitBySize(batch.messagesJson, WEBHOOK_BODY_BUDGET);
    // Each subscription's own secrets; the shared secret (and the v1= signature) only for subscriptions made before them.
    const legacy = batch.signing === undefined || batch.signing.legacy || batch.signing.secrets.length === 0;
    const signing = { secrets: [...(batch.signing?.secrets ?? []), ...(legacy ? [this.secret] : [])], v1: legacy };
    for (const [i, chunk] of chunks.entries()) {
      const r = await this.sender.send(batch.address, webhookBody(chunk), chunks.length === 1 ? batch.batchId : `${batch.batchId}.${i + 1}`, signing, batch.leaving);
      providerMessageId = r.providerMessageId ?? providerMessageId;
    }
    return { providerMessageId };
  }
}

/** A channel with no adapter configured in this process. */
export class UnconfiguredSender implements DeliverySender {
  constructor(private readonly channel: DestinationChannel) {}

  async send(): Promise<never> {
    throw new NotConfiguredError(this.channel, `No ${this.channel} adapter is configured in this gateway yet, so nothing can be sent there; configure it and retry the dead letters.`);
  }
}
