/**
 * `npm run bench:startup`: the gateway's footprint, as one JSON object.
 *
 * - build: a clean `scripts/build.mjs --force` (bundle and PGlite template) and a no-op
 *   `--if-stale` (what `npm start` pays when nothing changed), in ms;
 * - per database (embedded PGlite on a fresh DATA_DIR, Postgres on a fresh schema), `--runs`
 *   times: ms from spawning exactly `npm start`'s node command to the first `/health` 200, the
 *   child's CPU ms by then, its RSS once settled (3 s without a 2 MB change), its peak, and its RSS
 *   settled again after `--commands` commands (`add …` through POST /api/v1/commands, 4 at a time);
 * - `npmStartToHealthMs`: the same through `npm start` itself (npm, prestart and all), embedded;
 * - components: what each part adds to RSS (test/bench/startup-components.mjs says how);
 * - chitty: medians of `node -e ''`, `chitty --help` and `chitty todo list` against the
 *   embedded gateway (bin/chitty.mjs, its cached bundle built beforehand), and `todoListStubMs`:
 *   the same call against a stub that answers at once (the client's own start, request and table).
 *
 *   npm run bench:startup [-- --runs 3 --commands 200]
 *
 * Redis: REDIS_URL / 127.0.0.1:6379 (a private key prefix, dropped after); Postgres: the test
 * database (a private schema, dropped after). The machine's load average is printed with it:
 * start times on a busy 2-core machine are not start times.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../support/database.ts';
import { dropRedisPrefix, TEST_TOKEN } from '../support/gateway.ts';
import { freePort, freshProcessEnv, postNumberedCommand } from '../support/gateway-process.ts';
import { procStats } from './rss.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 3);
const COMMANDS = arg('commands', 200);
const run = promisify(execFile);

/** `npm start`'s command (package.json), so the bench measures what people run. */
function startCommand(): string[] {
  const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const words = scripts.start!.split(' ');
  if (words[0] !== 'node') throw new Error(`npm start is not a node command: ${scripts.start}`);
  return words.slice(1);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS once it holds still: 3 s (12 samples) within 2 MB, at most 20 s. */
async function settledRss(pid: number): Promise<number> {
  const samples: number[] = [];
  const until = Date.now() + 20_000;
  for (;;) {
    samples.push(procStats(pid)!.rssMb);
    const recent = samples.slice(-12);
    if ((recent.length === 12 && Math.max(...recent) - Math.min(...recent) <= 2) || Date.now() > until) return samples.at(-1)!;
    await sleep(250);
  }
}

async function waitForHealth(url: string, child: ChildProcess, err: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited (${child.exitCode}):\n${err()}`);
    if (
      await fetch(`${url}/health`).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error(`no /health 200 within 120 s:\n${err()}`);
    await sleep(20);
  }
}

interface Started {
  url: string;
  child: ChildProcess;
  ms: number;
  close(): Promise<void>;
}

/** Spawn a gateway (`argv` after node, or through npm) on a fresh DATA_DIR, prefix and schema; wait for /health. */
async function startFresh(kind: 'embedded' | 'postgres', viaNpm = false): Promise<Started> {
  const port = await freePort();
  const fresh = freshProcessEnv('startup', kind);
  const { schema, prefix } = fresh;
  const dataDir = fresh.env.DATA_DIR!;
  const env = { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), ...fresh.env };
  let err = '';
  const t0 = performance.now();
  const child = viaNpm
    ? spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true })
    : spawn(process.execPath, startCommand(), { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-10_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, () => err);
  const ms = Math.round(performance.now() - t0);
  return {
    url,
    child,
    ms,
    async close() {
      if (viaNpm) process.kill(-child.pid!, 'SIGTERM');
      else child.kill('SIGTERM');
      await exited;
      await dropRedisPrefix(prefix);
      if (kind === 'postgres') {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        await c.query(`drop schema if exists "${schema}" cascade`);
        await c.end();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function commands(url: string, n: number): Promise<number> {
  let next = 0;
  let failed = 0;
  const lane = async (conv: number) => {
    while (next < n) {
      const i = next++;
      if (!(await postNumberedCommand(url, conv, i, 30_000)).ok) failed++;
    }
  };
  await Promise.all([1, 2, 3, 4].map(lane));
  return failed;
}

async function chittyMedians(url: string, runs = 9) {
  const env = { ...process.env, CHITTY_URL: url, CHITTY_API_TOKEN: TEST_TOKEN, CHITTY_USER: 'bench' };
  await run(process.execPath, ['bin/chitty.mjs', 'todo', 'list'], { cwd: ROOT, env }); // builds its bundle when stale
  const time = async (args: string[]) => {
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await run(process.execPath, args, { cwd: ROOT, env }).catch(() => undefined);
      ms.push(performance.now() - t0);
    }
    return Math.round(median(ms));
  };
  const figures = { runs, nodeStartMs: await time(['-e', '']), helpMs: await time(['bin/chitty.mjs', '--help']), todoListMs: await time(['bin/chitty.mjs', 'todo', 'list']) };
  // The client alone: the same call against a stub that answers a three-item list at once.
  const stub = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(STUB_LIST));
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  env.CHITTY_URL = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  const todoListStubMs = await time(['bin/chitty.mjs', 'todo', 'list']);
  stub.close();
  return { ...figures, todoListStubMs };
}

const STUB_LIST = JSON.stringify({
  command: 'todo.list',
  page: 1,
  reply: { kind: 'info', title: 'Todos', items: [1, 2, 3].map((n) => ({ ref: String(n), id: `CHITTY-TODO-0${n}`, text: `Todo ${n}`, status: 'pending' })) },
  rendered: { text: 'Todos' },
});

async function measure(kind: 'embedded' | 'postgres', withChitty: boolean) {
  const runs: Record<string, number>[] = [];
  let chitty: Awaited<ReturnType<typeof chittyMedians>> | undefined;
  for (let r = 0; r < RUNS; r++) {
    const gw = await startFresh(kind);
    try {
      const pid = gw.child.pid!;
      const cpuMsAtHealth = procStats(pid)!.cpuMs;
      const settledMb = await settledRss(pid);
      const t0 = performance.now();
      const failed = await commands(gw.url, COMMANDS);
      const commandsMs = Math.round(performance.now() - t0);
      const afterCommandsMb = await settledRss(pid);
      runs.push({ toHealthMs: gw.ms, cpuMsAtHealth, settledMb, afterCommandsMb, peakMb: procStats(pid)!.peakMb, commandsMs, failed });
      if (withChitty && r === 0) chitty = await chittyMedians(gw.url);
    } finally {
      await gw.close();
    }
  }
  const med = (k: string) => median(runs.map((x) => x[k]!));
  return {
    median: { toHealthMs: med('toHealthMs'), cpuMsAtHealth: med('cpuMsAtHealth'), settledMb: med('settledMb'), afterCommandsMb: med('afterCommandsMb'), peakMb: med('peakMb') },
    runs,
    ...(chitty ? { chitty } : {}),
  };
}

const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);
const builds = async (args: string[]) => {
  const t0 = performance.now();
  await run(process.execPath, ['scripts/build.mjs', ...args], { cwd: ROOT });
  return Math.round(performance.now() - t0);
};

const loadBefore = load();
const cleanBuildMs = await builds(['--force']);
const upToDateBuildMs = await builds(['--if-stale']);
const embedded = await measure('embedded', true);
const postgres = await measure('postgres', false);
const npmGw = await startFresh('embedded', true);
const npmStartToHealthMs = npmGw.ms;
await npmGw.close();
const components = JSON.parse((await run(process.execPath, ['--expose-gc', ...startCommand().filter((a) => a.startsWith('--')), 'test/bench/startup-components.mjs'], { cwd: ROOT })).stdout) as Record<
  string,
  unknown
>;

const { chitty, ...embeddedFigures } = embedded;
console.log(
  JSON.stringify({
    machine: { cpus: os.cpus().length, node: process.version, loadAverage: { before: loadBefore, after: load() } },
    build: { cleanBuildMs, upToDateBuildMs },
    commands: COMMANDS,
    embedded: embeddedFigures,
    postgres,
    npmStartToHealthMs,
    components,
    chitty,
    targets: {
      freshStartToHealthUnder5s: embedded.median.toHealthMs <= 5000,
      embeddedRssAtMost250Mb: Math.max(embedded.median.settledMb, embedded.median.afterCommandsMb) <= 250,
      postgresRssAtMost150Mb: Math.max(postgres.median.settledMb, postgres.median.afterCommandsMb) <= 150,
      chittyHttpCallAtMost300Ms: (chitty?.todoListStubMs ?? Infinity) <= 300,
    },
  }),
);
