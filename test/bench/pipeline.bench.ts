/**
 * `npm run bench`: the delivery pipeline end to end, printed as JSON.
 * - hubWrites: changes/s through `Hub` alone against plain INSERTs of the same rows (hub-writes.ts);
 * - throughput: changes committed to the outbox → relay → fan-out → ledger → delivery jobs →
 *   signed webhook POSTs to a loopback receiver, for 1, 5 and 50 destinations per change;
 * - latency: p50/p99 from each change's commit to its arrival, at 100 and 500 changes/s × 5
 *   destinations, with the per-stage breakdown, each second's p99 (p99BySecondMs) and each
 *   stage's (stageP99BySecondMs), after a warm-up run;
 * - yardstick: raw BullMQ add + process of empty jobs on the same Redis, and our ratio to it;
 * - rssMb: each process's resident memory over the run.
 * Each configuration runs `--repeat` times (default 2) and reports every run and the spread.
 * Options: --changes N (the 1-destination run's changes, default 20,000; the 5- and 50-destination
 * runs take N/5 and N/50, so each makes N deliveries), --repeat N, --hub-changes N (default 2,000),
 * --latency-seconds N (default 10), --warmup-seconds N (a run at 500 changes/s × 5 before the
 * latency runs, reported as latency.warmup and not held to a target; default 5, 0 = none),
 * --window-ms N (the webhook coalescing window, default the gateway's: 0), --only throughput|latency (run one part; the
 * other's figures and targets are left out).
 * Uses Postgres (BENCH_DATABASE_URL, default the test database, in a private schema) and Redis
 * (REDIS_URL, default 127.0.0.1:6379) under a private key prefix; both are cleaned up.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/app.ts';
import { rowsOf } from '../../src/db.ts';
import { DEFAULT_WINDOW_MS } from '../../queues/names.ts';
import { createLogger } from '../../src/log.ts';
import * as schema from '../../drizzle/schema.ts';
import type { ChildProcess } from 'node:child_process';
import { dropRedisPrefix } from '../support/gateway.ts';
import { hubWrites } from './hub-writes.ts';
import { cpuMeter, RssSampler } from './rss.ts';
import {
  BENCH_DATABASE_URL as DATABASE_URL,
  BENCH_SECRET as SECRET,
  benchChange as change,
  commitAndWait,
  commitToOutbox as commit,
  option,
  Receivers,
  subscribeWebhooks,
  round,
  sleep,
  startBenchWorker as startWorker,
} from './pipeline-kit.ts';

// `npm run bench -- --cluster`: the same pipeline on a local 3-master Redis Cluster with 1, 2 and 4
// worker processes (cluster.bench.ts), then exit.
if (process.argv.includes('--cluster')) {
  await (await import('./cluster.bench.ts')).runClusterBench();
  process.exit(0);
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const arg = (name: string, fallback: number) => {
  const v = option(name);
  return v === undefined ? fallback : Number(v);
};
const CHANGES = arg('changes', 20_000);
const REPEAT = Math.max(1, arg('repeat', 2));
const HUB_CHANGES = arg('hub-changes', 2000);
const LATENCY_SECONDS = arg('latency-seconds', 10);
const WARMUP_SECONDS = arg('warmup-seconds', 5);
/** CHITTY_WEBHOOK_WINDOW_MS for the run: how long a delivery job waits for companions after the first change. */
const WINDOW_MS = arg('window-ms', DEFAULT_WINDOW_MS.webhook);
const ONLY = option('only');
if (ONLY !== undefined && ONLY !== 'throughput' && ONLY !== 'latency') throw new Error(`--only takes throughput or latency, not ${ONLY}`);
const RUN_THROUGHPUT = ONLY !== 'latency';
const RUN_LATENCY = ONLY !== 'throughput';

/** A progress line on stderr (stdout carries only the JSON), with the time, to line up with other logs. */
const phase = (what: string) => process.stderr.write(`[bench ${new Date().toISOString()}] ${what}\n`);

/** The processes whose CPU each run reports (the committer is this process). */
const processes: Record<string, number | undefined> = { committer: process.pid };

