/**
 * What `npm run bench` (pipeline.bench.ts) and `npm run bench -- --cluster` (cluster.bench.ts)
 * share: the benchmark's change, committing changes to the outbox as the hub does, the loopback
 * receivers in their own process (also `npm run chaos`'s worker kill), and the gateway's `worker` process.
 */
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { Gateway } from '../../src/app.ts';
import { writeOutbox } from '../../src/hub/outbox-write.ts';
import { messageId } from '../../src/hub/ids.ts';
import type { SyncMessage } from '../../src/sync/sync-message.ts';
import type { RecordedRequest } from './receiver-process.ts';

export const BENCH_SECRET = 'bench-secret';
export const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round = (x: number) => Math.round(x * 10) / 10;

/** The value after `--name` on the command line. */
export function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** The i-th change of a run: an update of todo `<tag><i>` in `projectId`. */
export function benchChange(projectId: string, i: number, tag = 'BENCH'): SyncMessage {
  const id = `CHITTY-TODO-${tag}${i}`;
  return {
    id: messageId(),
    type: 'state_update',
    source: { nodeId: 'hub', platform: 'bench' },
    target: { broadcast: true },
    payload: {
      domain: 'todos',
      operation: 'update',
      entity: { chittyId: id, type: 'todo', data: { chittyId: id, content: `Bench change ${i}`, status: 'in_progress', projectId, priority: 'medium' } },
      delta: {},
    },
    metadata: { timestamp: new Date().toISOString(), vectorClock: { hub: i + 1 }, causality: [], ttl: 86_400 },
  };
}

/** Loopback receivers in a child process (see receiver-process.ts), driven over IPC; one question at a time. */
export class Receivers {
  readonly child: ChildProcess;
  constructor() {
    this.child = fork(fileURLToPath(new URL('./receiver-process.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
  private ask<T>(msg: object): Promise<T> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as T));
      this.child.send(msg);
    });
  }
  /** Starts `n` receivers; `record` also keeps a log of every request for `requests()` (off for the benches). */
  async start(n: number, opts: { record?: boolean } = {}): Promise<string[]> {
    return (await this.ask<{ urls: string[] }>({ cmd: 'start', n, ...(opts.record ? { record: true } : {}) })).urls;
  }
  stats() {
    return this.ask<{ requests: number; deliveries: number }>({ cmd: 'stats' });
  }
  async arrivals() {
    return (await this.ask<{ arrivals: { id: string; at: number }[] }>({ cmd: 'arrivals' })).arrivals;
  }
  /** The requests logged (start `record`) from position `since` on, in arrival order; `receiver` is the index of its URL in what `start` returned, counting across starts. */
  async requests(since = 0): Promise<RecordedRequest[]> {
    return (await this.ask<{ requests: RecordedRequest[] }>({ cmd: 'requests', since })).requests;
  }
  reset() {
    return this.ask({ cmd: 'reset' });
  }
  stop() {
    this.child.send({ cmd: 'stop' });
  }
}

/** Commit changes to the outbox as the hub writes a batch of messages (src/hub/outbox-write.ts): one transaction per 1,000, announced by NOTIFY. */
export async function commitToOutbox(gw: Gateway, messages: SyncMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 1000) {
    const batch = messages.slice(i, i + 1000);
    await gw.database.db.transaction(async (tx) => {
      await writeOutbox(tx, 'todos', batch);
      await tx.execute(sql`select pg_notify(${gw.database.outboxChannel!}, '')`);
    });
  }
}

/** `destinations` webhook subscriptions to project `projectId`, spread over the receivers' URLs. */
export async function subscribeWebhooks(gw: Gateway, projectId: string, urls: string[], destinations: number): Promise<void> {
  for (let k = 0; k < destinations; k++) {
    await gw.core.subscriptions.upsert({ channel: 'webhook', address: `${urls[k % urls.length]}?d=${k}`, projectId, domains: ['todos'] });
  }
}

/**
 * One throughput run's clock: commit `messages` to the outbox, then wait until the receivers hold
 * `want` deliveries (or `timeoutMs` passes). It runs from the first commit to the last arrival;
 * the workers work while this process is still committing, as in production.
 */
export async function commitAndWait(gw: Gateway, receivers: Receivers, messages: SyncMessage[], want: number, timeoutMs: number) {
  const t0 = performance.now();
  await commitToOutbox(gw, messages);
  const commitSeconds = (performance.now() - t0) / 1000;
  let stats = await receivers.stats();
  while (stats.deliveries < want && performance.now() - t0 < timeoutMs) {
    await sleep(10);
    stats = await receivers.stats();
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    deliveries: stats.deliveries,
    complete: stats.deliveries >= want,
    seconds: round(seconds),
    commitSeconds: round(commitSeconds),
    deliveriesPerSecond: Math.round(stats.deliveries / seconds),
    httpRequests: stats.requests,
    deliveriesPerRequest: round(stats.deliveries / Math.max(1, stats.requests)),
  };
}

/**
 * The gateway's `worker` process as `npm run worker` runs it: the production build (built first
 * when stale) under package.json's node flags. Resolves once it says it is ready.
 * BENCH_WORKER_NODE_ARGS: extra node flags for it (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`);
 * BENCH_WORKER_SOURCE=1 runs the TypeScript sources through tsx instead (profiles name our files);
 * BENCH_WORKER_LOG=<file> appends its log (pino JSON, info and up) to that file.
 */
export async function startBenchWorker(env: Record<string, string>): Promise<ChildProcess> {
  const extra = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const root = fileURLToPath(new URL('../..', import.meta.url));
  let args: string[];
  if (process.env.BENCH_WORKER_SOURCE === '1') args = ['--import', 'tsx', 'src/main.ts', 'worker'];
  else {
    await promisify(execFile)(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root });
    const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    args = scripts.worker!.split(' ').slice(1); // "node <flags> dist/gateway/main.js worker"
  }
  const child = spawn(process.execPath, [...extra, ...args], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', DATA_DIR: 'memory://', CHITTY_API_TOKEN: 'bench-token', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('worker ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  if (process.env.BENCH_WORKER_LOG) child.stdout!.pipe(createWriteStream(process.env.BENCH_WORKER_LOG, { flags: 'a' }));
  else child.stdout!.resume();
  return child;
}
