/**
 * `npm run chaos`: figures of this machine under failures, printed as one JSON. Loopback only,
 * bounded in count and time; it stops by itself. Sections:
 * - isolation: a healthy webhook's delivery delay (p50/p99) alone, then with 40 receivers that
 *   never answer subscribed beside it (target: p99 within 2× of alone);
 * - fuzz: fuzzRequests (test/chaos/fuzz.ts) against an in-process gateway (target: 0 5xx, 0 table changes);
 * - workerKill: deliveries while the worker process is SIGKILLed and restarted (the worker up and
 *   keeping pace before the changes start, on the webhooks' default coalescing window): lost, duplicated
 *   (a change a receiver accepted twice), duplicates a receiver deduping on X-Chitty-Delivery would
 *   still see (a re-send under a new delivery id), and the ledger's re-sent rows (sends > 1; target ≤ 0.1 %).
 *   Its 5 receivers run in their own process (test/bench/receiver-process.ts, as the benches' do)
 *   and this one polls their request log over IPC: this process makes changes in a tight loop, and
 *   receivers sharing its event loop answered late, widening the window between a row's claim and
 *   its recorded answer — the window a kill turns into re-sends — by the harness, not the gateway.
 *   `backlogAtKill`: deliveries made but not yet arrived at the kill (a backlog draining then is sent
 *   in big requests, and whatever request was unanswered goes again);
 * - workerKillDuringDrain: the same, killed in the middle of draining a backlog that built up while
 *   no worker ran (target: 0 lost, re-sends within one request, 500 rows, per destination);
 * - redisRestart: deliveries across a Redis restart that loses every key (lost, duplicated);
 * - commandsUnderKill9: 600 commands while the gateway process is SIGKILLed twice (commands-kill.ts).
 * Options: --samples N (isolation), --fuzz N (requests), --hang-ms N (0: healthy neighbours, to
 * compare), --deliveries N (worker kill: N/5 changes × 5 receivers, default 1,500), --only <section name prefix>.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';
import { freePort } from '../support/gateway-process.ts';
import { startRedisServer, startWorkerProcess, stopProcess } from '../support/processes.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { Receivers } from '../bench/pipeline-kit.ts';
import type { RecordedRequest } from '../bench/receiver-process.ts';
import { commandsUnderKill } from './commands-kill.ts';
import { fuzzRequests, tableCounts } from './fuzz.ts';

const SECRET = 'test-webhook-secret';
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SAMPLES = arg('samples', 60);
const FUZZ_RUNS = arg('fuzz', 2000);
/** How long the 40 neighbours take to answer (ms); 0 makes them healthy, to compare. */
const HANG_MS = arg('hang-ms', 60_000);
/** Worker kill: deliveries to make (5 receivers, so N/5 changes). */
const KILL_DELIVERIES = arg('deliveries', 1500);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

/** The entity id a SyncMessage carries. */
const entityOf = (m: unknown): string | undefined => (m as { payload?: { entity?: { chittyId?: string } } } | null)?.payload?.entity?.chittyId;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function subscribe(gw: TestGateway, url: string, projectId: string): Promise<void> {
  const r = await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: url, projectId, domains: ['todos'] });
  if (r.status !== 201) throw new Error(`subscribe ${url}: ${r.status}`);
}

/** Delay from the API's 201 to the healthy receiver's request, per change (ms). */
async function healthyDelays(gw: TestGateway, healthy: WebhookReceiver, projectId: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = Date.now();
    const id = (await gw.call('POST', '/api/v1/todos', { content: `probe ${i}`, projectId })).json.chittyId as string;
    await healthy.waitFor(() => healthy.received.some((r) => r.messages.some((m) => entityOf(m) === id)), 60_000);
    const at = healthy.received.find((r) => r.messages.some((m) => entityOf(m) === id))!.at;
    out.push(at - t0);
  }
  return out;
}

