/**
 * The conversation core: one inbound message from any channel in, one neutral Reply out.
 * Persist first (the inbound log), then — in order per conversation, across processes — identify
 * the sender, authorize, parse with the one grammar, execute, remember the conversation and store
 * the answer in one transaction. A re-delivered message (same provider id) runs once and gets the
 * first answer again, also after a crash and on another web process.
 */
import { inTransaction, type Database } from '../db.ts';
import { HubError } from '../hub/errors.ts';
import type { Hub } from '../hub/hub.ts';
import type { Logger } from '../log.ts';
import { parseCommand, type Command } from '../../commands/grammar/index.ts';
import { executeCommand, isReadOnly } from '../../commands/execute.ts';
import { ConversationStore } from './conversation-store.ts';
import { IdentityDirectory, PAIR_CODE_TTL_MS } from './identity-directory.ts';
import { InboundLog, recordedMessage, type InboundRef } from './inbound-log.ts';
import { conversationKey, InboundMessageSchema, parseIdentityKey, type InboundMessage } from './inbound.ts';
import { KeyedQueue } from './keyed-queue.ts';
import type { Reply } from './reply.ts';
import { SubscriptionStore } from './subscription-store.ts';
import type { EgressPolicy } from './egress-policy.ts';

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

const sameMessage = (a: InboundRef, b: InboundRef): boolean => a.channel === b.channel && a.providerMessageId === b.providerMessageId;

