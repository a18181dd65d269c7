/**
 * The Discord gateway connection (discord.js `Client`, `DISCORD_GATEWAY=on`): messages that mention
 * the bot or start with the prefix (`DISCORD_PREFIX`, default `!chitty`) run as text commands and
 * are answered in their channel as a reply. The bot's own messages, other bots' and webhooks' are
 * ignored. Each message goes through `core.submit` (recorded before anything else) with the
 * message id as provider id, so a re-delivered MESSAGE_CREATE runs once.
 *
 * One connection per application: every web process runs a `DiscordGateway`, and the one that
 * holds the Redis lock (`SET <prefix>:discord:gateway-lock <instance> NX PX ttl`, renewed every
 * ttl/3 while held) connects; the others stay passive and try to take the lock on the same
 * schedule, so when the holder dies its lock expires and another process connects within about
 * one TTL. A holder that cannot renew (Redis gone, lock taken) disconnects at once.
 */
import { randomUUID } from 'node:crypto';
import { Client, GatewayIntentBits } from 'discord.js';
import { createRedis, type RedisClient } from '../../src/redis/client.ts';
import type { ConversationCore } from '../../src/core/conversation-core.ts';
import type { Logger } from '../../src/log.ts';
import type { DiscordInteractionResponder } from './send.ts';

/** Default lock lifetime; the holder renews it every third of that. */
export const GATEWAY_LOCK_TTL_MS = 15_000;

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface DiscordGatewayOptions {
  botToken: string;
  applicationId: string;
  apiUrl?: string | undefined;
  prefix: string;
  redisUrl: string;
  /** Redis key of the lock, e.g. `{chitty}:discord:gateway-lock`. */
  lockKey: string;
  lockTtlMs?: number;
  core: ConversationCore;
  responder: DiscordInteractionResponder;
  logger: Logger;
}

/** The parts of a MESSAGE_CREATE we read. */
export interface GatewayMessage {
  id: string;
  channel_id: string;
  content?: string;
  webhook_id?: string;
  author?: { id: string; username?: string; global_name?: string | null; bot?: boolean };
  member?: { nick?: string | null };
  mentions?: { id: string }[];
}

/**
 * The command text of a message for the bot, or undefined when it is not for the bot: a leading
 * prefix (any case) or a mention of the bot (`<@id>` / `<@!id>`) is removed.
 */
export function commandOfMessage(m: GatewayMessage, botUserId: string, prefix: string): string | undefined {
  const content = (m.content ?? '').trim();
  if (prefix !== '' && content.toLowerCase().startsWith(prefix.toLowerCase())) return content.slice(prefix.length).trim() || 'help';
  const mention = new RegExp(`<@!?${botUserId}>`, 'gu');
  const mentioned = (m.mentions ?? []).some((u) => u.id === botUserId) || mention.test(content);
  if (!mentioned) return undefined;
  return content.replace(mention, ' ').replace(/\s+/gu, ' ').trim() || 'help';
}

export class DiscordGateway {
  /** Who this process is in the lock. */
  readonly instanceId = randomUUID();
  private redis: RedisClient | undefined;
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private holding = false;
  private ready = false;
  private ticking: Promise<void> | undefined;
  private readonly ttl: number;

  constructor(private readonly o: DiscordGatewayOptions) {
    this.ttl = o.lockTtlMs ?? GATEWAY_LOCK_TTL_MS;
  }

  /** Starts contending for the lock; resolves after the first attempt (connected or passive). */
  async start(): Promise<void> {
    if (this.redis) return;
    this.redis = createRedis(this.o.redisUrl, { maxRetriesPerRequest: 1 });
    this.redis.on('error', (err: Error) => this.o.logger.warn({ err: err.message }, 'discord gateway lock: Redis error; the gateway is dropped until the lock can be renewed'));
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.ttl / 3)));
  }

  /** Disconnects and gives the lock up, so another process connects at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.disconnect();
    if (this.holding && this.redis) await this.redis.eval(RELEASE, 1, this.o.lockKey, this.instanceId).catch(() => undefined);
    this.holding = false;
    this.redis?.disconnect();
    this.redis = undefined;
  }

  /** Stops like a crashed process would: the connection ends and the lock is left to expire. */
  async crash(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.disconnect();
    this.holding = false;
    this.redis?.disconnect();
    this.redis = undefined;
  }

  status(): { holdsLock: boolean; connected: boolean; instance: string } {
    return { holdsLock: this.holding, connected: this.ready, instance: this.instanceId };
  }

  private tick(): Promise<void> {
    this.ticking ??= this.contend().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async contend(): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    try {
      if (this.holding) {
        const renewed = await redis.eval(RENEW, 1, this.o.lockKey, this.instanceId, String(this.ttl));
        if (Number(renewed) === 1) return;
        this.o.logger.warn({ lock: this.o.lockKey }, 'discord gateway lock lost to another process; disconnecting');
        this.holding = false;
        await this.disconnect();
        return;
      }
      const got = await redis.set(this.o.lockKey, this.instanceId, 'PX', this.ttl, 'NX');
      if (got !== 'OK') return;
      this.holding = true;
      await this.connect();
    } catch (err) {
      this.o.logger.warn(
        { err: (err as Error).message },
        this.holding ? 'discord gateway: could not renew the lock or connect; disconnecting' : 'discord gateway: could not take the lock; will try again',
      );
      if (this.holding) {
        await this.disconnect();
        await redis.eval(RELEASE, 1, this.o.lockKey, this.instanceId).catch(() => undefined);
        this.holding = false;
      }
    }
  }

  private async connect(): Promise<void> {
    const client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages, GatewayIntentBits.MessageContent],
      ...(this.o.apiUrl ? { rest: { api: this.o.apiUrl } } : {}),
    });
    this.client = client;
    client.on('raw', (packet: { t?: string; d?: unknown }) => {
      if (packet.t === 'MESSAGE_CREATE' && packet.d) this.onMessage(packet.d as GatewayMessage, client.user?.id ?? this.o.applicationId);
    });
    client.on('error', (err) => this.o.logger.warn({ err: err.message }, 'discord gateway error'));
    const ready = new Promise<void>((resolve) => client.once('clientReady', () => resolve()));
    await client.login(this.o.botToken);
    await ready;
    if (this.client !== client) return; // stopped while connecting
    this.ready = true;
    this.o.logger.info({ user: client.user?.id, instance: this.instanceId }, 'discord gateway connected (this process holds the gateway lock)');
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.ready = false;
    if (client) await client.destroy().catch(() => undefined);
  }

  private onMessage(m: GatewayMessage, botUserId: string): void {
    const author = m.author;
    if (!author || author.bot === true || author.id === botUserId || m.webhook_id) return;
    const text = commandOfMessage(m, botUserId, this.o.prefix);
    if (text === undefined) return;
    const senderName = m.member?.nick ?? author.global_name ?? author.username;
    void this.o.core
      .submit({
        channel: 'discord',
        address: m.channel_id,
        sender: `discord:${author.id}`,
        ...(senderName ? { senderName: senderName.slice(0, 200) } : {}),
        text,
        providerMessageId: m.id,
        receivedAt: new Date(),
      })
      .then(({ answer }) => answer)
      .then((r) => (r.duplicate ? undefined : this.o.responder.replyTo(m.channel_id, m.id, r.reply, r.page)))
      .catch((err: unknown) => this.o.logger.error({ err, message: m.id }, 'discord gateway message: could not run or answer it'));
  }
}