async function throughput(gw: Gateway, receivers: Receivers, urls: string[], destinations: number, changes: number) {
  const projectId = `CHITTY-PROJ-BENCH${destinations}-${randomUUID().slice(0, 6)}`;
  await subscribeWebhooks(gw, projectId, urls, destinations);
  await receivers.reset();
  const want = changes * destinations;
  const cpu = cpuMeter(processes);
  const run = await commitAndWait(
    gw,
    receivers,
    Array.from({ length: changes }, (_, i) => change(projectId, i)),
    want,
    900_000,
  );
  const cpuMsPer1000Deliveries = cpu(run.deliveries);
  // A run much slower than its neighbours: were sends retried (timeouts, 5xx) or did work wait for the sweeper?
  const d = schema.deliveries;
  const s = schema.subscriptions;
  const [failures] = rowsOf<{ retried: number; lastError: string | null }>(
    await gw.database.db.execute(sql`
      select count(*) filter (where ${d.attempts} > 1 or ${d.sends} > ${d.attempts})::int as retried, max(${d.lastError}) as "lastError"
      from ${d} join ${s} on ${s.id} = ${d.subscriptionId} where ${s.scope} = ${projectId}`),
  );
  return { destinationsPerChange: destinations, changes, ...run, cpuMsPer1000Deliveries, rowsSentMoreThanOnce: failures?.retried ?? 0, lastError: failures?.lastError ?? null };
}

