/**
 * Health the way orchestrators expect it, plus a summary for people:
 * - `GET /health/live`: 200 while the process serves HTTP (liveness; restart it when this fails).
 * - `GET /health/ready`: 200 when the database and Redis answer, else 503 (readiness; send no
 *   traffic while it is 503).
 * - `GET /health`: every check (database, Redis, channels) in one answer, 200 or 503 `"degraded"`.
 * None needs the token; without it an answer says only `ok` per check — error texts, latencies,
 * the version and the node id only go to a caller that sends `Authorization: Bearer <token>`.
 */
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db.ts';
import { tokenMatches } from './auth.ts';
import { route, type RouteDef } from './route-table.ts';

type Check = () => Promise<{ ok: boolean; [k: string]: unknown }>;

export interface HealthDeps {
  database: Database;
  apiToken: string;
  nodeId: string;
  version: string;
  /** More checks by name; `redis` (when given) also decides readiness. */
  checks?: Record<string, Check>;
}

/** Checks that decide readiness (the rest only show in the summary). */
const READINESS = new Set(['database', 'redis']);

function bearer(req: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

export function healthRoutes(deps: HealthDeps): RouteDef[] {
  const started = Date.now();
  const all: Record<string, Check> = {
    database: async () => {
      const t0 = performance.now();
      await deps.database.ping();
      return { ok: true, kind: deps.database.kind, latencyMs: Math.round((performance.now() - t0) * 10) / 10 };
    },
    ...deps.checks,
  };
  const run = async (names: string[], detailed: boolean) => {
    const checks: Record<string, { ok: boolean; [k: string]: unknown }> = {};
    await Promise.all(
      names.map(async (name) => {
        let r: { ok: boolean; [k: string]: unknown };
        try {
          r = await all[name]!();
        } catch (err) {
          r = { ok: false, error: (err as Error).message };
        }
        checks[name] = detailed ? r : { ok: r.ok };
      }),
    );
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };
  const about = (req: FastifyRequest) =>
    tokenMatches(bearer(req), deps.apiToken)
      ? { detailed: true, extra: { version: deps.version, nodeId: deps.nodeId, uptimeSeconds: Math.round((Date.now() - started) / 1000) } }
      : { detailed: false, extra: {} };
  return [
    route({
      method: 'GET',
      url: '/health',
      tag: 'health',
      public: true,
      summary: 'Every check (database, Redis, channels): 200 "ok" or 503 "degraded"; details with the token',
      handler: async ({ req, reply }) => {
        const { detailed, extra } = about(req);
        const r = await run(Object.keys(all), detailed);
        reply.status(r.ok ? 200 : 503);
        return { status: r.ok ? 'ok' : 'degraded', ...extra, checks: r.checks };
      },
    }),
    route({
      method: 'GET',
      url: '/health/live',
      tag: 'health',
      public: true,
      summary: 'Liveness: 200 while the process serves HTTP',
      handler: async () => ({ status: 'ok' }),
    }),
    route({
      method: 'GET',
      url: '/health/ready',
      tag: 'health',
      public: true,
      summary: 'Readiness: 200 when the database and Redis answer, else 503; details with the token',
      handler: async ({ req, reply }) => {
        const { detailed, extra } = about(req);
        const r = await run(
          Object.keys(all).filter((n) => READINESS.has(n)),
          detailed,
        );
        reply.status(r.ok ? 200 : 503);
        return { status: r.ok ? 'ready' : 'not_ready', ...extra, checks: r.checks };
      },
    }),
  ];
}
