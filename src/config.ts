/**
 * Configuration is read here and only here (STYLE.md rule 9). Every variable is listed in
 * .env.example and the README.
 */
import path from 'node:path';
import { NODE_ID_REGEX } from './hub/hlc.ts';
import { parseIdentityKey } from './core/inbound.ts';
import { readChannelsConfig, type ChannelsConfig } from './channel-config.ts';
import { ConfigError } from './core/chitty-error.ts';
import type { EgressPolicy } from './core/egress-policy.ts';
import type { TraceExporterKind } from './telemetry/tracing.ts';
import { parseClusterUrl } from './redis/client.ts';

export interface Config {
  nodeEnv: string;
  host: string;
  port: number;
  /** Where embedded data (PGlite, the generated API token) lives. `memory://` keeps it in memory. */
  dataDir: string;
  /** Real Postgres when set; embedded PGlite otherwise. */
  databaseUrl: string | undefined;
  /** Postgres schema to use (lets several gateways, or test runs, share one database). */
  databaseSchema: string | undefined;
  /** Bearer token for the API; generated into DATA_DIR when unset outside production. */
  apiToken: string | undefined;
  /** This hub's node id in vector clocks and HLC timestamps. */
  nodeId: string;
  logLevel: string;
  /**
   * REDIS_URL as given; undefined = use 127.0.0.1:6379 or start a private redis-server.
   * `redis+cluster://host:port,host:port` is a Redis Cluster (src/redis/client.ts).
   */
  redisUrl: string | undefined;
  /** BullMQ/Redis key prefix: a Redis Cluster hash tag; each queue's own tag derives from it (queues/names.ts queueTag). */
  queuePrefix: string;
  /** Changes to one destination within this window go out as one digest (undefined: per-channel default). */
  digestWindowMs: number | undefined;
  /** The window for webhook destinations (undefined: digestWindowMs, else the default). */
  webhookWindowMs: number | undefined;
  /** `channel=max/ms,…` overrides of the per-destination pace. */
  rateLimits: string | undefined;
  deliveryAttempts: number;
  retryBaseMs: number;
  /** How often the sweeper looks for work lost in a crash or a Redis restart (ms). */
  sweepMs: number;
  /** Job lock (stalled-job detection) in ms. */
  jobLockMs: number;
  /** Sent deliveries and delivered outbox rows are deleted after this many hours. */
  retentionHours: number;
  /** HMAC secret for webhook destinations; generated into DATA_DIR when unset outside production. */
  webhookSecret: string | undefined;
  /** Which addresses webhooks may reach (CHITTY_WEBHOOK_ALLOW_PRIVATE, CHITTY_WEBHOOK_ALLOW_HOSTS). */
  webhookEgress: EgressPolicy;
  /** Time for a whole HTTP request (headers and body) to arrive, in ms (CHITTY_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** Chat channels (Slack, Discord…): each on when its variables are set. */
  channels: ChannelsConfig;
  /** Channel identities (`sms:+1555…`, `slack:T1:U1`…) that are members without pairing. */
  allowlist: string[];
  /** METRICS_TOKEN: a bearer token for GET /metrics only (the API token works there too). */
  metricsToken: string | undefined;
  /** METRICS_PORT: also serve GET /metrics on this port (how a worker process is scraped). */
  metricsPort: number | undefined;
  /** Traces: off (undefined) unless OTEL_TRACES_EXPORTER or an OTLP endpoint is set (see {@link tracingConfig}). */
  tracing: { exporter: TraceExporterKind; serviceName: string } | undefined;
}