/** Thrown to roll a preview's transaction back (never leaves ConversationCore.preview). */
const PREVIEW_ROLLBACK = new Error('preview: roll back');

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
    private readonly database: Database,
    private readonly logger: Logger,
    opts: { allowlist?: string[]; webhookEgress?: EgressPolicy } = {},
  ) {
    this.identities = new IdentityDirectory(database.db, { allowlist: opts.allowlist ?? [] });
    this.subscriptions = new SubscriptionStore(database.db, opts.webhookEgress, database.pipeline);
    this.conversations = new ConversationStore(database.db);
    this.inbound = new InboundLog<CoreResult>(database.db);
  }

  /**
   * Handle one inbound message. Never throws for anything the sender typed.
   *
   * Exactly once, in order: the message is recorded first (committed, so an ack after this point
   * loses nothing). Then, under the conversation's lock (in the database, so every web process
   * shares it), the conversation's unfinished messages run oldest first up to this one, each in
   * ONE transaction with its hub changes, conversation state and answer: a crash before that
   * commit leaves the message unfinished (run again by a re-delivery or at start), and after it
   * a re-delivery only gets the stored answer.
   */
  async handle(raw: InboundMessage): Promise<CoreResult> {
    return (await this.submit(raw)).answer;
  }

  /**
   * Record the message (committed when this resolves: a channel may acknowledge the platform
   * now) and start its turn; `answer` settles when it has run. `duplicate` in the answer is false
   * for exactly one caller per message — the one that hands the answer out — and true for every
   * other copy (a platform retry, the same message on another process), so a channel sends each
   * answer once. After a crash the first re-delivery is the one that hands it out.
   */
  async submit(raw: InboundMessage): Promise<{ recorded: 'new' | 'duplicate'; answer: Promise<CoreResult> }> {
    const m = InboundMessageSchema.parse(raw);
    const key = conversationKey(m);
    const recorded = await this.inbound.record(m);
    const answer = (async (): Promise<CoreResult> => {
      if (recorded.kind === 'duplicate' && recorded.reply) return { ...recorded.reply, duplicate: !(await this.inbound.claimAnswer(m)) };
      const turn = await this.queue.run(key, () => this.runUpTo(key, recorded.seq, m));
      const claimed = turn.claimed || (await this.inbound.claimAnswer(m));
      return { ...turn.result, duplicate: !claimed };
    })();
    return { recorded: recorded.kind, answer };
  }

  /**
   * Run a read-only command as `raw` would, and record nothing: no inbound row, and whatever the
   * run touches (a stranger's identity and pairing code, conversation state) is rolled back. For
   * POST /api/v1/preview. A stranger's answer names a pairing code that was not kept.
   */
  async preview(raw: InboundMessage): Promise<CoreResult> {
    const m = InboundMessageSchema.parse(raw);
    const outcome: { result?: CoreResult } = {};
    await inTransaction(this.database, async () => {
      outcome.result = await this.run(m, conversationKey(m));
      throw PREVIEW_ROLLBACK;
    }).catch((err: unknown) => {
      if (err !== PREVIEW_ROLLBACK) throw err;
    });
    if (!outcome.result) throw new Error('preview produced no answer');
    return outcome.result;
  }

  /**
   * Run what a crash left recorded but unfinished, in each conversation's order. Safe to call
   * from every process at once (the conversation lock decides who runs each message).
   */
  async resumeUnfinished(): Promise<number> {
    let resumed = 0;
    for (;;) {
      const pending = await this.inbound.unfinished();
      if (pending.length === 0) return resumed;
      await Promise.all(
        pending.map(({ key, seq }) =>
          this.queue.run(key, async () => {
            resumed += await this.drain(key, seq);
          }),
        ),
      );
    }
  }

  /**
   * Run the conversation's unfinished messages up to `seq`; the answer of the one at `seq`, and
   * whether this call claimed it (it ran it itself).
   */
  private async runUpTo(key: string, seq: number, target: InboundRef): Promise<{ result: CoreResult; claimed: boolean }> {
    const mine = { result: undefined as CoreResult | undefined };
    await this.drain(key, seq, target, mine);
    if (mine.result) return { result: mine.result, claimed: true };
    const row = await this.inbound.get(target);
    if (!row?.reply) throw new Error(`inbound message ${target.channel}/${target.providerMessageId} has no answer after its turn`);
    return { result: row.reply as CoreResult, claimed: false };
  }

  /** One message per transaction, oldest first, until none up to `seq` is left; returns how many ran. */
  private async drain(key: string, seq: number, target?: InboundRef, out?: { result: CoreResult | undefined }): Promise<number> {
    let ran = 0;
    for (;;) {
      let failed: { m: InboundMessage; err: unknown } | undefined;
      const step = await inTransaction(this.database, async () => {
        await this.inbound.lockConversation(key);
        const row = await this.inbound.nextUnfinished(key, seq);
        if (!row) return 'empty' as const;
        const m = recordedMessage(row);
        let result: CoreResult;
        try {
          result = await this.run(m, key);
        } catch (err) {
          failed = { m, err };
          throw err; // roll back whatever it changed
        }
        const isTarget = target !== undefined && sameMessage(m, target);
        await this.inbound.finish(m, result, 'done', isTarget && out !== undefined);
        ran++;
        if (target && sameMessage(m, target)) {
          if (out) out.result = result;
          return 'reached' as const;
        }
        return 'next' as const;
      }).catch(async (err: unknown) => {
        if (!failed) throw err; // the database itself failed: the message stays unfinished
        this.logger.error({ err: failed.err, channel: failed.m.channel, conversation: key }, 'command failed; its changes were rolled back and the sender is told');
        const result = answer({ kind: 'error', title: 'Something went wrong', text: 'That did not work and nothing was changed. Try again in a moment.' });
        const m = failed.m;
        await inTransaction(this.database, async () => {
          await this.inbound.lockConversation(key);
          await this.inbound.finish(m, result, 'failed', target !== undefined && sameMessage(m, target) && out !== undefined);
        });
        ran++;
        if (target && sameMessage(m, target)) {
          if (out) out.result = result;
          return 'reached' as const;
        }
        return 'next' as const;
      });
      if (step !== 'next') return ran;
    }
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
      // A savepoint: a command that fails half-way (a HubError) leaves nothing of what it did.
      reply = await this.database.db.transaction(() =>
        executeCommand(command, {
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
        }),
      );
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
