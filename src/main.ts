/**
 * Process entry point. `npm start` = everything in one process (development); the Procfile runs
 * `web` (HTTP, webhooks, WebSocket) and `worker` (queue workers) apart, each scalable.
 * The rest of the gateway is imported once the config is read: a new embedded database is being
 * copied from the build's template (and PGlite's wasm compiled) while those modules load.
 */
import { ConfigError, loadConfig, type Config } from './config.ts';
import { redactSecrets } from './redact.ts';
import { startTracing } from './telemetry/tracing.ts';
import { startMetricsServer } from './telemetry/metrics-server.ts';

type Mode = 'all' | 'web' | 'worker';

async function main(): Promise<void> {
  const mode = (process.argv[2] ?? 'all') as Mode;
  if (!['all', 'web', 'worker'].includes(mode)) {
    process.stderr.write(`Unknown mode ${JSON.stringify(mode)}: use "web", "worker" or nothing for both.\n`);
    process.exit(2);
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (mode !== 'all' && !config.databaseUrl && config.dataDir !== 'memory://') {
    // Embedded PGlite belongs to one process; web and worker processes meet in Postgres.
    process.stderr.write(
      `The ${mode} process needs DATABASE_URL: separate web and worker processes share state through Postgres, and the embedded database serves one process only. Set DATABASE_URL, or run everything in one process with npm start.\n`,
    );
    process.exit(2);
  }
  if (mode !== 'all' && !config.redisUrl) {
    // A private redis-server belongs to one process; a second one would start (and stop) its own.
    process.stderr.write(
      `The ${mode} process needs REDIS_URL: separate web and worker processes share their queues through one Redis, and the private redis-server started when REDIS_URL is unset serves one process only. Set REDIS_URL, or run everything in one process with npm start.\n`,
    );
    process.exit(2);
  }
  // A new embedded database: start copying it now (awaited again, with its errors, by openDatabase).
  if (!config.databaseUrl) void import('./db-pglite.ts').then((m) => m.preparePglite(config.dataDir)).catch(() => undefined);
  const [{ createLogger }, { startGateway }, { channelStatuses }] = await Promise.all([import('./log.ts'), import('./app.ts'), import('../bots/index.ts')]);
  const logger = createLogger(config.logLevel);
  const tracing = config.tracing ? await startTracing(config.tracing) : undefined; // before anything makes a span
  const gateway = await startGateway(config, { logger, mode });
  const { token } = gateway;
  const metrics = config.metricsPort === undefined ? undefined : await startMetricsServer({ host: config.host, port: config.metricsPort, apiToken: token.token, metricsToken: config.metricsToken });
  if (metrics) logger.info({ url: `${metrics.url}/metrics` }, 'metrics served on METRICS_PORT');
  if (mode !== 'worker') {
    logger.info(
      { url: gateway.url, database: gateway.database.kind, dataDir: config.dataDir, nodeId: config.nodeId, mode, channels: gateway.channels.map((c) => c.channel) },
      'ChittyChat gateway ready',
    );
    const lines = [
      '',
      `  ChittyChat gateway is running at ${gateway.url}`,
      `    health:   ${gateway.url}/health`,
      `    API:      ${gateway.url}/api/v1   (OpenAPI: ${gateway.url}/api/v1/openapi.json)`,
      `    live:     ${gateway.url.replace(/^http/, 'ws')}/ws`,
      `    queues:   ${gateway.url}/admin/queues?token=…   (Redis ${redactSecrets(gateway.redis.url)}${gateway.redis.started ? ', private redis-server started for you' : ''})`,
    ];
    const statuses = Object.values(channelStatuses(gateway.channels));
    const on = statuses.filter((c) => c.on).map((c) => c.channel);
    const off = statuses.filter((c) => !c.on).map((c) => c.channel);
    lines.push(`    channels: on: ${on.join(', ') || 'none'}${off.length ? `   off: ${off.join(', ')} (set their variables, see README)` : ''}`);
    if (token.source === 'generated' || token.source === 'file' || token.source === 'memory') {
      lines.push(`    token:    ${token.token}${token.file ? `   (${token.source === 'generated' ? 'generated and saved in' : 'from'} ${token.file})` : ''}`);
      lines.push(`    try:      curl -H "Authorization: Bearer ${token.token}" ${gateway.url}/api/v1/todos`);
    } else {
      lines.push('    token:    from CHITTY_API_TOKEN');
    }
    if (gateway.webhookSecret.source !== 'env') lines.push(`    webhooks: signed with the secret in ${gateway.webhookSecret.file ?? '(memory)'} (set CHITTY_WEBHOOK_SECRET to choose it)`);
    process.stdout.write(`${lines.join('\n')}\n\n`);
  } else {
    logger.info({ redis: redactSecrets(gateway.redis.url), database: gateway.database.kind }, 'ChittyChat worker ready: outbox relay, fan-out and delivery workers running');
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new work, finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    await metrics?.close();
    await gateway.close();
    await tracing?.shutdown().catch((err: unknown) => logger.warn({ err }, 'could not flush the last traces'));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`ChittyChat gateway failed to start: ${redactSecrets((err as Error).message)}\n`);
  process.exit(1);
});
