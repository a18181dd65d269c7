/**
 * The chat channels this gateway can run, each built from its config section when its variables
 * are set (`src/channel-config.ts`). A channel adds itself here with one line.
 */
import type { ChannelsConfig } from '../src/channel-config.ts';
import type { ChannelAdapter, ChannelStatus } from '../src/core/channel-adapter.ts';
import type { ConversationCore } from '../src/core/conversation-core.ts';
import { DESTINATION_CHANNELS, type DestinationChannel } from '../src/core/subscription-store.ts';
import type { ThreadStore } from '../src/core/thread-store.ts';
import type { Database } from '../src/db.ts';
import type { Logger } from '../src/log.ts';

/** What a channel factory gets: its config and the gateway's shared services. */
export interface ChannelDeps {
  config: ChannelsConfig;
  core: ConversationCore;
  database: Database;
  threads: ThreadStore;
  logger: Logger;
  /** Redis URL and key prefix, for channels that hold a lock (one gateway connection per app). */
  redisUrl: string;
  queuePrefix: string;
}

/** Builds a channel when configured, else returns undefined. */
export type ChannelFactory = (deps: ChannelDeps) => Promise<ChannelAdapter | undefined> | ChannelAdapter | undefined;

/** A channel's config section and how to load its factory (with its SDK) when that section is set. */
interface ChannelEntry {
  section: Exclude<keyof ChannelsConfig, 'publicUrl'>;
  load: () => Promise<ChannelFactory>;
}

/**
 * Every chat channel the gateway knows, in the order they are listed. Each is imported only when
 * its variables are set: a channel that is off loads neither its code nor its SDK (discord.js,
 * twilio, @slack/*, whatsapp-web.js, smtp-server, mailparser… cost memory and start time).
 */
const FACTORIES: ChannelEntry[] = [
  { section: 'slack', load: async () => (await import('./slack/index.ts')).createSlackChannel },
  { section: 'discord', load: async () => (await import('./discord/index.ts')).createDiscordChannel },
  { section: 'sms', load: async () => (await import('./sms/index.ts')).createSmsChannel },
  { section: 'whatsapp', load: async () => (await import('./whatsapp/index.ts')).createWhatsApp },
  { section: 'email', load: async () => (await import('./email/index.ts')).createEmailChannel },
];

export async function createChannels(deps: ChannelDeps): Promise<ChannelAdapter[]> {
  const out: ChannelAdapter[] = [];
  for (const { section, load } of FACTORIES) {
    if (deps.config[section] === undefined) continue;
    const adapter = await (await load())(deps);
    if (adapter) out.push(adapter);
  }
  return out;
}

/** Each destination channel's status: on with details, or off. */
export function channelStatuses(adapters: ChannelAdapter[]): Record<DestinationChannel, ChannelStatus> {
  const on = new Map(adapters.map((a) => [a.channel, a.status()]));
  return Object.fromEntries(
    DESTINATION_CHANNELS.map((ch) => [ch, on.get(ch) ?? { channel: ch, on: ch === 'webhook', detail: ch === 'webhook' ? { sends: 'signed HTTP POSTs' } : { set: 'its variables (see README)' } }]),
  ) as Record<DestinationChannel, ChannelStatus>;
}
