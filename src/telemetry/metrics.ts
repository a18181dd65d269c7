/**
 * Prometheus metrics for `GET /metrics` (prom-client): one registry, the metric definitions, and
 * one function per observation, called from one-line hooks in the pipeline (queues/) and the
 * route runner. Labels are bounded: channel, status, queue, job state, stage; never an address,
 * a destination or an id. Counters live in the process that does the work: in the Procfile
 * layout the worker process counts deliveries, the web process acknowledgements.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The registry `GET /metrics` serves. */
export const registry = new Registry();

/** The pipeline stages `npm run bench` prints, plus the webhook acknowledgement. */
export type Stage = 'relay' | 'fanout' | 'deliver' | 'ack';

/** What happened to a delivery row at one send (or instead of one). */
export type DeliveryStatus = 'sent' | 'failed' | 'dead' | 'rate_limited' | 'dropped';

/** Seconds: 1 ms to 2 minutes (a delivery's coalescing window and retries land in the upper buckets). */
const STAGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const ATTEMPT_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20];

const stageSeconds = new Histogram({
  name: 'chitty_stage_duration_seconds',
  help: 'Pipeline stage latency: relay = outbox commit to fan-out job added; fanout = fan-out job added to delivery rows and jobs written; deliver = delivery row written to the provider answering; ack = webhook request received to its acknowledgement.',
  labelNames: ['stage'] as const,
  buckets: STAGE_BUCKETS,
  registers: [registry],
});

const deliveries = new Counter({
  name: 'chitty_deliveries_total',
  help: 'Delivery rows by channel and outcome of a send: sent, failed (retried), dead (dead letter), rate_limited (waits for Retry-After), dropped (subscription gone or paused; no send).',
  labelNames: ['channel', 'status'] as const,
  registers: [registry],
});

const attempts = new Histogram({
  name: 'chitty_delivery_attempts',
  help: 'Send attempts a delivery row took until it was sent or dead-lettered (1 = the first send).',
  labelNames: ['channel', 'status'] as const,
  buckets: ATTEMPT_BUCKETS,
  registers: [registry],
});

const fanoutMessages = new Counter({
  name: 'chitty_fanout_messages_total',
  help: 'SyncMessages the fan-out expanded into delivery rows.',
  registers: [registry],
});

/** One cached child per stage: no label lookup per observation. */
const stageChild = {
  relay: stageSeconds.labels('relay'),
  fanout: stageSeconds.labels('fanout'),
  deliver: stageSeconds.labels('deliver'),
  ack: stageSeconds.labels('ack'),
};

/** Observe one stage duration, in milliseconds (negative clock skew counts as 0). */
export function observeStage(stage: Stage, ms: number): void {
  if (!Number.isFinite(ms)) return;
  stageChild[stage].observe(Math.max(0, ms) / 1000);
}

/** A fan-out job's messages: relay (commit → job added, first attempt only) and fan-out (job added → now), per message. */
export function observeFanoutMetrics(job: { timestamp: number; attemptsMade: number }, messages: { metadata: { timestamp: string } }[], now = Date.now()): void {
  const fanoutSeconds = Math.max(0, now - job.timestamp) / 1000;
  for (const m of messages) {
    if (job.attemptsMade === 0) observeStage('relay', job.timestamp - Date.parse(m.metadata.timestamp));
    stageChild.fanout.observe(fanoutSeconds);
  }
  fanoutMessages.inc(messages.length);
}

const outcomeChildren = new Map<string, { count: ReturnType<typeof deliveries.labels>; attempts: ReturnType<typeof attempts.labels> }>();

/** The counter and attempts children of one channel and status (cached: a few dozen at most). */
function outcome(channel: string, status: DeliveryStatus) {
  const key = `${channel}|${status}`;
  let o = outcomeChildren.get(key);
  if (!o) {
    o = { count: deliveries.labels(channel, status), attempts: attempts.labels(channel, status) };
    outcomeChildren.set(key, o);
  }
  return o;
}

