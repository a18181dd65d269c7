/**
 * The HTTP server: /health, /api/v1 (bearer token, zod-validated, OpenAPI described), /ws.
 * Every error leaves as `{ "error": { "code", "message", "details"? } }` with a fitting status.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { Database } from '../db.ts';
import { HubError } from '../hub/errors.ts';
import type { Hub } from '../hub/hub.ts';
import type { Logger } from '../log.ts';
import { presentedToken, tokenMatches } from './auth.ts';
import { healthRoutes } from './health.ts';
import { redactSecrets } from '../redact.ts';
import { DASHBOARD_BASE_PATH, tokenFromCookie } from './queue-dashboard.ts';
import { openApiDocument, registerRoutes, route, type RouteDef } from './route-table.ts';
import { entityRoutes } from './routes/entities.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { syncRoutes, type DeliveryCounts } from './routes/sync.ts';
import { registerWebSocket, WS_MAX_PAYLOAD, type ChangeSource } from './ws.ts';
import { registerMcpHttp } from '../mcp/http.ts';
import { registerWebPage } from '../web/page.ts';
import { checkSession } from '../web/session.ts';

export const API_PREFIX = '/api/v1';
/** Largest request body accepted; larger ones get 413. */
export const BODY_LIMIT = 1024 * 1024;
export const VERSION = '0.1.0';
/** Default time for a whole request (headers and body) to arrive (CHITTY_REQUEST_TIMEOUT_MS). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Most time for a request's headers to arrive. */
export const HEADERS_TIMEOUT_MS = 10_000;

export interface ServerDeps {
  hub: Hub;
  database: Database;
  logger: Logger;
  apiToken: string;
  /** Changes for WebSocket clients; the hub itself unless a cross-process source is given. */
  changes?: ChangeSource;
  /** Routes other modules add under /api/v1 (commands, subscriptions, deliveries…). */
  routes?: RouteDef[];
  /** Deliveries by status for an entity (sync status). */
  deliveryCounts?: DeliveryCounts;
  /** Registers more plugins (the queue dashboard) after the auth hook. */
  plugins?: (app: FastifyInstance, isValidToken: (t: string) => boolean) => Promise<void>;
  /** PUBLIC_URL: the OpenAPI document's `servers` URL (a ChatGPT Action needs an absolute one). */
  publicUrl?: string;
  /** Time for a whole request to arrive before 408 and the connection closes (default REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  /** METRICS_TOKEN: a second bearer token GET /metrics accepts. */
  metricsToken?: string | undefined;
  /** Extra health checks (e.g. Redis), each returning ok and a detail. */
  health?: Record<string, () => Promise<{ ok: boolean; [k: string]: unknown }>>;
}

function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details !== undefined ? { details } : {}) } };
}

const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large', `Request body is larger than ${BODY_LIMIT} bytes.`],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Send JSON with Content-Type: application/json.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'bad_json', 'The body is empty but Content-Type is application/json.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'bad_json', 'The body is not valid JSON.'],
};

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { hub, database, logger, apiToken } = deps;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // A request (headers and body) must arrive within requestTimeoutMs, its headers within 10 s of
    // that; a slow client is cut off (408) also after an early answer such as 401. Checked every second.
    requestTimeout: deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    http: { headersTimeout: Math.min(HEADERS_TIMEOUT_MS, deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS), connectionsCheckingInterval: Math.min(1000, deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) },
    forceCloseConnections: 'idle',
  });

  app.setErrorHandler((err: FastifyError | HubError | Error, req, reply) => {
    if (err instanceof HubError) return reply.status(err.status).send(errorBody(err.code, err.message, err.details));
    const code = (err as FastifyError).code;
    const known = code ? FASTIFY_CODES[code] : undefined;
    if (known) return reply.status(known[0]).send(errorBody(known[1], known[2]));
    if (err instanceof SyntaxError) return reply.status(400).send(errorBody('bad_json', `The body is not valid JSON: ${err.message}`));
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) return reply.status(status).send(errorBody(code?.toLowerCase() ?? 'bad_request', err.message));
    req.log.error({ err, url: redactSecrets(req.url) }, 'request failed');
    return reply.status(500).send(errorBody('internal', 'Internal error; the request changed nothing that was not committed. See the server log.'));
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send(errorBody('not_found', `No route ${req.method} ${req.url.split('?')[0]}.`)));

  // Before the auth hook: the plugin's own hooks must see refused upgrades to close their sockets.
  await app.register(websocket, { options: { maxPayload: WS_MAX_PAYLOAD } });

  app.addHook('onRequest', async (req, reply) => {
    if ((req.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    const presented = presentedToken(req) ?? (req.url.startsWith(DASHBOARD_BASE_PATH) ? tokenFromCookie(req.headers.cookie) : undefined);
    if (!tokenMatches(presented, apiToken)) {
      const session = checkSession(req, apiToken); // the web page's cookie (src/web/session.ts)
      if (session?.ok) return;
      if (session) return reply.status(session.status).send(errorBody(session.code, session.message));
      reply.header('WWW-Authenticate', 'Bearer realm="chittychat"');
      return reply.status(401).send(errorBody('unauthorized', 'Send the API token as "Authorization: Bearer <token>" (CHITTY_API_TOKEN, or DATA_DIR/api-token).'));
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  const health = [
    ...healthRoutes({ database, apiToken, nodeId: hub.nodeId, version: VERSION, ...(deps.health ? { checks: deps.health } : {}) }),
    ...metricsRoutes({ apiToken, metricsToken: deps.metricsToken }),
  ];
  registerRoutes(app, '', health);

  if (deps.plugins) await deps.plugins(app, (t) => tokenMatches(t, apiToken));
  const apiRoutes = [...syncRoutes(hub, deps.deliveryCounts), ...entityRoutes(hub), ...(deps.routes ?? [])];
  const described = openApiDocument([...health, ...apiRoutes.map((r) => ({ ...r, url: API_PREFIX + r.url }))], '', {
    title: 'ChittyChat gateway API',
    version: VERSION,
    description: 'One bot, many channels, one shared hub state. Bearer token: CHITTY_API_TOKEN.',
  });
  const document = { ...described, servers: [{ url: deps.publicUrl ? deps.publicUrl.replace(/\/+$/, '') : '/' }] };
  registerRoutes(app, '', [route({ method: 'GET', url: `${API_PREFIX}/openapi.json`, tag: 'meta', public: true, summary: 'This document', handler: async () => document })]);
  registerRoutes(app, API_PREFIX, apiRoutes);
  registerWebSocket(app, hub, deps.changes ?? hub, logger);
  registerMcpHttp(app, { apiPrefix: API_PREFIX, token: apiToken, changes: deps.changes ?? hub, version: VERSION });
  await registerWebPage(app, { apiToken });
  return app;
}
