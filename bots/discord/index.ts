/**
 * The Discord channel: HTTP interactions at `POST /discord/interactions` (Ed25519-verified,
 * answered within Discord's 3 s — inline when the core answers in time, else deferred and edited
 * later), fan-out through discord.js REST, and optionally the gateway for text commands
 * (one process at a time, by a Redis lock).
 * https://discord.com/developers/docs/interactions/receiving-and-responding
 */
import type { ChannelDeps } from '../index.ts';
import type { DiscordConfig } from '../../src/channel-config.ts';
import { type ChannelAdapter, type ChannelStatus, type WebhookRoute, runningStatus } from '../../src/core/channel-adapter.ts';
import type { ConversationCore } from '../../src/core/conversation-core.ts';
import type { ThreadStore } from '../../src/core/thread-store.ts';
import type { Logger } from '../../src/log.ts';
import { CAPABILITIES } from '../../renderers/index.ts';
import { DiscordGateway } from './gateway.ts';
import { CALLBACK, type DiscordRespond, json, parseInteraction } from './parse.ts';
import { EPHEMERAL, renderForDiscord } from './render.ts';
import { answerRest, DiscordInteractionResponder, DiscordSender, fanoutRest } from './send.ts';
import { DiscordVerifier } from './verify.ts';

/** Discord waits 3 s for the first answer; we answer inline only if the core is done by then. */
export const DISCORD_INLINE_WITHIN_MS = 2_000;
export const DISCORD_INTERACTIONS_PATH = '/discord/interactions';

export interface DiscordAdapterOptions {
  config: DiscordConfig;
  core: ConversationCore;
  threads: ThreadStore | undefined;
  logger: Logger;
  redisUrl: string;
  queuePrefix: string;
  /** How long to wait for an inline answer (default 2 s). */
  inlineWithinMs?: number;
  /** Clock of the signature window (tests). */
  nowMs?: () => number;
  gatewayLockTtlMs?: number;
}

/** The Redis key of the gateway lock for a queue prefix. */
export const gatewayLockKey = (queuePrefix: string): string => `${queuePrefix}:discord:gateway-lock`;

export class DiscordAdapter implements ChannelAdapter {
  readonly channel = 'discord' as const;
  readonly capabilities = CAPABILITIES.discord;
  readonly routes: WebhookRoute<DiscordRespond>[];
  readonly sender: DiscordSender;
  readonly responder: DiscordInteractionResponder;
  readonly gateway: DiscordGateway | undefined;

  constructor(private readonly o: DiscordAdapterOptions) {
    const { config } = o;
    const rest = { botToken: config.botToken, apiUrl: config.apiUrl };
    this.sender = new DiscordSender(fanoutRest(rest), o.threads);
    this.responder = new DiscordInteractionResponder(answerRest(rest));
    const verifier = new DiscordVerifier(config.publicKey, o.nowMs);
    const responder = this.responder;
    this.routes = [
      {
        method: 'POST',
        url: DISCORD_INTERACTIONS_PATH,
        ackWithinMs: o.inlineWithinMs ?? DISCORD_INLINE_WITHIN_MS,
        verify: (req) => verifier.verifyRequest(req),
        parse: (req) => parseInteraction(req, { applicationId: config.applicationId }),
        // A slash command: a new message only its sender sees; a button: the message it is on, updated.
        inline: (result, respond) =>
          respond.kind === 'component'
            ? json({ type: CALLBACK.UPDATE_MESSAGE, data: renderForDiscord(result.reply, result.page) })
            : json({ type: CALLBACK.CHANNEL_MESSAGE, data: { ...renderForDiscord(result.reply, result.page), flags: EPHEMERAL } }),
        deferred: (respond) => (respond.kind === 'component' ? json({ type: CALLBACK.DEFERRED_UPDATE_MESSAGE }) : json({ type: CALLBACK.DEFERRED_CHANNEL_MESSAGE, data: { flags: EPHEMERAL } })),
        late: (result, respond) => responder.answer(respond, result.reply, result.page),
      },
    ];
    this.gateway = config.gateway
      ? new DiscordGateway({
          botToken: config.botToken,
          applicationId: config.applicationId,
          apiUrl: config.apiUrl,
          prefix: config.prefix,
          redisUrl: o.redisUrl,
          lockKey: gatewayLockKey(o.queuePrefix),
          ...(o.gatewayLockTtlMs ? { lockTtlMs: o.gatewayLockTtlMs } : {}),
          core: o.core,
          responder,
          logger: o.logger,
        })
      : undefined;
  }

  async start(): Promise<void> {
    await this.gateway?.start();
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
  }

  status(): ChannelStatus {
    return runningStatus(this, {
      application: this.o.config.applicationId,
      gateway: this.gateway ? { prefix: this.o.config.prefix, ...this.gateway.status() } : 'off',
    });
  }
}

/** The registry's factory: on when DISCORD_PUBLIC_KEY, DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN are set. */
export function createDiscordChannel(deps: ChannelDeps): DiscordAdapter | undefined {
  const config = deps.config.discord;
  if (!config) return undefined;
  return new DiscordAdapter({ config, core: deps.core, threads: deps.threads, logger: deps.logger, redisUrl: deps.redisUrl, queuePrefix: deps.queuePrefix });
}
