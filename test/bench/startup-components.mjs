// What each part of the gateway adds to a process's resident memory, for `npm run bench:startup`.
// Plain JavaScript on purpose (no tsx in the process it measures). Run with --expose-gc and the
// flags `npm start` uses; it loads the parts one after another in the order the gateway does and
// prints one JSON line: node's own RSS, then each part's RSS delta in MB (after two full GCs and a
// pause). Packages are imported; PGlite is also opened (from the build's template, with the
// gateway's settings) and queried, as its cost is its running server, not its code. The channel
// SDKs come last: the gateway loads none of them unless that channel is configured.
//
//   node --expose-gc --max-semi-space-size=4 test/bench/startup-components.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const gc = globalThis.gc ?? (() => undefined);
const rssMb = () => process.memoryUsage().rss / 1048576;

async function settled() {
  gc();
  gc();
  await new Promise((r) => setTimeout(r, 300));
  gc();
  return rssMb();
}

const shares = {};
let last = await settled();
const node = Math.round(last);

async function part(name, load) {
  await load();
  const now = await settled();
  shares[name] = Math.round(now - last);
  last = now;
}

const all = (...names) => Promise.all(names.map((n) => import(n)));
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chitty-components-'));
let database;
try {
  await part('http: fastify, websocket, zod, pino', () => all('fastify', '@fastify/websocket', 'zod', 'pino'));
  await part('queues: bullmq, ioredis', () => all('bullmq', 'ioredis'));
  await part('drizzle-orm, pg, chrono-node, undici, renderers deps', () =>
    all('drizzle-orm', 'drizzle-orm/pg-core', 'drizzle-orm/node-postgres', 'pg', 'chrono-node', 'undici', '@discordjs/builders', 'sms-segments-calculator'),
  );
  await part('queue dashboard: @bull-board/*', () => all('@bull-board/api', '@bull-board/api/bullMQAdapter', '@bull-board/fastify'));
  await part('MCP SDK (/mcp)', () => all('@modelcontextprotocol/sdk/server/mcp.js', '@modelcontextprotocol/sdk/server/streamableHttp.js', '@modelcontextprotocol/sdk/types.js'));
  await part('metrics and tracing API: prom-client, @opentelemetry/api', () => all('prom-client', '@opentelemetry/api'));
  await part('PGlite: running embedded database', async () => {
    const { openPglite } = await import(new URL('../../dist/gateway/pglite-template.js', import.meta.url).href);
    database = await openPglite(dataDir);
    await database.ping();
  });
  await part('channel SDK (not loaded unless configured): discord.js', () => all('discord.js', 'discord-interactions'));
  await part('channel SDK (not loaded unless configured): twilio', () => all('twilio'));
  await part('channel SDK (not loaded unless configured): @slack/web-api, @slack/oauth', () => all('@slack/web-api', '@slack/oauth'));
  await part('channel SDK (not loaded unless configured): smtp-server, mailparser, nodemailer', () => all('smtp-server', 'mailparser', 'nodemailer', 'email-reply-parser'));
  await part('channel SDK (not loaded unless configured): whatsapp-web.js', () => all('whatsapp-web.js', 'qrcode-terminal'));
} finally {
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ nodeMb: node, sharesMb: shares, totalMb: Math.round(last) })}\n`);
