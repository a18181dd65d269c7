/**
 * Assembles the delivery pipeline: queues (web and worker processes both need them: the API
 * retries dead letters and the dashboard shows them), and the workers that only `worker`
 * processes run — outbox relay, fan-out, one delivery worker per channel, and the sweeper.
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { createRedis, isCluster, primaries, type RedisClient } from '../src/redis/client.ts';
import type { Database } from '../src/db.ts';
import type { Hub } from '../src/hub/hub.ts';
import type { Logger } from '../src/log.ts';
import { classifyError } from '../src/core/chitty-error.ts';
import { ThrottledErrorLog, watchConnection } from '../src/error-log.ts';
import { DESTINATION_CHANNELS, type DestinationChannel, type SubscriptionStore } from '../src/core/subscription-store.ts';
import { DeliveryLedger } from './delivery-ledger.ts';
import type { EgressPolicy } from '../src/core/egress-policy.ts';
import { DeliveryProcessor, DESTINATION_BACKOFF, type IsolationOptions } from './delivery-worker.ts';
import { DeliveryScheduler, type DeliveryJobData } from './delivery-scheduler.ts';
import { FanoutProcessor } from './fanout-worker.ts';
import { deliveryQueueName, FANOUT_QUEUE, PLATFORM_LIMIT, queueTag, type Pace } from './names.ts';
import { OutboxRelay, type FanoutJobData } from './outbox-relay.ts';
import { UnconfiguredSender, WebhookDeliverySender, type DeliverySender } from './senders.ts';
import { DEFAULT_SWEEPER, Sweeper, type SweeperOptions } from './sweeper.ts';
import { watchQueueDepths } from '../src/telemetry/metrics.ts';

export interface PipelineConfig {
  /** `redis://…`, or `redis+cluster://host:port,…` for a Redis Cluster (src/redis/client.ts). */
  redisUrl: string;
  /** Key prefix, a Redis Cluster hash tag like `{chitty}`; each queue's own tag derives from it (names.ts queueTag). */
  prefix: string;
  /** Coalescing window per channel (ms). */
  windows: Record<DestinationChannel, number>;
  paces: Record<DestinationChannel, Pace>;
  attempts: number;
  retryBaseMs: number;
  webhookSecret: string;
  relayPollMs?: number;
  sweeper?: Partial<SweeperOptions>;
  /** Concurrent delivery jobs per channel worker. */
  deliveryConcurrency?: number;
  fanoutConcurrency?: number;
  /** How long a worker holds a job before another may take it as stalled (ms; default 30 s). */
  lockDurationMs?: number;
  /** Replace senders (tests, channels configured elsewhere). */
  senders?: Partial<Record<DestinationChannel, DeliverySender>>;
  /** Which addresses webhooks may reach (default: all). */
  webhookEgress?: EgressPolicy;
  /** Webhook request timeout (ms, default 10 s). */
  webhookTimeoutMs?: number;
  /** Untrusted-destination slots, send timeout, circuit breaker (see delivery-worker.ts). */
  isolation?: IsolationOptions;
}

/** Producer connection: fails fast when Redis is down (callers keep the work and retry). */
function producerConnection(url: string): RedisClient {
  return createRedis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false, retryStrategy: (n) => Math.min(n * 200, 2000), connectionName: 'chitty-producer' });
}

/** Worker connection: BullMQ needs maxRetriesPerRequest null for blocking commands. */
function workerConnection(url: string, name: string): RedisClient {
  return createRedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: (n) => Math.min(n * 200, 2000), connectionName: name });
}

export class DeliveryQueues {
  readonly redis: RedisClient;
  readonly fanout: Queue<FanoutJobData>;
  readonly deliver: Record<DestinationChannel, Queue<DeliveryJobData>>;
  readonly scheduler: DeliveryScheduler;
  readonly ledger: DeliveryLedger;

