/**
 * A fake Slack Web API on 127.0.0.1 speaking Slack's wire format, for tests and the benchmark:
 * `POST /api/<method>` with a form or JSON body and `Authorization: Bearer <token>`, answering
 * `{ok: true, …}` or `{ok: false, error}`. It implements `auth.test`, `chat.postMessage`,
 * `chat.update` and `oauth.v2.access`, can answer 429 with Retry-After, a platform error, or
 * slowly, and records every call. It also receives `response_url` POSTs at `/response/<id>`.
 * {@link https://api.slack.com/web#basics}
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackApiCall {
  method: string;
  token: string | undefined;
  /** Form fields or JSON, decoded (blocks arrive as JSON text in forms and are parsed back). */
  args: Record<string, any>;
  at: number;
}

export interface ResponseUrlCall {
  id: string;
  body: Record<string, any>;
  at: number;
}

/** What the next call of a method gets instead of success. */
export type SlackFault = ({ rateLimit: number } | { error: string } | { status: number }) & {
  /** Only calls to this channel (default: any call of the method). */
  channel?: string;
};

export interface FakeSlackApiOptions {
  /** Bot identity `auth.test` reports. */
  teamId?: string;
  botUserId?: string;
  botId?: string;
  /** Tokens accepted (default: any `xoxb-` token). */
  tokens?: string[];
  /** Delay before every Web API answer, ms (a slow Slack). */
  delayMs?: number;
}

export class FakeSlackApi {
  readonly calls: SlackApiCall[] = [];
  readonly responses: ResponseUrlCall[] = [];
  delayMs: number;
  private server: http.Server | undefined;
  private readonly faults = new Map<string, SlackFault[]>();
  private ts = 1_700_000_000;
  private seq = 0;
  private readonly waiters = new Set<() => void>();
  url = '';

  constructor(readonly opts: FakeSlackApiOptions = {}) {
    this.delayMs = opts.delayMs ?? 0;
  }

  get teamId() {
    return this.opts.teamId ?? 'TFAKE0001';
  }
  get botUserId() {
    return this.opts.botUserId ?? 'UFAKEBOT1';
  }
  get botId() {
    return this.opts.botId ?? 'BFAKEBOT1';
  }

  /** `SLACK_API_URL` for the gateway. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A response_url that lands here. */
  responseUrl(id: string): string {
    return `${this.url}/response/${encodeURIComponent(id)}`;
  }

  /** The next calls of `method` fail this way, one fault per call. */
  fail(method: string, ...faults: SlackFault[]): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...faults]);
  }

  callsOf(method: string): SlackApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves when `check` holds (checked after every recorded call). */
  async until<T>(check: () => T | undefined | false, what: string, ms = 15_000): Promise<T> {
    const first = check();
    if (first) return first;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`fake Slack: timed out waiting for ${what}`));
      }, ms);
      const w = () => {
        const v = check();
        if (v) {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(v);
        }
      };
      this.waiters.add(w);
    });
  }

  private notify() {
    for (const w of [...this.waiters]) w();
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private nextTs(): string {
    this.seq++;
    return `${this.ts + this.seq}.${String(this.seq).padStart(6, '0')}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const type = String(req.headers['content-type'] ?? '');
    let args: Record<string, any> = {};
    if (type.includes('json')) args = raw ? JSON.parse(raw) : {};
    else for (const [k, v] of new URLSearchParams(raw)) args[k] = v;

    if (url.pathname.startsWith('/response/')) {
      this.responses.push({ id: decodeURIComponent(url.pathname.slice('/response/'.length)), body: args, at: Date.now() });
      this.notify();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      res.writeHead(404).end();
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    for (const k of ['blocks', 'attachments']) if (typeof args[k] === 'string') args[k] = JSON.parse(args[k]);
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : typeof args.token === 'string' ? args.token : undefined;
    this.calls.push({ method, token, args, at: Date.now() });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
      this.notify();
    };
    const queue = this.faults.get(method) ?? [];
    const at = queue.findIndex((f) => f.channel === undefined || f.channel === args.channel);
    const fault = at < 0 ? undefined : queue.splice(at, 1)[0];
    if (fault) {
      if ('rateLimit' in fault) return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.rateLimit) });
      if ('status' in fault) return send(fault.status, { ok: false, error: 'fatal_error' });
      return send(200, { ok: false, error: fault.error });
    }
    if (method !== 'oauth.v2.access') {
      const ok = token !== undefined && (this.opts.tokens ? this.opts.tokens.includes(token) : token.startsWith('xoxb-'));
      if (!ok) return send(200, { ok: false, error: token ? 'invalid_auth' : 'not_authed' });
    }
    switch (method) {
      case 'auth.test':
        return send(200, { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'chitty', team_id: this.teamId, user_id: this.botUserId, bot_id: this.botId, is_enterprise_install: false });
      case 'chat.postMessage': {
        if (!args.channel) return send(200, { ok: false, error: 'channel_not_found' });
        const ts = this.nextTs();
        return send(200, {
          ok: true,
          channel: args.channel,
          ts,
          message: { type: 'message', text: args.text, bot_id: this.botId, user: this.botUserId, ts, ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}) },
        });
      }
      case 'chat.update':
        if (!args.channel || !args.ts) return send(200, { ok: false, error: 'message_not_found' });
        return send(200, { ok: true, channel: args.channel, ts: args.ts, text: args.text });
      case 'oauth.v2.access': {
        if (!args.code || !args.client_id) return send(200, { ok: false, error: 'invalid_code' });
        return send(200, {
          ok: true,
          app_id: 'AFAKEAPP1',
          authed_user: { id: 'UINSTALLER' },
          scope: 'commands,chat:write,app_mentions:read,im:history,im:read',
          token_type: 'bot',
          access_token: `xoxb-installed-${args.code}`,
          bot_user_id: this.botUserId,
          team: { id: this.teamId, name: 'Fake' },
          enterprise: null,
          is_enterprise_install: false,
        });
      }
      default:
        return send(200, { ok: false, error: 'unknown_method' });
    }
  }
}
