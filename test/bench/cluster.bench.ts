/**
 * `npm run bench -- --cluster`: the delivery pipeline on a local 3-master Redis Cluster, with 1, 2
 * and 4 `worker` processes, printed as JSON: how deliveries/s grow with workers, and how the Redis
 * work spreads over the masters (commands and CPU per node). The same runs against the single
 * Redis (REDIS_URL, default 127.0.0.1:6379) are the baseline (`--no-baseline` skips them).
 *
 * The cluster is started from the machine's redis-server (test/support/redis-cluster.ts: own
 * ports, own temporary directory, torn down at the end). The committing side (this process), the
 * workers and the loopback receivers (receiver-process.ts) are separate processes, as in
 * `npm run bench`. Options: --changes N (changes per run, default 4,000), --destinations N (per
 * change, default 5), --workers 1,2,4. Postgres: BENCH_DATABASE_URL (default the test database), a private schema.
 * The change, the outbox commit, the receivers and the worker start are pipeline-kit.ts's, shared
 * with pipeline.bench.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { DEFAULT_WINDOW_MS, deliveryTag, FANOUT_QUEUE, queueTag } from '../../queues/names.ts';
import { startGateway } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { dropRedisPrefix } from '../support/gateway.ts';
import { nodeOfKey, redisServerBinary, startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.ts';
import { createRedis, primaries, type RedisClient } from '../../src/redis/client.ts';
import {
  BENCH_DATABASE_URL as DATABASE_URL,
  BENCH_SECRET as SECRET,
  benchChange,
  commitAndWait,
  option,
  Receivers,
  subscribeWebhooks,
  round,
  startBenchWorker as startWorker,
} from './pipeline-kit.ts';

const SINGLE_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DESTINATIONS = Number(option('destinations') ?? 5);

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.exitCode !== null || w.signalCode !== null) return resolve();
          w.once('exit', () => resolve());
          w.kill('SIGTERM');
        }),
    ),
  );
}

/** Commands processed and CPU seconds used by each server that holds keys. */
async function redisLoad(client: RedisClient): Promise<{ node: string; commands: number; cpuSeconds: number }[]> {
  return Promise.all(
    primaries(client).map(async (n) => {
      const info = await n.info();
      const num = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
      return { node: `${n.options.host}:${n.options.port}`, commands: num('total_commands_processed'), cpuSeconds: num('used_cpu_user') + num('used_cpu_sys') };
    }),
  );
}

interface Setup {
  label: string;
  redisUrl: string;
  prefix: string;
}