  constructor(
    readonly config: PipelineConfig,
    database: Database,
    logger: Logger,
  ) {
    this.redis = producerConnection(config.redisUrl);
    // One log for the connection and every queue on it (each re-emits the same error): one line,
    // then one a minute while Redis stays down, and one when it is back.
    const redisErrors = new ThrottledErrorLog(
      logger,
      'Redis (queue producer connection)',
      'ioredis reconnects every 2 s at most; changes wait in the outbox and are relayed when Redis is back; /health reports it meanwhile',
    );
    watchConnection(this.redis, redisErrors);
    const connection = this.redis as unknown as ConnectionOptions;
    // Each queue under its own hash tag: on a cluster, queues spread over the nodes.
    this.fanout = new Queue<FanoutJobData>(FANOUT_QUEUE, {
      connection,
      prefix: queueTag(config.prefix, FANOUT_QUEUE),
      defaultJobOptions: { attempts: 20, backoff: { type: 'exponential', delay: 500, jitter: 0.5 }, removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } },
    });
    this.deliver = Object.fromEntries(
      DESTINATION_CHANNELS.map((ch) => [
        ch,
        new Queue<DeliveryJobData>(deliveryQueueName(ch), {
          connection,
          prefix: queueTag(config.prefix, deliveryQueueName(ch)),
          defaultJobOptions: {
            attempts: config.attempts,
            // Decided by the delivery worker: a failed job retries when its destination's hold ends.
            backoff: { type: DESTINATION_BACKOFF, delay: config.retryBaseMs },
            removeOnComplete: { age: 3600, count: 10_000 },
            removeOnFail: { age: 7 * 86_400 },
          },
        }),
      ]),
    ) as Record<DestinationChannel, Queue<DeliveryJobData>>;
    for (const q of this.all()) q.on('error', (err) => redisErrors.report(err));
    watchQueueDepths(this.all()); // GET /metrics reads their depths at scrape time
    this.scheduler = new DeliveryScheduler(this.redis, config.prefix, this.deliver, config.windows);
    this.ledger = new DeliveryLedger(database.db, { statements: database.pipeline });
  }

  all(): Queue[] {
    return [this.fanout, ...Object.values(this.deliver)] as Queue[];
  }

  /** PING the Redis, or every master of a cluster (each holds some of the queues). */
  async ping(): Promise<{ ok: boolean; latencyMs?: number; nodes?: number; error?: string }> {
    const t0 = performance.now();
    try {
      const nodes = isCluster(this.redis) ? primaries(this.redis) : [];
      if (isCluster(this.redis) && nodes.length === 0) throw new Error('no Redis Cluster master connected');
      await Promise.all(nodes.length ? nodes.map((n) => n.ping()) : [this.redis.ping()]);
      return { ok: true, latencyMs: Math.round((performance.now() - t0) * 10) / 10, ...(nodes.length ? { nodes: nodes.length } : {}) };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all().map((q) => q.close()));
    this.redis.disconnect();
  }
}

/** What {@link watchWorker} listens to (a BullMQ `Worker`). */
export interface WorkerEvents {
  readonly name: string;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'failed', listener: (job: { id?: string | undefined; attemptsMade: number; opts: { attempts?: number } } | undefined, err: Error, prev: string) => void): unknown;
}

/**
 * Logs a worker's own errors (throttled, at warn) and its failed jobs with what happens next:
 * a retry (warn) or nothing more (error). Delays, rate-limit waits and dead letters
 * (`UnrecoverableError`, logged by the delivery processor with its reason) are not failures here.
 */
export function watchWorker(w: WorkerEvents, logger: Logger, errors: ThrottledErrorLog): void {
  w.on('error', (err) => errors.report(err, { queue: w.name }));
  w.on('failed', (job, err) => {
    if (!job || err.name === 'DelayedError' || err.name === 'RateLimitError' || err.name === 'UnrecoverableError') return;
    const attempts = job.opts.attempts ?? 1;
    const fields = { queue: w.name, job: job.id, attempt: job.attemptsMade, attempts, err: err.message, code: classifyError(err).code };
    if (job.attemptsMade < attempts) logger.warn(fields, 'job failed; BullMQ retries it after its backoff');
    else logger.error(fields, w.name === FANOUT_QUEUE ? 'job failed on its last attempt; the sweeper fans the change out again later' : 'job failed on its last attempt; it stays in the failed set');
  });
}

export interface PipelineWorkers {
  relay: OutboxRelay;
  sweeper: Sweeper;
  workers: Worker[];
  close(): Promise<void>;
}

