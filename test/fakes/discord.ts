/**
 * A loopback Discord for tests: the REST API paths the channel uses (under `/api/v10`) and a
 * gateway WebSocket that speaks enough of the protocol for discord.js (HELLO → IDENTIFY → READY,
 * heartbeat ACKs, MESSAGE_CREATE on demand). Everything it receives is recorded. It can answer
 * with a 429 carrying Discord's real headers and body. `signInteraction` signs a request exactly
 * as Discord does (Ed25519 over timestamp + body) with a test keypair.
 * https://discord.com/developers/docs/topics/gateway
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generateKeyPairSync, sign as edSign, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedRequest {
  method: string;
  /** Path below the API root, e.g. `/channels/123/messages`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  at: number;
  /** What the fake answered (status and JSON body). */
  response?: { status: number; body: any };
}

/** A canned answer for the next request(s) whose path matches. */
export interface CannedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A 429 as Discord sends it: headers plus `{message, retry_after, global}`. */
export function rateLimited(retryAfterSeconds: number, global = false): CannedResponse {
  return {
    status: 429,
    headers: {
      'retry-after': String(Math.ceil(retryAfterSeconds)),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset-after': String(retryAfterSeconds),
      'x-ratelimit-bucket': 'fakebucket',
      'x-ratelimit-scope': global ? 'global' : 'user',
      ...(global ? { 'x-ratelimit-global': 'true' } : {}),
    },
    body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global },
  };
}

/** A test keypair and the hex public key Discord shows as "Public Key". */
export interface TestKeys {
  privateKey: KeyObject;
  publicKeyHex: string;
}

export function testKeys(): TestKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKeyHex: der.subarray(der.length - 32).toString('hex') };
}

/** Headers Discord would send with `body`, signed at `timestamp` (unix seconds). */
export function signInteraction(keys: TestKeys, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const ts = String(timestamp);
  const signature = edSign(null, Buffer.from(ts + body), keys.privateKey).toString('hex');
  return { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': ts, 'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)' };
}

let snowflakeSeq = 0n;
/** A fresh snowflake-shaped id (a string above 2^53, as Discord's are). */
export function snowflake(): string {
  const ms = BigInt(Date.now() - 1420070400000);
  snowflakeSeq = (snowflakeSeq + 1n) % 4096n;
  return ((ms << 22n) | (1n << 17n) | snowflakeSeq).toString();
}

export class FakeDiscord {
  readonly requests: RecordedRequest[] = [];
  /** Gateway frames received (IDENTIFY, heartbeats), per connection in order. */
  readonly gatewayFrames: { conn: number; op: number; d: unknown }[] = [];
  readonly botUserId: string;
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly canned: { match: RegExp; response: CannedResponse }[] = [];
  private readonly sockets = new Map<number, { ws: WebSocket; identified: boolean; seq: number }>();
  private connSeq = 0;
  private port = 0;
  /** Delay before answering REST calls (ms). */
  restDelayMs = 0;

