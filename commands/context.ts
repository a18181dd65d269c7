/**
 * What a command handler gets: the hub, who is asking, where, and the conversation's memory.
 * Handlers return a neutral Reply (src/core/reply.ts) and never channel JSON.
 */
import type { Actor, Hub } from '../src/hub/hub.ts';
import type { Reply } from '../src/core/reply.ts';
import type { ConversationState } from '../src/core/conversation-store.ts';
import type { IdentityDirectory, Person } from '../src/core/identity-directory.ts';
import type { SubscriptionStore } from '../src/core/subscription-store.ts';
import type { Channel } from '../src/core/inbound.ts';

export interface CommandContext {
  hub: Hub;
  identities: IdentityDirectory;
  subscriptions: SubscriptionStore;
  /** The member running the command. */
  person: Person;
  /** The channel identity it came from (`sms:+1555…`). */
  identityKey: string;
  /** Where the command was typed: replies and `subscribe` use this destination. */
  channel: Channel;
  address: string;
  thread?: string;
  /** The conversation's memory; handlers mutate it and the core saves it. */
  conversation: ConversationState;
  now: Date;
  /** Who changes hub state: platform, person, and the conversation (for no-echo fan-out). */
  actor: Actor;
}

export type { Reply };