/** Start the worker side: relay, fan-out, delivery workers, sweeper. */
export function startPipelineWorkers(queues: DeliveryQueues, database: Database, hub: Hub, subscriptions: SubscriptionStore, logger: Logger): PipelineWorkers {
  const { config } = queues;
  const prefix = config.prefix;
  const senders = Object.fromEntries(
    DESTINATION_CHANNELS.map((ch) => [
      ch,
      config.senders?.[ch] ?? (ch === 'webhook' ? new WebhookDeliverySender(config.webhookSecret, config.webhookTimeoutMs, config.webhookEgress) : new UnconfiguredSender(ch)),
    ]),
  ) as Record<DestinationChannel, DeliverySender>;

  const relay = new OutboxRelay(database.pipeline, queues.fanout, logger, config.relayPollMs ?? 1000);
  const onChange = () => relay.kick();
  hub.on('change', onChange);
  // Commits in other processes (web) wake the relay through Postgres NOTIFY; polling is the fallback.
  let unlisten: (() => Promise<void>) | undefined;
  if (database.listen && database.outboxChannel) {
    void database.listen(database.outboxChannel, onChange, logger).then(
      (stop) => (unlisten = stop),
      (err: unknown) => logger.warn({ err: (err as Error).message }, 'cannot LISTEN for outbox commits; the relay polls instead'),
    );
  }

  const fanoutProcessor = new FanoutProcessor(database.pipeline, subscriptions, queues.ledger, queues.scheduler);
  const deliveryWorkers = new Map<DestinationChannel, Worker>();
  const pausePlatform = async (channel: DestinationChannel, ms: number): Promise<Error> => {
    await deliveryWorkers.get(channel)?.rateLimit(ms);
    return Worker.RateLimitError();
  };
  const deliveryProcessor = new DeliveryProcessor(
    queues.redis,
    prefix,
    queues.ledger,
    queues.scheduler,
    senders,
    config.paces,
    logger,
    config.lockDurationMs ?? 30_000,
    pausePlatform,
    config.retryBaseMs,
    {
      // Destinations not known to answer (new or failing) may hold at most a quarter of a channel's workers.
      untrustedCap: Math.max(1, Math.floor((config.deliveryConcurrency ?? 32) / 4)),
      ...config.isolation,
    },
  );
  const connections: RedisClient[] = [];
  const workerErrors = new ThrottledErrorLog(
    logger,
    'Redis (worker connection)',
    'ioredis reconnects every 2 s at most and the workers take jobs again when it is back; jobs stay in Redis, nothing is lost',
  );
  const conn = (name: string) => {
    const c = workerConnection(config.redisUrl, name);
    watchConnection(c, workerErrors);
    connections.push(c);
    return c as unknown as ConnectionOptions;
  };
  // A job whose worker died is taken up again after the lock expires (a few times, not once).
  const lock = { lockDuration: config.lockDurationMs ?? 30_000, stalledInterval: config.lockDurationMs ?? 30_000, maxStalledCount: 10 };
  const workers: Worker[] = [
    new Worker<FanoutJobData>(FANOUT_QUEUE, (job) => fanoutProcessor.process(job), {
      connection: conn('chitty-fanout'),
      prefix: queueTag(prefix, FANOUT_QUEUE),
      concurrency: config.fanoutConcurrency ?? 4,
      ...lock,
    }),
    ...DESTINATION_CHANNELS.map((ch) => {
      const limiter = { max: PLATFORM_LIMIT[ch].max, duration: PLATFORM_LIMIT[ch].perMs };
      const settings = { backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => deliveryProcessor.backoff(attemptsMade, err) };
      const w = new Worker<DeliveryJobData>(deliveryQueueName(ch), (job, token) => deliveryProcessor.process(job, token), {
        connection: conn(`chitty-deliver-${ch}`),
        prefix: queueTag(prefix, deliveryQueueName(ch)),
        concurrency: config.deliveryConcurrency ?? 32,
        limiter,
        settings,
        ...lock,
      });
      deliveryWorkers.set(ch, w);
      return w;
    }),
  ];
  const workerFailures = new ThrottledErrorLog(logger, 'A queue worker', 'it keeps running; BullMQ retries the operation and a stalled job is taken up again after its lock expires');
  for (const w of workers) watchWorker(w, logger, workerFailures);
  const sweeper = new Sweeper(database.db, queues.redis, prefix, queues.ledger, queues.scheduler, queues.deliver as Record<DestinationChannel, Queue>, logger, {
    ...DEFAULT_SWEEPER,
    ...config.sweeper,
  });
  relay.start();
  sweeper.start();
  return {
    relay,
    sweeper,
    workers,
    async close() {
      hub.off('change', onChange);
      await unlisten?.();
      await relay.stop();
      await sweeper.stop();
      // Finish in-flight jobs (Worker.close waits for them), then drop connections.
      await Promise.allSettled(workers.map((w) => w.close()));
      for (const c of connections) c.disconnect();
    },
  };
}