/**
 * Rows that reached `status` at one send. `attemptOf(i)` is row i's send number (1-based); it
 * feeds the attempts histogram for rows that are done (sent or dead).
 */
export function countDeliveries(channel: string, status: DeliveryStatus, n: number, attemptOf?: (i: number) => number): void {
  if (n <= 0) return;
  const o = outcome(channel, status);
  o.count.inc(n);
  if (!attemptOf || (status !== 'sent' && status !== 'dead')) return;
  for (let i = 0; i < n; i++) {
    const a = attemptOf(i);
    if (Number.isFinite(a)) o.attempts.observe(a);
  }
}

// ------------------------------------------------------------------- queue depths

/** What the depth gauge reads (a BullMQ `Queue`). */
export interface DepthSource {
  readonly name: string;
  /** Set by BullMQ once `close()` was called: the queue is dropped from the gauge. */
  readonly closing: Promise<void> | undefined;
  getJobCounts(...types: ('waiting' | 'active' | 'delayed' | 'failed')[]): Promise<Record<string, number>>;
}

/** Job states the gauge reports. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
/** Queue depths are read from Redis at most this often; scrapes in between get the last answer. */
export const DEPTH_CACHE_MS = 2000;
/** A depth read that takes longer is abandoned (the scrape still answers). */
const DEPTH_TIMEOUT_MS = 1000;

const sources = new Set<DepthSource>();
/** The last read, or the one under way; undefined after a failure (the next scrape reads again). */
let cached: { at: number; counts: Promise<Map<string, Record<string, number>> | undefined> } | undefined;

async function readDepths(): Promise<Map<string, Record<string, number>>> {
  const byQueue = new Map<string, Record<string, number>>();
  for (const q of sources) if (q.closing) sources.delete(q);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('queue depth read timed out')), DEPTH_TIMEOUT_MS);
  });
  try {
    const all = await Promise.race([Promise.all([...sources].map(async (q) => [q.name, await q.getJobCounts(...QUEUE_STATES)] as const)), timeout]);
    // Two gateways in one process (tests) with the same queue names add up.
    for (const [name, counts] of all) {
      const sum = byQueue.get(name) ?? {};
      for (const s of QUEUE_STATES) sum[s] = (sum[s] ?? 0) + (counts[s] ?? 0);
      byQueue.set(name, sum);
    }
    return byQueue;
  } finally {
    clearTimeout(timer);
  }
}

/** This scrape's depths: the cached read while it is fresh, else a new one (undefined when it failed). */
function depths(): Promise<Map<string, Record<string, number>> | undefined> {
  const now = Date.now();
  if (!cached || now - cached.at >= DEPTH_CACHE_MS) {
    const read: NonNullable<typeof cached> = {
      at: now,
      counts: readDepths().catch(() => {
        if (cached === read) cached = undefined;
        depthReadErrors.inc();
        return undefined;
      }),
    };
    cached = read;
  }
  return cached.counts;
}

const depthReadErrors = new Counter({
  name: 'chitty_queue_depth_read_errors_total',
  help: 'Queue depth reads that Redis did not answer within 1 s (the depth gauge is empty for that scrape).',
  registers: [registry],
  async collect() {
    await depths(); // this scrape's read is settled (and counted) before the counter is reported
  },
});

new Gauge({
  name: 'chitty_queue_jobs',
  help: `Jobs per BullMQ queue and state (waiting, active, delayed, failed), read from Redis at scrape time (cached ${DEPTH_CACHE_MS} ms).`,
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
  async collect() {
    const counts = await depths();
    this.reset();
    for (const [queue, c] of counts ?? []) for (const state of QUEUE_STATES) this.set({ queue, state }, c[state] ?? 0);
  },
});

/** Report these queues' depths on `/metrics` (until each is closed). */
export function watchQueueDepths(queues: DepthSource[]): void {
  for (const q of queues) sources.add(q);
  cached = undefined;
}

// ------------------------------------------------------------------- exposition

let processMetrics = false;

/** prom-client's default process metrics (CPU, memory, event loop lag, GC, handles), once per process. */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

/** The exposition text and its content type. */
export async function scrape(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