/** One setup (cluster or single Redis) with 1, 2, 4… worker processes. */
async function runSetup(setup: Setup, workerCounts: number[], changes: number, receivers: Receivers, urls: string[]) {
  const schemaName = `bench_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const base = {
    DATABASE_URL,
    DATABASE_SCHEMA: schemaName,
    REDIS_URL: setup.redisUrl,
    CHITTY_QUEUE_PREFIX: setup.prefix,
    CHITTY_WEBHOOK_SECRET: SECRET,
    CHITTY_RATE_LIMITS: 'webhook=100000/1000',
  };
  const gw = await startGateway(loadConfig({ NODE_ENV: 'test', DATA_DIR: 'memory://', PORT: '0', CHITTY_API_TOKEN: 'bench-token', ...base }), {
    logger: createLogger('error'), // stdout carries only the JSON
    mode: 'web',
    listen: false,
  });
  const probe = createRedis(setup.redisUrl);
  const runs = [];
  try {
    await probe.ping();
    for (const n of workerCounts) {
      const workers = await Promise.all(Array.from({ length: n }, () => startWorker(base)));
      try {
        const projectId = `CHITTY-PROJ-CLUSTER-${n}-${randomUUID().slice(0, 6)}`;
        await subscribeWebhooks(gw, projectId, urls, DESTINATIONS);
        await receivers.reset();
        const before = await redisLoad(probe);
        const want = changes * DESTINATIONS;
        const run = await commitAndWait(
          gw,
          receivers,
          Array.from({ length: changes }, (_, i) => benchChange(projectId, i, 'CLUSTER')),
          want,
          300_000,
        );
        const after = await redisLoad(probe);
        const perNode = after.map((a) => {
          const b = before.find((x) => x.node === a.node);
          return { node: a.node, commands: a.commands - (b?.commands ?? 0), cpuSeconds: round(a.cpuSeconds - (b?.cpuSeconds ?? 0)) };
        });
        const total = perNode.reduce((s, x) => s + x.commands, 0);
        runs.push({
          workers: n,
          changes,
          destinationsPerChange: DESTINATIONS,
          ...run,
          redisPerNode: perNode.map((x) => ({ ...x, share: Number((x.commands / Math.max(1, total)).toFixed(2)) })),
        });
      } finally {
        await stopWorkers(workers);
      }
    }
  } finally {
    probe.disconnect();
    await gw.close();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`drop schema if exists "${schemaName}" cascade`);
    await client.end();
    await dropRedisPrefix(setup.prefix, setup.redisUrl).catch(() => undefined);
  }
  const first = runs[0]?.deliveriesPerSecond ?? 1;
  return {
    setup: setup.label,
    redis: setup.redisUrl,
    prefix: setup.prefix,
    runs,
    scaling: runs.map((r) => ({ workers: r.workers, deliveriesPerSecond: r.deliveriesPerSecond, vsOneWorker: Number((r.deliveriesPerSecond / first).toFixed(2)) })),
  };
}

/**
 * A prefix whose fan-out queue and webhook delivery queue land on different masters (placement is
 * by hash; a deployment moves slots with `redis-cli --cluster reshard` to the same effect).
 */
async function spreadPrefix(cluster: RedisClusterHandle): Promise<{ prefix: string; fanoutNode: number; webhookNode: number }> {
  for (let i = 0; ; i++) {
    const prefix = `{bench-${randomUUID().slice(0, 6)}}`;
    const fanoutNode = await nodeOfKey(cluster, queueTag(prefix, FANOUT_QUEUE));
    const webhookNode = await nodeOfKey(cluster, deliveryTag(prefix, 'webhook'));
    if (fanoutNode !== webhookNode || i > 50) return { prefix, fanoutNode, webhookNode };
  }
}

/** Run the cluster bench and print its JSON. */
export async function runClusterBench(): Promise<void> {
  const binary = await redisServerBinary();
  if (!binary) {
    process.stdout.write(`${JSON.stringify({ skipped: 'redis-server is not installed (apt-get install redis-server); the cluster bench needs it' })}\n`);
    return;
  }
  const changes = Number(option('changes') ?? 4_000);
  const workerCounts = (option('workers') ?? '1,2,4').split(',').map(Number);
  const cluster = await startRedisCluster({ masters: 3, binary });
  const receivers = new Receivers();
  const result: Record<string, unknown> = {
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadAverage1m: round(os.loadavg()[0] ?? 0), node: process.version, database: 'postgres', redisServer: binary },
    settings: {
      layout: 'committer (this process), N worker processes and the receivers in separate processes',
      destinationsPerChange: DESTINATIONS,
      changesPerRun: changes,
      webhookWindowMs: `${DEFAULT_WINDOW_MS.webhook} (the default)`,
      webhookPacePerDestination: '100000/s (benchmark; default 50/s)',
      cluster: `${cluster.nodes.length} masters, no replicas, slots split evenly`,
    },
  };
  try {
    const urls = await receivers.start(5);
    const spread = await spreadPrefix(cluster);
    result.placement = {
      fanoutQueue: { tag: queueTag(spread.prefix, FANOUT_QUEUE), node: cluster.nodes[spread.fanoutNode]?.port },
      webhookDeliveryQueue: { tag: deliveryTag(spread.prefix, 'webhook'), node: cluster.nodes[spread.webhookNode]?.port },
    };
    result.cluster = await runSetup({ label: 'redis cluster (3 masters)', redisUrl: cluster.url, prefix: spread.prefix }, workerCounts, changes, receivers, urls);
    if (!process.argv.includes('--no-baseline')) {
      result.singleRedis = await runSetup({ label: 'single redis', redisUrl: SINGLE_REDIS_URL, prefix: `{bench-${randomUUID().slice(0, 6)}}` }, workerCounts, changes, receivers, urls);
    }
  } finally {
    receivers.stop();
    await cluster.stop();
  }
  result.machine = { ...(result.machine as object), loadAverage1mAtEnd: round(os.loadavg()[0] ?? 0) };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runClusterBench().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`cluster bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
