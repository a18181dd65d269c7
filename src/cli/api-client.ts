/**
 * The CLI's view of the gateway API: base URL and token from the environment, JSON in and out,
 * and errors turned into one readable line.
 */
import { readFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import path from 'node:path';
import { TOKEN_FILE } from './constants.ts';

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface ClientConfig {
  baseUrl: string;
  token: string | undefined;
}

/** CHITTY_URL (default http://127.0.0.1:3000) and CHITTY_API_TOKEN, else the token file in DATA_DIR. */
export function clientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const baseUrl = (env.CHITTY_URL || `http://127.0.0.1:${env.PORT || 3000}`).replace(/\/+$/, '');
  let token = env.CHITTY_API_TOKEN || undefined;
  if (!token) {
    try {
      token = readFileSync(path.join(env.DATA_DIR || './data', TOKEN_FILE), 'utf8').trim() || undefined;
    } catch {
      token = undefined;
    }
  }
  return { baseUrl, token };
}

export class ApiClient {
  constructor(readonly config: ClientConfig) {}

  async request<T = unknown>(method: string, route: string, body?: unknown): Promise<T> {
    const url = new URL(`${this.config.baseUrl}/api/v1${route}`);
    let res: { status: number; text: string };
    try {
      res = await send(
        url,
        method,
        {
          ...(this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          'x-chitty-platform': 'cli',
        },
        body === undefined ? undefined : JSON.stringify(body),
      );
    } catch (err) {
      const cause = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new CliError(`cannot reach the gateway at ${this.config.baseUrl} (${cause}); is it running (npm start)? Set CHITTY_URL to point elsewhere.`, 3);
    }
    const { text } = res;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status < 200 || res.status > 299) {
      const e = (json as { error?: { message?: string } } | undefined)?.error;
      const hint = res.status === 401 ? ' Set CHITTY_API_TOKEN (printed by npm start, saved in DATA_DIR/api-token).' : '';
      throw new CliError(`${method} ${route} failed (${res.status}): ${e?.message ?? text.slice(0, 200)}${hint}`, res.status === 401 ? 4 : 1);
    }
    return json as T;
  }

  /** The WebSocket URL with the token as a query parameter. */
  wsUrl(): string {
    const u = new URL(`${this.config.baseUrl.replace(/^http/, 'ws')}/ws`);
    if (this.config.token) u.searchParams.set('token', this.config.token);
    return u.toString();
  }
}

/**
 * One HTTP(S) request through node:http: a call that only talks HTTP does not pay for loading
 * fetch (undici), ~20 ms of a CLI start. Resolves to the status and the body as text.
 */
async function send(url: URL, method: string, headers: OutgoingHttpHeaders, body: string | undefined): Promise<{ status: number; text: string }> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