async function latency(gw: Gateway, receivers: Receivers, urls: string[], ratePerSecond: number, destinations: number, seconds: number) {
  const projectId = `CHITTY-PROJ-LAT-${randomUUID().slice(0, 6)}`;
  await subscribeWebhooks(gw, projectId, urls, destinations);
  await receivers.reset();
  const committedAt = new Map<string, number>();
  const commitMs: number[] = [];
  const cpu = cpuMeter(processes);
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((ratePerSecond * tickMs) / 1000));
  const start = performance.now();
  let n = 0;
  let behindTicks = 0;
  for (let tick = 0; tick < (seconds * 1000) / tickMs; tick++) {
    const wait = start + tick * tickMs - performance.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -tickMs) behindTicks++;
    const batch = Array.from({ length: perTick }, () => change(projectId, n++));
    const c0 = performance.now();
    await commit(gw, batch);
    commitMs.push(performance.now() - c0);
    const at = Date.now();
    for (const m of batch) committedAt.set(m.id, at);
  }
  const want = n * destinations;
  const t0 = performance.now();
  while ((await receivers.stats()).deliveries < want && performance.now() - t0 < 60_000) await sleep(20);
  // CPU up to the last arrival (before this run's own queries below).
  const cpuMsPer1000Deliveries = cpu(want);
  const timed = (await receivers.arrivals()).map((a) => ({ committed: committedAt.get(a.id) ?? a.at, ms: a.at - (committedAt.get(a.id) ?? a.at) }));
  const samples = timed.map((x) => x.ms).sort((a, b) => a - b);
  const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  const pct = (p: number) => percentile(samples, p);
  // Each second's changes (by commit time) apart: a start-up transient or a drift over the run shows here.
  const firstCommit = timed.reduce((m, x) => Math.min(m, x.committed), Number.POSITIVE_INFINITY);
  const secondOf = (x: { committed: number }) => Math.floor((x.committed - firstCommit) / 1000);
  const bySecond: number[][] = Array.from({ length: timed.reduce((m, x) => Math.max(m, secondOf(x) + 1), 0) }, () => []);
  for (const x of timed) bySecond[secondOf(x)]!.push(x.ms);
  const sortedBySecond = bySecond.map((xs) => xs.sort((a, b) => a - b));
  const afterFirstSecond = sortedBySecond
    .slice(1)
    .flat()
    .sort((a, b) => a - b);
  // Where the time goes, from the database's own timestamps: commit → dispatched (relay) →
  // fanned out (fan-out stage) → sent (delivery stage, including the coalescing window).
  const runRows = sql`
    select o.created_at, o.dispatched_at, o.fanned_out_at, d.sent_at, d.batch_id
    from ${schema.deliveries} d join ${schema.outbox} o on o.id = d.message_id
    where o.message -> 'payload' -> 'entity' -> 'data' ->> 'projectId' = ${projectId}`;
  /** The stage's `p`-th percentile in ms (one decimal). */
  const stageMs = (p: number, from: string, to: string) =>
    sql`round((percentile_cont(${sql.raw(String(p))}) within group (order by extract(epoch from ${sql.raw(to)} - ${sql.raw(from)})))::numeric * 1000, 1)`;
  const relay = (p: number) => stageMs(p, 'created_at', 'dispatched_at');
  const fanout = (p: number) => stageMs(p, 'dispatched_at', 'fanned_out_at');
  const deliver = (p: number) => stageMs(p, 'fanned_out_at', 'sent_at');
  const stages = await gw.database.db.execute(sql`
    select ${relay(0.5)} as "relayP50Ms", ${relay(0.99)} as "relayP99Ms", ${fanout(0.5)} as "fanoutP50Ms", ${fanout(0.99)} as "fanoutP99Ms",
      ${deliver(0.5)} as "deliverP50Ms", ${deliver(0.99)} as "deliverP99Ms", count(distinct batch_id)::int as "httpRequests"
    from (${runRows}) as t`);
  const stageRow = rowsOf<Record<string, unknown>>(stages)[0] ?? {};
  // The same stages' p99 for each second's changes (by commit time): which stage a slow second was slow in.
  const perSecond = rowsOf<{ relay: unknown; fanout: unknown; deliver: unknown }>(
    await gw.database.db.execute(sql`
      with t as (select r.*, floor(extract(epoch from r.created_at - min(r.created_at) over ()))::int as second from (${runRows}) as r)
      select ${relay(0.99)} as relay, ${fanout(0.99)} as fanout, ${deliver(0.99)} as deliver
      from t group by second order by second`),
  );
  return {
    changesPerSecond: Math.round(n / seconds),
    destinationsPerChange: destinations,
    // Ticks that started more than one tick late (the committer could not keep the pace).
    lateTicks: behindTicks,
    seconds,
    changes: n,
    deliveries: samples.length,
    complete: samples.length >= want,
    p50Ms: round(pct(50)),
    p90Ms: round(pct(90)),
    p99Ms: round(pct(99)),
    maxMs: round(samples[samples.length - 1] ?? NaN),
    p99BySecondMs: sortedBySecond.map((xs) => round(percentile(xs, 99))),
    /** The same run without its first second's changes (reported; the targets use the whole run). */
    p99AfterFirstSecondMs: round(percentile(afterFirstSecond, 99)),
    cpuMsPer1000Deliveries,
    // How long each tick's commit took (the committer's own transaction, before the clock starts).
    commitMs: (() => {
      const s = [...commitMs].sort((a, b) => a - b);
      return { p50: round(s[Math.floor(s.length / 2)] ?? NaN), p99: round(s[Math.floor(s.length * 0.99)] ?? NaN), max: round(s[s.length - 1] ?? NaN) };
    })(),
    stages: Object.fromEntries(Object.entries(stageRow).map(([k, v]) => [k, Number(v)])),
    stageP99BySecondMs: { relay: perSecond.map((x) => round(Number(x.relay))), fanout: perSecond.map((x) => round(Number(x.fanout))), deliver: perSecond.map((x) => round(Number(x.deliver))) },
  };
}