async function isolation() {
  const gw = await startTestGateway('postgres', { CHITTY_DIGEST_WINDOW_MS: '20', CHITTY_RATE_LIMITS: 'webhook=1000/1000' }, { pipeline: { relayPollMs: 50 } });
  const receivers: WebhookReceiver[] = [];
  try {
    const healthy = await startWebhookReceiver({ secret: SECRET });
    receivers.push(healthy);
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Isolation' })).json.chittyId;
    await subscribe(gw, healthy.url, P);
    await healthyDelays(gw, healthy, P, 3); // warm up
    const alone = await healthyDelays(gw, healthy, P, SAMPLES);
    for (let i = 0; i < 40; i++) {
      const h = await startWebhookReceiver({ secret: SECRET, ...(HANG_MS > 0 ? { script: () => ({ status: 200, delayMs: HANG_MS }) } : {}) });
      receivers.push(h);
      await subscribe(gw, h.url, P);
    }
    const beside = await healthyDelays(gw, healthy, P, SAMPLES);
    const aloneP99 = pct(alone, 99)!;
    const besideP99 = pct(beside, 99)!;
    return {
      samples: SAMPLES,
      hanging: 40,
      aloneMs: { p50: pct(alone, 50), p99: aloneP99 },
      besideHangingMs: { p50: pct(beside, 50), p99: besideP99, max: Math.max(...beside) },
      ratioP99: Math.round((besideP99 / Math.max(1, aloneP99)) * 100) / 100,
      targetMet: besideP99 <= 2 * Math.max(aloneP99, 1),
    };
  } finally {
    await Promise.all(receivers.map((r) => r.close()));
    await gw.close();
  }
}

async function fuzz() {
  const gw = await startTestGateway('postgres');
  try {
    const r = await fuzzRequests(gw.url, TEST_TOKEN, FUZZ_RUNS, { counts: () => tableCounts(gw.database.db), seed: 14 });
    return { count: r.count, fivexx: r.fivexx, tableChanges: r.tableChanges, targetMet: r.fivexx === 0 && r.tableChanges === 0, firstFailures: r.failures.slice(0, 3) };
  } finally {
    await gw.close();
  }
}

const startRedis = (port: number) => startRedisServer(port);
const stop = stopProcess;
/** A worker process on the product's own coalescing windows (webhooks: none), not the tests' short one. */
const startWorker = (gw: TestGateway) => startWorkerProcess(gw, { webhookSecret: SECRET, logLevel: 'error', stdio: ['ignore', 'ignore', 'inherit'], env: { CHITTY_DIGEST_WINDOW_MS: '' } });

/**
 * What one receiver in the receiver process took, mirrored here from its request log (`pull`).
 * The figures mean what WebhookReceiver's do: `messageIds`/`duplicates` as its own methods,
 * `accepted` as the `accepted` helper below.
 */
class RemoteReceiver {
  readonly received: RecordedRequest[] = [];
  constructor(readonly url: string) {}
  /** Message ids of every accepted (2xx) request, digests flattened, in arrival order. */
  messageIds(): string[] {
    const ids: string[] = [];
    for (const r of this.received) if (r.status >= 200 && r.status < 300) for (const m of r.messages) if (m.id !== undefined) ids.push(m.id);
    return ids;
  }
  /** How many distinct message ids were accepted (2xx) more than once. */
  duplicates(): number {
    const seen = new Map<string, number>();
    for (const id of this.messageIds()) seen.set(id, (seen.get(id) ?? 0) + 1);
    let dup = 0;
    for (const n of seen.values()) if (n > 1) dup++;
    return dup;
  }
  /** Entity ids accepted (200). */
  accepted(): Set<string | undefined> {
    return new Set(this.received.filter((x) => x.status === 200).flatMap((x) => x.messages.map((m) => m.entity)));
  }
}

