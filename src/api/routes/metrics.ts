/**
 * `GET /metrics`: Prometheus exposition (prom-client) of this process — queue depths, deliveries
 * by channel and status, attempts, stage latencies, process metrics (src/telemetry/metrics.ts).
 * Needs `Authorization: Bearer` with the API token or, when set, METRICS_TOKEN (a scraper's own
 * token, so Prometheus never holds the API token).
 */
import type { FastifyRequest } from 'fastify';
import { enableProcessMetrics, scrape } from '../../telemetry/metrics.ts';
import { tokenMatches } from '../auth.ts';
import { route, type RouteDef } from '../route-table.ts';

export interface MetricsDeps {
  apiToken: string;
  /** METRICS_TOKEN: also accepted here, and only here. */
  metricsToken?: string | undefined;
}

function bearer(req: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

export function metricsRoutes(deps: MetricsDeps): RouteDef[] {
  enableProcessMetrics();
  return [
    route({
      method: 'GET',
      url: '/metrics',
      tag: 'health',
      summary: 'Prometheus metrics (text exposition): queue depths, deliveries, attempts, stage latencies, process; the API token or METRICS_TOKEN',
      auth: (req) => {
        const presented = bearer(req);
        return tokenMatches(presented, deps.apiToken) || (deps.metricsToken !== undefined && tokenMatches(presented, deps.metricsToken));
      },
      handler: async ({ reply }) => {
        const { contentType, body } = await scrape();
        reply.header('content-type', contentType);
        return body;
      },
    }),
  ];
}