async function rawBullmq(jobs: number) {
  const prefix = `{bench-raw-${randomUUID().slice(0, 8)}}`;
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection: conn, prefix });
  let done = 0;
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker('raw', async () => undefined, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix, concurrency: 100 });
    worker.on('completed', () => {
      if (++done === jobs) {
        void worker.close().then(() => resolve());
      }
    });
  });
  const t0 = performance.now();
  for (let i = 0; i < jobs; i += 100) await queue.addBulk(Array.from({ length: Math.min(100, jobs - i) }, (_, _k) => ({ name: 'empty', data: {}, opts: { removeOnComplete: true } })));
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  conn.disconnect();
  return { jobs, seconds: round(seconds), jobsPerSecond: Math.round(jobs / seconds), note: 'addBulk of 100 + Worker concurrency 100, empty processor' };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : Math.round((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
};
/** Lowest and highest, and how far apart they are relative to the median (%). */
const spread = (xs: number[]) => ({ min: Math.min(...xs), max: Math.max(...xs), percent: Math.round(((Math.max(...xs) - Math.min(...xs)) / Math.max(1, median(xs))) * 100) });

async function main() {
  const schemaName = `bench_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const prefix = `{bench-${randomUUID().slice(0, 8)}}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: 'memory://',
    PORT: '0',
    CHITTY_API_TOKEN: 'bench-token',
    CHITTY_WEBHOOK_SECRET: SECRET,
    DATABASE_URL,
    DATABASE_SCHEMA: schemaName,
    REDIS_URL,
    CHITTY_QUEUE_PREFIX: prefix,
    CHITTY_WEBHOOK_WINDOW_MS: String(WINDOW_MS),
    CHITTY_RATE_LIMITS: 'webhook=100000/1000',
  });
  // This process plays the web side (commits, subscriptions); the pipeline runs in a `worker`
  // process, as the Procfile runs it.
  const gw = await startGateway(config, { logger: createLogger('error'), mode: 'web', listen: false });
  const result: Record<string, unknown> = {
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      loadAverageAtStart: os.loadavg().map(round),
      node: process.version,
      database: 'postgres',
      redis: REDIS_URL,
    },
    settings: {
      layout: 'web side (committer) and worker in separate processes, as the Procfile runs them; the worker as npm run worker runs it (production build, its node flags)',
      changes: CHANGES,
      repeat: REPEAT,
      webhookWindowMs: WINDOW_MS === DEFAULT_WINDOW_MS.webhook ? `${WINDOW_MS} (the default)` : WINDOW_MS,
      webhookPacePerDestination: '100000/s (benchmark; default 50/s)',
      receiver: '5 loopback node:http servers in a third process',
      latencyWarmup: WARMUP_SECONDS > 0 ? `${WARMUP_SECONDS} s at 500 changes/s x 5 before the latency runs (latency.warmup; not held to a target)` : 'none',
    },
  };
  let worker: ChildProcess | undefined;
  let receivers: Receivers | undefined;
  try {
    // Before the worker starts: the hub's writes alone, nothing else on the machine's cores.
    if (RUN_THROUGHPUT) result.hubWrites = await hubWrites(gw.database, DATABASE_URL, schemaName, HUB_CHANGES, 8);
    worker = await startWorker({
      DATABASE_URL,
      DATABASE_SCHEMA: schemaName,
      REDIS_URL,
      CHITTY_QUEUE_PREFIX: prefix,
      CHITTY_WEBHOOK_SECRET: SECRET,
      CHITTY_WEBHOOK_WINDOW_MS: String(WINDOW_MS),
      CHITTY_RATE_LIMITS: 'webhook=100000/1000',
    });
    receivers = new Receivers();
    const urls = await receivers.start(5);
    const rss = new RssSampler({ bench: process.pid, worker: worker.pid, receivers: receivers.child.pid });
    processes.worker = worker.pid;
    processes.receivers = receivers.child.pid;
    const runs: Awaited<ReturnType<typeof throughput>>[] = [];
    for (let r = 0; r < REPEAT && RUN_THROUGHPUT; r++) {
      for (const d of [1, 5, 50]) {
        phase(`throughput, ${d} destination(s) per change, run ${r + 1}`);
        runs.push(await throughput(gw, receivers, urls, d, Math.max(1, Math.round(CHANGES / d))));
      }
    }
    const raws: Awaited<ReturnType<typeof rawBullmq>>[] = [];
    for (let r = 0; r < REPEAT && RUN_THROUGHPUT; r++) {
      phase(`raw BullMQ, run ${r + 1}`);
      raws.push(await rawBullmq(20_000));
    }
    const latencies: Record<string, Awaited<ReturnType<typeof latency>>[]> = { at100PerSecond: [], at500PerSecond: [] };
    // Not measured against the targets: the per-request paths (small batches, one change per
    // commit) that the throughput runs hardly take, run until the processes' JIT has them. Without
    // it the first run at 100/s used 15–20 % more CPU per delivery than the second in the worker,
    // the committer and Postgres, and twice as much in the receivers (two runs on 5c68992+).
    if (RUN_LATENCY && WARMUP_SECONDS > 0) phase('latency warm-up, 500 changes/s');
    const warmup = RUN_LATENCY && WARMUP_SECONDS > 0 ? await latency(gw, receivers, urls, 500, 5, WARMUP_SECONDS) : undefined;
    for (let r = 0; r < REPEAT && RUN_LATENCY; r++) {
      phase(`latency, 100 changes/s, run ${r + 1}`);
      latencies.at100PerSecond!.push(await latency(gw, receivers, urls, 100, 5, LATENCY_SECONDS));
      phase(`latency, 500 changes/s, run ${r + 1}`);
      latencies.at500PerSecond!.push(await latency(gw, receivers, urls, 500, 5, LATENCY_SECONDS));
    }
    phase('done');
    result.rssMb = rss.stop();
    const targets: Record<string, boolean> = {};
    if (RUN_THROUGHPUT) {
      const rawPerSecond = median(raws.map((x) => x.jobsPerSecond));
      result.rawBullmq = { runs: raws, medianJobsPerSecond: rawPerSecond, spread: spread(raws.map((x) => x.jobsPerSecond)) };
      const throughputs = [1, 5, 50].map((d) => {
        const mine = runs.filter((t) => t.destinationsPerChange === d);
        const perSecond = median(mine.map((t) => t.deliveriesPerSecond));
        return { destinationsPerChange: d, medianDeliveriesPerSecond: perSecond, spread: spread(mine.map((t) => t.deliveriesPerSecond)), runs: mine };
      });
      result.throughput = throughputs;
      // Ratios first: each configuration's median against raw BullMQ's median, in the same run.
      const ratios = throughputs.map((t) => ({
        destinationsPerChange: t.destinationsPerChange,
        ratio: Number((t.medianDeliveriesPerSecond / rawPerSecond).toFixed(2)),
        target: t.destinationsPerChange === 1 ? 0.8 : 1,
      }));
      result.ratioToRawBullmq = ratios;
      targets.ratioAtLeast08At1Destination = ratios[0]!.ratio >= 0.8;
      targets.ratioAtLeast1At5And50Destinations = ratios.slice(1).every((r) => r.ratio >= 1);
    }
    if (RUN_LATENCY) {
      const summary = Object.fromEntries(
        Object.entries(latencies).map(([k, xs]) => [
          k,
          {
            p99Ms: xs.map((x) => x.p99Ms),
            p50Ms: xs.map((x) => x.p50Ms),
            worstP99Ms: Math.max(...xs.map((x) => x.p99Ms)),
            p99AfterFirstSecondMs: xs.map((x) => x.p99AfterFirstSecondMs),
            runs: xs,
          },
        ]),
      );
      result.latency = {
        ...summary,
        warmup: warmup && {
          changesPerSecond: warmup.changesPerSecond,
          seconds: warmup.seconds,
          p50Ms: warmup.p50Ms,
          p99Ms: warmup.p99Ms,
          p99BySecondMs: warmup.p99BySecondMs,
          cpuMsPer1000Deliveries: warmup.cpuMsPer1000Deliveries,
        },
      };
      targets.p99Below100msAt500PerSecondX5 = summary.at500PerSecond!.worstP99Ms < 100;
      targets.p99Below50msAt100PerSecondX5 = summary.at100PerSecond!.worstP99Ms < 50;
    }
    result.targets = targets;
  } finally {
    receivers?.stop();
    if (worker) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker!.once('exit', r));
    }
    await gw.close();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`drop schema if exists "${schemaName}" cascade`);
    await client.end();
    await dropRedisPrefix(prefix, REDIS_URL);
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