/** Brings `receivers` (index i: the i-th URL `rx.start` returned) up to date with what the receiver process logged since the last pull. */
async function pull(rx: Receivers, receivers: RemoteReceiver[], log: { next: number }): Promise<void> {
  const fresh = await rx.requests(log.next);
  log.next += fresh.length;
  for (const r of fresh) receivers[r.receiver]!.received.push(r);
}

/**
 * Changes a receiver that drops any request whose X-Chitty-Delivery id it has already accepted
 * would still take twice (a re-send that came under a new delivery id).
 */
function duplicatesPastDeliveryIdDedupe(r: RemoteReceiver): number {
  const ids = new Set<string>();
  const seen = new Set<string>();
  let dup = 0;
  for (const x of r.received) {
    if (x.status !== 200) continue;
    const id = String(x.delivery);
    if (ids.has(id)) continue;
    ids.add(id);
    for (const m of x.messages) {
      const key = m.id ?? '';
      if (seen.has(key)) dup++;
      seen.add(key);
    }
  }
  return dup;
}

/** Entity ids a receiver accepted (2xx). */
const accepted = (r: WebhookReceiver) => new Set(r.received.filter((x) => x.status === 200).flatMap((x) => x.messages.map(entityOf)));

/**
 * Deliveries while the worker process is SIGKILLed and restarted. `steady`: the worker is up and
 * keeping pace (a first change has reached every receiver) before the changes start, and dies a
 * third of the way in — what a deployment's worker meets. `drain`: a third of the changes wait
 * while no worker runs; one starts, and dies once half of them have arrived, in the middle of
 * draining that backlog in big requests (at most one unanswered request per destination goes
 * again). Both run the webhooks' own coalescing window (the gateway's default).
 */
async function workerKill(mode: 'steady' | 'drain') {
  const gw = await startTestGateway('postgres', {}, { mode: 'web' });
  const rx = new Receivers();
  const receivers: RemoteReceiver[] = [];
  const log = { next: 0 };
  const start = () => startWorker(gw);
  let worker: ChildProcess | undefined;
  try {
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Kill' })).json.chittyId;
    for (const url of await rx.start(5, { record: true })) {
      receivers.push(new RemoteReceiver(url));
      await subscribe(gw, url, P);
    }
    const CHANGES = Math.max(10, Math.round(KILL_DELIVERIES / receivers.length));
    const KILL_AT = Math.floor(CHANGES / 3);
    const made: string[] = [];
    const total = () => receivers.reduce((n, r) => n + new Set(r.messageIds()).size, 0);
    const arrived = async (n: number) => {
      for (let k = 0; k < 2400; k++) {
        await pull(rx, receivers, log);
        if (total() >= n) return;
        await sleep(25);
      }
      throw new Error(`only ${total()} of ${n} deliveries arrived`);
    };
    if (mode === 'steady') {
      worker = start();
      made.push((await gw.hub.create('todos', { content: 'First', projectId: P })).chittyId);
      await arrived(receivers.length);
    }
    /** Deliveries made but not yet arrived when the worker was killed: what may have been on its way. */
    let backlogAtKill = 0;
    while (made.length < CHANGES) {
      made.push((await gw.hub.create('todos', { content: `Change ${made.length}`, projectId: P })).chittyId);
      if (made.length === KILL_AT) {
        if (mode === 'drain') worker = start();
        // Kill while deliveries are flowing: once half of what was made so far has arrived.
        await arrived((made.length * receivers.length) / 2);
        backlogAtKill = made.length * receivers.length - total();
        await stop(worker!, 'SIGKILL');
        worker = start();
      }
    }
    const deadline = Date.now() + 90_000 + CHANGES * 20;
    const missing = (r: RemoteReceiver) => {
      const got = r.accepted();
      return made.filter((id) => !got.has(id)).length;
    };
    for (;;) {
      await pull(rx, receivers, log);
      if (Date.now() >= deadline || !receivers.some((r) => missing(r) > 0)) break;
      await sleep(200);
    }
    const lost = receivers.reduce((n, r) => n + missing(r), 0);
    // Duplicated: a change a receiver accepted more than once (at-least-once re-sends after the kill).
    const duplicated = receivers.reduce((n, r) => n + r.duplicates(), 0);
    const ledger = rowsOf<{ rows: number; resent: number; multi: number }>(
      await gw.database.db.execute(sql`select count(*)::int as rows, count(*) filter (where sends > attempts)::int as resent, count(*) filter (where sends > 1)::int as multi from deliveries`),
    )[0]!;
    const deliveries = made.length * receivers.length;
    return {
      deliveries,
      backlogAtKill,
      lost,
      duplicated,
      duplicatedUnderNewDeliveryId: receivers.reduce((n, r) => n + duplicatesPastDeliveryIdDedupe(r), 0),
      // Re-sent: rows that went out in more than one request (sends > 1); unconfirmed: a send with no outcome written (sends > attempts).
      ledger: { rows: ledger.rows, resent: ledger.multi, resentPercent: Math.round((ledger.multi / deliveries) * 10_000) / 100, unconfirmed: ledger.resent },
      // A drain re-sends what was on its way: one request (≤ 500 rows) per destination, all under
      // their first delivery id.
      targetMet:
        mode === 'steady' ? lost === 0 && ledger.multi <= deliveries / 1000 : lost === 0 && duplicated <= receivers.length * 500 && receivers.every((r) => duplicatesPastDeliveryIdDedupe(r) === 0),
    };
  } finally {
    if (worker) await stop(worker, 'SIGKILL');
    rx.stop();
    await gw.close();
  }
}

