/**
 * A loopback webhook receiver for tests and the benchmark: node:http on 127.0.0.1:<random port>,
 * verifies each delivery's signature, records it, and answers 200 (or whatever `script` says).
 * The handler is kept minimal so it can take tens of thousands of requests per second; bodies are
 * parsed lazily, only when a test reads them.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../bots/webhook/sign.ts';

/** What the script sees of request number `n` (1-based). */
export interface ScriptRequest {
  n: number;
  /** Parsed JSON body (`undefined` when it is not JSON). */
  body: any;
  headers: IncomingHttpHeaders;
  raw: string;
}

/** How to answer; `delayMs` holds the response back (to provoke sender timeouts). */
export interface ScriptResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

export interface WebhookReceiverOptions {
  secret: string;
  /** Answer per request; `undefined` (or no script) means 200 with an empty body. */
  script?: (req: ScriptRequest) => ScriptResponse | undefined;
  /** Skip HMAC verification (benchmark speed); `valid` is then always true. */
  verify?: boolean;
}

/** One recorded request. `body` and `messages` are parsed on first read. */
export interface ReceivedRequest {
  /** Date.now() when the body was complete. */
  at: number;
  headers: IncomingHttpHeaders;
  raw: string;
  valid: boolean;
  /** Status the receiver answered with. */
  status: number;
  readonly body: any;
  /** The SyncMessages carried: the digest's `messages`, or `[body]`. */
  readonly messages: any[];
}

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** Number of requests received (any status). */
  count(): number;
  /** Message ids of every accepted (2xx) request, digests flattened, in arrival order. */
  messageIds(): string[];
  /** How many distinct message ids were accepted (2xx) more than once. */
  duplicates(): number;
  /** Resolves when `pred()` is true; rejects after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

class Received implements ReceivedRequest {
  #parsed = false;
  #body: any;
  constructor(
    readonly at: number,
    readonly headers: IncomingHttpHeaders,
    readonly raw: string,
    readonly valid: boolean,
    public status: number,
  ) {}

  get body(): any {
    if (!this.#parsed) {
      this.#parsed = true;
      try {
        this.#body = JSON.parse(this.raw);
      } catch {
        this.#body = undefined;
      }
    }
    return this.#body;
  }

  get messages(): any[] {
    const b = this.body;
    if (b !== null && typeof b === 'object' && b.type === 'digest' && Array.isArray(b.messages)) return b.messages;
    return b === undefined ? [] : [b];
  }
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Per-subscription secrets by receiver URL (a test that subscribes a receiver registers the secret it was shown). */
const trusted = new Map<string, string[]>();

/** The receiver at `url` also accepts deliveries signed with `secret` (the one POST /subscriptions showed). */
export function trustSecret(url: string, secret: string | undefined): void {
  if (!secret) return;
  const key = new URL(url).port;
  trusted.set(key, [...(trusted.get(key) ?? []), secret]);
}

export async function startWebhookReceiver(opts: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const verify = opts.verify ?? true;
  const script = opts.script;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      const headers = { timestamp: one(req.headers['x-chitty-timestamp']), signature: one(req.headers['x-chitty-signature']), delivery: one(req.headers['x-chitty-delivery']) };
      const now = Math.floor(Date.now() / 1000);
      // v2 (the delivery id signed) with the shared or a subscription's secret.
      const valid = verify ? [opts.secret, ...(trusted.get(String(port)) ?? [])].some((k) => verifyWebhook(k, raw, headers, now).ok) : true;
      const rec = new Received(Date.now(), req.headers, raw, valid, 200);
      received.push(rec);
      const answer = script?.({ n: received.length, body: rec.body, headers: req.headers, raw });
      if (answer === undefined) {
        res.statusCode = 200;
        res.end();
        return;
      }
      rec.status = answer.status;
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      };
      if (answer.delayMs !== undefined && answer.delayMs > 0) setTimeout(reply, answer.delayMs).unref();
      else reply();
    });
  });
  // Outlive undici's 4 s client keep-alive so connections are reused, not raced.
  server.keepAliveTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const accepted = () => received.filter((r) => r.status >= 200 && r.status < 300);
  const messageIds = (): string[] => {
    const ids: string[] = [];
    for (const r of accepted()) for (const m of r.messages) if (m !== null && typeof m === 'object' && typeof m.id === 'string') ids.push(m.id);
    return ids;
  };

  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    count: () => received.length,
    messageIds,
    duplicates: () => {
      const seen = new Map<string, number>();
      for (const id of messageIds()) seen.set(id, (seen.get(id) ?? 0) + 1);
      let dup = 0;
      for (const n of seen.values()) if (n > 1) dup++;
      return dup;
    },
    waitFor: (pred, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const tick = () => {
          let ok = false;
          try {
            ok = pred();
          } catch (err) {
            reject(err);
            return;
          }
          if (ok) resolve();
          else if (Date.now() > deadline) reject(new Error(`webhook receiver: condition not met within ${timeoutMs} ms (${received.length} requests received)`));
          else setTimeout(tick, 5);
        };
        tick();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
