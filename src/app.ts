/**
 * Wires the gateway together from a Config: database, hub, conversation core, delivery queues
 * and, per process mode, the HTTP/WS server (`web`), the pipeline workers (`worker`) or both
 * (`all`, for development). Used by src/main.ts and by integration tests, so both run the same.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db.ts';
import { Hub } from './hub/hub.ts';
import { createLogger, type Logger } from './log.ts';
import { ThrottledErrorLog, watchConnection } from './error-log.ts';
import { resolveApiToken, resolveSecret, type ResolvedToken } from './api/auth.ts';
import { buildServer } from './api/server.ts';
import { registerQueueDashboard } from './api/queue-dashboard.ts';
import { conversationRoutes } from './api/routes/conversation.ts';
import { deliveryRoutes } from './api/routes/deliveries.ts';
import { webRoutes } from './web/routes.ts';
import { ConversationCore } from './core/conversation-core.ts';
import { ensureRedis, type RedisHandle } from './redis/connect.ts';
import { createRedis } from './redis/client.ts';
import { DeliveryQueues, startPipelineWorkers, type PipelineConfig, type PipelineWorkers } from '../queues/pipeline.ts';
import { RedisChangeBus } from '../queues/change-bus.ts';
import { changesChannel, parsePaces, windowsFor } from '../queues/names.ts';
import { LiveChanges } from './sync/live-changes.ts';
import { channelStatuses, createChannels } from '../bots/index.ts';
import { mountTokenRoutes, mountWebhookRoutes } from '../bots/shared/route-runner.ts';
import type { ChannelAdapter } from './core/channel-adapter.ts';
import { ThreadStore } from './core/thread-store.ts';
import { claimQueuePrefix, hubId, lockDataDir } from './instance-guard.ts';

export type GatewayMode = 'all' | 'web' | 'worker';

export interface Gateway {
  config: Config;
  mode: GatewayMode;
  logger: Logger;
  database: Database;
  hub: Hub;
  core: ConversationCore;
  queues: DeliveryQueues;
  /** Chat channels that are configured (on), in this process. */
  channels: ChannelAdapter[];
  workers: PipelineWorkers | undefined;
  app: FastifyInstance | undefined;
  token: ResolvedToken;
  webhookSecret: ResolvedToken;
  redis: RedisHandle;
  /** Base URL once listening (e.g. http://127.0.0.1:3000). */
  url: string;
  close(): Promise<void>;
}

export interface GatewayOptions {
  logger?: Logger;
  mode?: GatewayMode;
  /** Listen on config.host:config.port (default true in web/all). Tests use port 0. */
  listen?: boolean;
  /** Pipeline overrides (tests: senders, sweeper timings, poll interval). */
  pipeline?: Partial<PipelineConfig>;
}

export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  const mode = opts.mode ?? 'all';
  const logger = opts.logger ?? createLogger(config.logLevel);
  // The embedded database belongs to one process: a second gateway on this DATA_DIR is refused.
  const unlock = !config.databaseUrl && config.dataDir !== 'memory://' ? await lockDataDir(config.dataDir) : async () => {};
  let redis: RedisHandle | undefined;
  let database: Database | undefined;
  try {
    redis = await ensureRedis({ redisUrl: config.redisUrl, dataDir: config.dataDir, logger });
    database = await openDatabase({ databaseUrl: config.databaseUrl, databaseSchema: config.databaseSchema, dataDir: config.dataDir }, logger);
    await claimQueuePrefix(redis.url, config.queuePrefix, await hubId(database), logger);
  } catch (err) {
    await database?.close().catch(() => {});
    await redis?.stop().catch(() => {});
    await unlock();
    throw err;
  }
  return startWith(config, opts, mode, logger, redis, database, unlock);
}