async function redisRestart() {
  const port = await freePort();
  let redis = await startRedis(port);
  const gw = await startTestGateway(
    'postgres',
    { REDIS_URL: `redis://127.0.0.1:${port}`, CHITTY_DIGEST_WINDOW_MS: '50', CHITTY_RATE_LIMITS: 'webhook=1000/1000', CHITTY_SWEEP_MS: '500' },
    { pipeline: { relayPollMs: 50 } },
  );
  const r = await startWebhookReceiver({ secret: SECRET, verify: false });
  try {
    const P = (await gw.call('POST', '/api/v1/projects', { name: 'Outage' })).json.chittyId;
    await subscribe(gw, r.url, P);
    const made: string[] = [];
    for (let i = 0; i < 20; i++) made.push((await gw.hub.create('todos', { content: `Before ${i}`, projectId: P })).chittyId);
    await stop(redis);
    for (let i = 0; i < 40; i++) {
      const res = await gw.call('POST', '/api/v1/todos', { content: `During ${i}`, projectId: P });
      if (res.status === 201) made.push(res.json.chittyId);
    }
    await sleep(500);
    redis = await startRedis(port);
    const got = () => accepted(r);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && made.some((id) => !got().has(id))) await sleep(200);
    return { deliveries: made.length, lost: made.filter((id) => !got().has(id)).length, duplicated: r.duplicates() };
  } finally {
    await r.close();
    await gw.close();
    await stop(redis);
  }
}

async function section<T>(name: string, f: () => Promise<T>): Promise<T | { error: string } | 'skipped'> {
  if (ONLY !== undefined && !name.startsWith(ONLY)) return 'skipped';
  process.stderr.write(`[chaos] ${name}…\n`);
  try {
    return await f();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const started = Date.now();
const result = {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
  isolation: await section('isolation', isolation),
  fuzz: await section('fuzz', fuzz),
  workerKill: await section('worker kill -9', () => workerKill('steady')),
  workerKillDuringDrain: await section('worker drain kill -9', () => workerKill('drain')),
  redisRestart: await section('redis restart', redisRestart),
  commandsUnderKill9: await section('commands under kill -9', () => commandsUnderKill()),
  seconds: Math.round((Date.now() - started) / 1000),
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
