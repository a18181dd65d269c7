/**
 * `GET /metrics` on a port of its own (METRICS_PORT): how a `worker` process, which serves no
 * HTTP, is scraped — its relay, fan-out and delivery figures live in that process. Same answer and
 * same tokens (the API token or METRICS_TOKEN) as the web server's route (src/api/routes/metrics.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tokenMatches } from '../api/auth.ts';
import { enableProcessMetrics, scrape } from './metrics.ts';

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  apiToken: string;
  metricsToken?: string | undefined;
}

export interface MetricsServer {
  /** `http://host:port`. */
  url: string;
  close(): Promise<void>;
}

const json = (code: string, message: string) => JSON.stringify({ error: { code, message } });

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  enableProcessMetrics();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(json('not_found', 'Only GET /metrics is served on METRICS_PORT.'));
      return;
    }
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!tokenMatches(presented, opts.apiToken) && !(opts.metricsToken !== undefined && tokenMatches(presented, opts.metricsToken))) {
      res
        .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="chittychat"' })
        .end(json('unauthorized', 'Send the API token or METRICS_TOKEN as "Authorization: Bearer <token>".'));
      return;
    }
    scrape().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'application/json' }).end(json('internal', (err as Error).message)),
    );
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