async function startWith(config: Config, opts: GatewayOptions, mode: GatewayMode, logger: Logger, redis: RedisHandle, database: Database, unlock: () => Promise<void>): Promise<Gateway> {
  const hub = new Hub(database, config.nodeId);
  const token = await resolveApiToken(config.apiToken, config.dataDir);
  const webhookSecret = await resolveSecret(config.webhookSecret, config.dataDir, 'webhook-secret');
  const core = new ConversationCore(hub, database, logger, { allowlist: config.allowlist, webhookEgress: config.webhookEgress });
  const channels = await createChannels({ config: config.channels, core, database, threads: new ThreadStore(database.db), logger, redisUrl: redis.url, queuePrefix: config.queuePrefix });
  const channelSenders = Object.fromEntries(channels.map((c) => [c.channel, c.sender]));
  const queues = new DeliveryQueues(
    {
      redisUrl: redis.url,
      prefix: config.queuePrefix,
      windows: windowsFor(config.digestWindowMs, config.webhookWindowMs),
      paces: parsePaces(config.rateLimits),
      attempts: config.deliveryAttempts,
      retryBaseMs: config.retryBaseMs,
      webhookSecret: webhookSecret.token,
      webhookEgress: config.webhookEgress,
      lockDurationMs: config.jobLockMs,
      sweeper: {
        everyMs: config.sweepMs,
        fanoutTimeoutMs: 12 * config.sweepMs,
        deliveryTimeoutMs: Math.max(3 * config.sweepMs, (config.digestWindowMs ?? 1000) + config.sweepMs),
        retentionMs: config.retentionHours * 3_600_000,
      },
      ...opts.pipeline,
      senders: { ...channelSenders, ...opts.pipeline?.senders },
    },
    database,
    logger,
  );
  const workers = mode === 'web' ? undefined : startPipelineWorkers(queues, database, hub, core.subscriptions, logger);

  let app: FastifyInstance | undefined;
  let bus: RedisChangeBus | undefined;
  let url = '';
  if (mode !== 'worker') {
    const subscriber = createRedis(redis.url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 200, 2000), connectionName: 'chitty-live' });
    watchConnection(
      subscriber,
      new ThrottledErrorLog(logger, 'Redis (live-change subscriber connection)', 'ioredis reconnects and resubscribes; until then WebSocket clients here miss changes committed by other processes'),
    );
    bus = new RedisChangeBus(queues.redis, subscriber, changesChannel(config.queuePrefix), hub, logger);
    await bus.start();
    const live = new LiveChanges(hub, bus, logger);
    app = await buildServer({
      hub,
      database,
      logger,
      apiToken: token.token,
      requestTimeoutMs: config.requestTimeoutMs,
      metricsToken: config.metricsToken,
      changes: live,
      routes: [...conversationRoutes(core), ...deliveryRoutes(queues), ...webRoutes(core)],
      deliveryCounts: (id) => queues.ledger.countsForEntity(id),
      ...(config.channels.publicUrl ? { publicUrl: config.channels.publicUrl } : {}),
      health: {
        redis: () => queues.ping(),
        channels: async () => ({ ok: true, ...Object.fromEntries(Object.entries(channelStatuses(channels)).map(([k, v]) => [k, v.on ? { on: true, ...v.detail } : { on: false }])) }),
      },
      plugins: (a, isValidToken) => registerQueueDashboard(a, queues.all(), { isValidToken }),
    });
    app.addHook('onClose', async () => {
      await bus?.stop();
      subscriber.disconnect();
    });
    await mountWebhookRoutes(
      app,
      channels.flatMap((c) => c.routes),
      { core, logger, ...(config.channels.publicUrl ? { publicUrl: config.channels.publicUrl } : {}) },
    );
    mountTokenRoutes(
      app,
      channels.flatMap((c) => c.tokenRoutes ?? []),
    );
    for (const c of channels) await c.start?.();
    if (opts.listen !== false) {
      url = await app.listen({ host: config.host, port: config.port });
      url = url.replace('[::1]', 'localhost');
    }
  }

  // Messages a crash left recorded but unanswered run now, once, in their conversation's order.
  const resumed =
    mode === 'worker'
      ? Promise.resolve()
      : core.resumeUnfinished().then(
          (n) => void (n > 0 && logger.info({ messages: n }, 'ran inbound messages left unfinished by an earlier stop')),
          (err: unknown) => logger.error({ err }, 'could not run the inbound messages left unfinished; they run on their next re-delivery or start'),
        );

  let closed = false;
  return {
    config,
    mode,
    logger,
    database,
    hub,
    core,
    queues,
    channels,
    workers,
    app,
    token,
    webhookSecret,
    redis,
    url,
    async close() {
      if (closed) return;
      closed = true;
      // Stop taking work, let in-flight requests and jobs finish, then close connections.
      await app?.close();
      await resumed;
      for (const c of channels) await c.stop?.().catch((err: unknown) => logger.warn({ err, channel: c.channel }, 'channel did not stop cleanly'));
      await workers?.close();
      await queues.close();
      await database.close();
      await redis.stop();
      await unlock();
    },
  };
}
