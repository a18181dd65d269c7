/**
 * `npm run bench:ingress`: signed Slack slash commands through the whole gateway — verified,
 * recorded in the inbound log (Postgres), run by the core and acknowledged — against, in the same
 * run, a bare Bolt `HTTPReceiver` app that only acks the same requests. Printed as JSON:
 * requests/s, p50/p99 acknowledgement latency, and the ratio. The fake Slack Web API answers slowly
 * (1 s) to show that no acknowledgement waits on it. Loopback only, a bounded number of requests.
 * Uses Postgres (BENCH_DATABASE_URL / the test database, a private schema) and Redis (REDIS_URL).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { App, HTTPReceiver } from '@slack/bolt';
import { slackSignedHeaders } from '../../bots/slack/verify.ts';
import { FakeSlackApi } from '../fakes/slack-api.ts';
import { startTestGateway } from '../support/gateway.ts';
import { slashBody } from '../support/slack.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const WARMUP = 200;
const SECRET = 'bench-slack-secret';
const TEAM = 'TBENCH001';
const USER = 'UBENCH001';
const SLOW_API_MS = 1000;

interface Run {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  ackMs: { p50: number; p99: number; max: number };
  non200: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (n: number) => Math.round(n * 100) / 100;

/** `n` signed slash commands at `concurrency`, each worker in its own Slack channel (conversation). */
async function drive(url: string, n: number, concurrency: number, tag: string, responseUrl: (id: string) => string): Promise<Run> {
  const lat: number[] = [];
  let next = 0;
  let non200 = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const id = `${tag}-${i}`;
        const body = slashBody({ command: '/todo', text: `add Bench ${id}`, teamId: TEAM, userId: USER, channelId: `CBENCH${w}`, responseUrl: responseUrl(id), triggerId: id });
        const headers = { 'content-type': 'application/x-www-form-urlencoded', ...slackSignedHeaders(SECRET, body) };
        const s = performance.now();
        const r = await fetch(url, { method: 'POST', headers, body });
        await r.arrayBuffer();
        lat.push(performance.now() - s);
        if (r.status !== 200) non200++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { requests: n, seconds: round(seconds), requestsPerSecond: Math.round(n / seconds), ackMs: { p50: round(pct(lat, 50)), p99: round(pct(lat, 99)), max: round(lat.at(-1) ?? 0) }, non200 };
}

async function main() {
  const fake = await new FakeSlackApi({ teamId: TEAM, delayMs: SLOW_API_MS }).start();

  // The gateway: Postgres, Redis, workers, Slack on and pointed at the slow fake.
  process.env.LOG_LEVEL ??= 'warn';
  const gw = await startTestGateway('postgres', {
    LOG_LEVEL: 'warn',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_API_URL: fake.apiUrl,
    CHITTY_ALLOWLIST: `slack:${TEAM}:${USER}`,
  });

  // Bare Bolt: HTTPReceiver + App whose every command listener only acks.
  const receiver = new HTTPReceiver({ signingSecret: SECRET, endpoints: '/slack/events', logLevel: 'error' as never });
  const app = new App({ receiver, authorize: async () => ({ botToken: 'xoxb-bench', botUserId: 'UBOT', botId: 'BBOT' }), clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: 'error' as never });
  app.command(/.*/, async ({ ack }) => {
    await ack();
  });
  const server = http.createServer(receiver.requestListener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const boltUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  const gwUrl = `${gw.url}/slack/events`;

  try {
    await drive(gwUrl, WARMUP, CONCURRENCY, 'warm-gw', (id) => fake.responseUrl(id));
    await drive(boltUrl, WARMUP, CONCURRENCY, 'warm-bolt', (id) => fake.responseUrl(id));
    const apiCallsBefore = fake.calls.length;
    const gateway = await drive(gwUrl, REQUESTS, CONCURRENCY, 'gw', (id) => fake.responseUrl(id));
    const apiCallsDuringGateway = fake.calls.length - apiCallsBefore;
    const bolt = await drive(boltUrl, REQUESTS, CONCURRENCY, 'bolt', (id) => fake.responseUrl(id));
    const ratio = round(gateway.requestsPerSecond / bolt.requestsPerSecond);
    console.log(
      JSON.stringify(
        {
          bench: 'ingress',
          machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
          setup: { requests: REQUESTS, concurrency: CONCURRENCY, command: '/todo add …', conversations: CONCURRENCY, database: 'postgres', slowWebApiMs: SLOW_API_MS },
          gateway: { ...gateway, webApiCallsDuringRun: apiCallsDuringGateway, responseUrlPosts: fake.responses.filter((r) => r.id.startsWith('gw-')).length },
          bareBolt: bolt,
          ratio,
          targets: { ratioAtLeast: 0.5, ratioMet: ratio >= 0.5, p99UnderMs: 50, p99Met: gateway.ackMs.p99 < 50 },
        },
        null,
        2,
      ),
    );
  } finally {
    server.close();
    await gw.close();
    await fake.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