  constructor(readonly applicationId: string = snowflake()) {
    this.botUserId = applicationId;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ server: this.server, path: '/gateway' });
    this.wss.on('connection', (ws) => this.onConnection(ws));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const { ws } of this.sockets.values()) ws.terminate();
    this.wss?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Answer the next `times` requests whose path matches with `response`. */
  failNext(match: RegExp, response: CannedResponse, times = 1): void {
    for (let i = 0; i < times; i++) this.canned.push({ match, response });
  }

  /** Messages posted to a channel (`POST /channels/{id}/messages`). */
  posts(channelId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${channelId}/messages`);
  }

  /** Interaction answers sent by REST for one interaction token (edits of @original and follow-ups). */
  webhookCalls(token: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(`/webhooks/${this.applicationId}/${token}`));
  }

  /** Connections that sent IDENTIFY and got READY. */
  identifiedConnections(): number {
    return [...this.sockets.values()].filter((s) => s.identified).length;
  }

  /** Dispatch MESSAGE_CREATE to every identified connection. */
  dispatchMessage(d: Record<string, unknown>): void {
    this.dispatch('MESSAGE_CREATE', d);
  }

  dispatch(t: string, d: unknown): void {
    for (const s of this.sockets.values()) {
      if (!s.identified) continue;
      s.ws.send(JSON.stringify({ op: 0, t, s: ++s.seq, d }));
    }
  }

  private onConnection(ws: WebSocket): void {
    const conn = ++this.connSeq;
    const state = { ws, identified: false, seq: 0 };
    this.sockets.set(conn, state);
    ws.on('close', () => this.sockets.delete(conn));
    ws.on('message', (raw) => {
      let frame: { op: number; d: unknown };
      try {
        frame = JSON.parse(String(raw));
      } catch {
        return;
      }
      this.gatewayFrames.push({ conn, op: frame.op, d: frame.d });
      if (frame.op === 1) ws.send(JSON.stringify({ op: 11 }));
      if (frame.op === 2) {
        state.identified = true;
        ws.send(
          JSON.stringify({
            op: 0,
            t: 'READY',
            s: ++state.seq,
            d: {
              v: 10,
              user: { id: this.botUserId, username: 'chitty', discriminator: '0', global_name: 'Chitty', avatar: null, bot: true, flags: 0 },
              guilds: [],
              session_id: `session-${conn}`,
              resume_gateway_url: this.gatewayUrl,
              application: { id: this.applicationId, flags: 0 },
              shard: [0, 1],
              private_channels: [],
            },
          }),
        );
      }
    });
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 } }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname).replace(/^\/api(\/v\d+)?/, '');
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      /* kept as text */
    }
    const method = req.method ?? 'GET';
    const recorded: RecordedRequest = { method, path, headers: req.headers, body, at: Date.now() };
    this.requests.push(recorded);
    if (this.restDelayMs > 0) await new Promise((r) => setTimeout(r, this.restDelayMs));
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      recorded.response = { status, body: payload };
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    const canned = this.canned.findIndex((c) => c.match.test(path));
    if (canned >= 0) {
      const { response } = this.canned.splice(canned, 1)[0]!;
      return send(response.status, response.body, response.headers);
    }
    if (!String(req.headers.authorization ?? '').startsWith('Bot ') && !path.startsWith('/webhooks/')) {
      return send(401, { message: '401: Unauthorized', code: 0 });
    }
    const message = (channelId: string, b: any) => ({
      id: snowflake(),
      channel_id: channelId,
      type: b?.message_reference ? 19 : 0,
      content: b?.content ?? '',
      embeds: b?.embeds ?? [],
      components: b?.components ?? [],
      author: { id: this.botUserId, username: 'chitty', bot: true },
      timestamp: new Date().toISOString(),
      ...(b?.message_reference ? { message_reference: b.message_reference } : {}),
    });
    if (method === 'GET' && path === '/gateway/bot') {
      return send(200, { url: this.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 } });
    }
    if (method === 'GET' && path === '/gateway') return send(200, { url: this.gatewayUrl });
    const channelPost = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (method === 'POST' && channelPost) return send(200, message(channelPost[1]!, body));
    if (method === 'POST' && /^\/channels\/[^/]+\/messages$/.test(path)) return send(404, { message: 'Unknown Channel', code: 10003 });
    const m = /^\/webhooks\/([^/]+)\/([^/]+)(\/messages\/@original)?$/.exec(path);
    if (m) {
      if (m[1] !== this.applicationId) return send(404, { message: 'Unknown Webhook', code: 10015 });
      if (method === 'PATCH' || method === 'POST') return send(200, message('0', body));
    }
    if (method === 'PUT' && /^\/applications\/[^/]+(\/guilds\/[^/]+)?\/commands$/.test(path)) {
      return send(
        200,
        (Array.isArray(body) ? body : []).map((c: any) => ({ ...c, id: snowflake(), application_id: this.applicationId, version: snowflake() })),
      );
    }
    send(404, { message: '404: Not Found', code: 0 });
  }
}
