/**
 * The conversation core: one inbound message from any channel in, one neutral Reply out.
 * Persist first (the inbound log), then — in order per conversation — identify the sender,
 * authorize, parse with the one grammar, execute, remember the conversation, store the answer.
 * A re-delivered message (same provider id) runs once and gets the first answer again.
 */
import type { Database } from '../db.ts';
import { HubError } from '../hub/errors.ts';
import type { Hub } from '../hub/hub.ts';
import type { Logger } from '../log.ts';
import { parseCommand, type Command } from '../../commands/grammar/index.ts';
import { executeCommand, isReadOnly } from '../../commands/execute.ts';
import { ConversationStore } from './conversation-store.ts';
import { IdentityDirectory, PAIR_CODE_TTL_MS } from './identity-directory.ts';
import { InboundLog } from './inbound-log.ts';
import { conversationKey, InboundMessageSchema, parseIdentityKey, type InboundMessage } from './inbound.ts';
import { KeyedQueue } from './keyed-queue.ts';
import type { Reply } from './reply.ts';
import { SubscriptionStore } from './subscription-store.ts';

export interface CoreResult {
  reply: Reply;
  /** Page of the reply to show (1 unless the person asked for `more`). */
  page: number;
  /** True when this message was seen before and this is the first answer again. */
  duplicate: boolean;
  /** The command that ran (e.g. `todo.add`), when the text parsed. */
  command?: string;
}

/** A first answer (not a re-delivery), on page 1 unless `more` asked for another. */
const answer = (reply: Reply, command?: string, page = 1): CoreResult => ({ reply, page, duplicate: false, ...(command ? { command } : {}) });

/** Commands a sender who is not paired yet may run. */
const STRANGER_COMMANDS = new Set(['help', 'link.code']);

export class ConversationCore {
  readonly identities: IdentityDirectory;
  readonly subscriptions: SubscriptionStore;
  readonly conversations: ConversationStore;
  readonly inbound: InboundLog<CoreResult>;
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly hub: Hub,
    database: Database,
    private readonly logger: Logger,
    opts: { allowlist?: string[] } = {},
  ) {
    this.identities = new IdentityDirectory(database.db, { allowlist: opts.allowlist ?? [] });
    this.subscriptions = new SubscriptionStore(database.db);
    this.conversations = new ConversationStore(database.db);
    this.inbound = new InboundLog<CoreResult>(database.db);
  }

  /** Handle one inbound message. Never throws for anything the sender typed. */
  async handle(raw: InboundMessage): Promise<CoreResult> {
    const m = InboundMessageSchema.parse(raw);
    const key = conversationKey(m);
    const recorded = await this.inbound.record(m);
    if (recorded.kind === 'duplicate' && recorded.reply) return { ...recorded.reply, duplicate: true };
    return this.queue.run(key, async () => {
      if (recorded.kind === 'duplicate') {
        // The first delivery was queued before us on this conversation: its answer is ready now.
        const prior = await this.inbound.get(m.channel, m.providerMessageId);
        if (prior?.reply) return { ...(prior.reply as CoreResult), duplicate: true };
      }
      let result: CoreResult;
      try {
        result = await this.run(m, key);
      } catch (err) {
        this.logger.error({ err, channel: m.channel, conversation: key }, 'command failed');
        result = answer({ kind: 'error', title: 'Something went wrong', text: 'That did not work and nothing was changed. Try again in a moment.' });
        await this.inbound.finish(m, result, 'failed');
        return result;
      }
      await this.inbound.finish(m, result);
      return result;
    });
  }

  private async run(m: InboundMessage, key: string): Promise<CoreResult> {
    const sender = parseIdentityKey(m.sender);
    if (!sender.ok) return answer({ kind: 'error', text: sender.error });
    const now = m.receivedAt;
    const parsed = parseCommand(m.text, now);
    const access = await this.identities.access(sender.key, m.senderName);

    if (access.kind === 'stranger' && (!parsed.ok || !STRANGER_COMMANDS.has(parsed.command.name))) {
      const { code } = await this.identities.requestPairing(sender.key);
      return answer({
        kind: 'info',
        title: 'You are not paired yet',
        text: `Ask a member to send "link approve ${code}" (valid ${PAIR_CODE_TTL_MS / 3_600_000} h). If you already use ChittyChat on another channel, send "link" there and then "link <code>" here.`,
        footer: 'Nothing was changed.',
      });
    }
    if (!parsed.ok) return answer({ kind: 'usage', text: parsed.error, footer: parsed.usage });

    const command: Command = parsed.command;
    const conversation = await this.conversations.load(key);
    if (command.name === 'more') {
      if (!conversation.lastReply) return answer({ kind: 'info', text: 'Nothing more to show. Try "list".' }, command.name);
      conversation.page = (conversation.page ?? 1) + 1;
      await this.conversations.save(key, conversation);
      return answer(conversation.lastReply, command.name, conversation.page);
    }

    let reply: Reply;
    try {
      reply = await executeCommand(command, {
        hub: this.hub,
        identities: this.identities,
        subscriptions: this.subscriptions,
        person: access.kind === 'member' ? access.person : { id: '', name: sender.key },
        identityKey: sender.key,
        channel: m.channel,
        address: m.address,
        ...(m.thread ? { thread: m.thread } : {}),
        conversation,
        now,
        actor: {
          platform: m.channel,
          ...(access.kind === 'member' ? { chittyId: access.person.id } : {}),
          origin: { channel: m.channel, address: m.address, ...(m.thread ? { thread: m.thread } : {}) },
        },
      });
    } catch (err) {
      if (!(err instanceof HubError)) throw err;
      reply = { kind: 'error', text: err.message, ...(isReadOnly(command) ? {} : { footer: 'Nothing was changed.' }) };
    }
    if (reply.items && reply.items.length > 0) {
      conversation.lastReply = reply;
      conversation.page = 1;
    }
    await this.conversations.save(key, conversation);
    return answer(reply, command.name);
  }
}