/** A setting is missing or wrong (defined beside the error root so bots/ and queues/ can throw it too). */
export { ConfigError };

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}.`);
  return n;
}

/** Shortest secret production accepts (CHITTY_API_TOKEN, CHITTY_WEBHOOK_SECRET). */
export const MIN_SECRET_LENGTH = 32;

/** In production a secret must be set, and long: refuse with a sentence otherwise. */
function productionSecret(env: NodeJS.ProcessEnv, name: string, what: string): void {
  const v = env[name];
  if (v === undefined || v.trim() === '') {
    throw new ConfigError(
      `${name} is ${v === undefined ? 'not set' : 'empty'}. In production set it to ${what}: a random secret of at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -hex 32\`).`,
    );
  }
  if (v.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`${name} is ${v.length} characters long; production needs at least ${MIN_SECRET_LENGTH} (e.g. \`openssl rand -hex 32\`).`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  const nodeId = env.CHITTY_NODE_ID || 'hub';
  if (!NODE_ID_REGEX.test(nodeId)) throw new ConfigError(`CHITTY_NODE_ID must be letters, digits, '.', '-' or '_' (at most 64), got ${JSON.stringify(nodeId)}.`);
  const schema = env.DATABASE_SCHEMA || undefined;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(`DATABASE_SCHEMA must be a lower-case Postgres identifier, got ${JSON.stringify(schema)}.`);
  }
  const apiToken = env.CHITTY_API_TOKEN || undefined;
  if (nodeEnv === 'production') productionSecret(env, 'CHITTY_API_TOKEN', 'the API token');
  const allowlist: string[] = [];
  for (const raw of (env.CHITTY_ALLOWLIST ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const id = parseIdentityKey(raw);
    if (!id.ok) throw new ConfigError(`CHITTY_ALLOWLIST: ${id.error}`);
    allowlist.push(id.key);
  }
  const queuePrefix = env.CHITTY_QUEUE_PREFIX || '{chitty}';
  if (!/^\{[A-Za-z0-9_.-]{1,40}\}$/.test(queuePrefix)) throw new ConfigError(`CHITTY_QUEUE_PREFIX must be a Redis Cluster hash tag like {chitty}, got ${JSON.stringify(queuePrefix)}.`);
  if (nodeEnv === 'production') productionSecret(env, 'CHITTY_WEBHOOK_SECRET', 'the secret webhook receivers verify X-Chitty-Signature with');
  if (env.REDIS_URL) parseClusterUrl(env.REDIS_URL); // a malformed cluster URL fails here, with the expected form
  const dataDir = env.DATA_DIR || './data';
  return {
    nodeEnv,
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 3000),
    dataDir: dataDir === 'memory://' ? dataDir : path.resolve(dataDir),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: schema,
    apiToken,
    nodeId,
    logLevel: env.LOG_LEVEL || (nodeEnv === 'test' ? 'silent' : 'info'),
    redisUrl: env.REDIS_URL || undefined,
    queuePrefix,
    digestWindowMs: env.CHITTY_DIGEST_WINDOW_MS ? int(env, 'CHITTY_DIGEST_WINDOW_MS', 1000) : undefined,
    webhookWindowMs: env.CHITTY_WEBHOOK_WINDOW_MS ? int(env, 'CHITTY_WEBHOOK_WINDOW_MS', 0) : undefined,
    rateLimits: env.CHITTY_RATE_LIMITS || undefined,
    deliveryAttempts: Math.max(1, int(env, 'CHITTY_DELIVERY_ATTEMPTS', 8)),
    retryBaseMs: Math.max(1, int(env, 'CHITTY_RETRY_BASE_MS', 1000)),
    webhookSecret: env.CHITTY_WEBHOOK_SECRET || undefined,
    webhookEgress: webhookEgress(env, nodeEnv),
    jobLockMs: Math.max(1000, int(env, 'CHITTY_JOB_LOCK_MS', 30_000)),
    sweepMs: Math.max(100, int(env, 'CHITTY_SWEEP_MS', 10_000)),
    retentionHours: Math.max(1, int(env, 'CHITTY_RETENTION_HOURS', 168)),
    requestTimeoutMs: Math.max(100, int(env, 'CHITTY_REQUEST_TIMEOUT_MS', 30_000)),
    channels: readChannelsConfig(env),
    allowlist,
    metricsToken: metricsToken(env, nodeEnv),
    metricsPort: env.METRICS_PORT ? int(env, 'METRICS_PORT', 0) : undefined,
    tracing: tracingConfig(env),
  };
}

function metricsToken(env: NodeJS.ProcessEnv, nodeEnv: string): string | undefined {
  if (!env.METRICS_TOKEN) return undefined;
  if (nodeEnv === 'production') productionSecret(env, 'METRICS_TOKEN', 'the token Prometheus scrapes /metrics with');
  return env.METRICS_TOKEN;
}

/**
 * OpenTelemetry's own switches: OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none is off;
 * OTEL_TRACES_EXPORTER=otlp or console is on; unset, an OTLP endpoint
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) turns OTLP on.
 */
export function tracingConfig(env: NodeJS.ProcessEnv): Config['tracing'] {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  const serviceName = env.OTEL_SERVICE_NAME || 'chittychat-gateway';
  if (exporter === 'none') return undefined;
  if (exporter === '') return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT ? { exporter: 'otlp', serviceName } : undefined;
  if (exporter === 'otlp' || exporter === 'console') return { exporter, serviceName };
  throw new ConfigError(`OTEL_TRACES_EXPORTER must be otlp, console or none, got ${JSON.stringify(env.OTEL_TRACES_EXPORTER)}.`);
}

/** Private, loopback and link-local webhook targets: allowed by default outside production only. */
function webhookEgress(env: NodeJS.ProcessEnv, nodeEnv: string): EgressPolicy {
  const raw = env.CHITTY_WEBHOOK_ALLOW_PRIVATE;
  if (raw !== undefined && raw !== '' && raw !== 'true' && raw !== 'false') {
    throw new ConfigError(`CHITTY_WEBHOOK_ALLOW_PRIVATE must be true or false, got ${JSON.stringify(raw)}.`);
  }
  const allowPrivate = raw === undefined || raw === '' ? nodeEnv !== 'production' : raw === 'true';
  const allowHosts = (env.CHITTY_WEBHOOK_ALLOW_HOSTS ?? '')
    .split(',')
    .map((h) =>
      h
        .trim()
        .replace(/^\[|\]$/g, '')
        .toLowerCase(),
    )
    .filter((h) => h !== '');
  return { allowPrivate, allowHosts };
}
