/**
 * Mounts channels' webhook routes in the gateway's HTTP server and runs each request the same way
 * (STYLE.md rule 7): raw bytes → verify (401, or the refusal's own status) → parse (400) → record in the inbound log →
 * acknowledge. The answer rides in the acknowledgement when the core has it within the route's
 * `ackWithinMs`; otherwise the platform gets the route's deferred acknowledgement at once and the
 * answer follows through `late`. No platform API call ever holds an acknowledgement.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InboundRequest, ProtocolAnswer, TokenRoute, WebhookRoute } from '../../src/core/channel-adapter.ts';
import type { ConversationCore, CoreResult } from '../../src/core/conversation-core.ts';
import { ChittyError } from '../../src/core/chitty-error.ts';
import type { Logger } from '../../src/log.ts';
import { observeInbound } from '../../src/telemetry/pipeline.ts';

/** Largest webhook body accepted (413 above). Platforms send a few KB; email is not a webhook here. */
export const CHANNEL_BODY_LIMIT = 1024 * 1024;

export interface RouteRunnerOptions {
  core: ConversationCore;
  logger: Logger;
  /** The gateway's public base URL (`PUBLIC_URL`), for signatures over the called URL. */
  publicUrl?: string;
}

const errorJson = (code: string, message: string) => JSON.stringify({ error: { code, message } });

function send(reply: FastifyReply, a: ProtocolAnswer): FastifyReply {
  for (const [k, v] of Object.entries(a.headers ?? {})) reply.header(k, v);
  return reply.status(a.status).header('content-type', a.contentType).send(a.body);
}

/** The URL the platform called, as it saw it: PUBLIC_URL + path, else the forwarded host. */
export function calledUrl(req: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return `${publicUrl.replace(/\/+$/, '')}${req.url}`;
  const proto = String(req.headers['x-forwarded-proto'] ?? req.protocol)
    .split(',')[0]!
    .trim();
  const host = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost')
    .split(',')[0]!
    .trim();
  return `${proto}://${host}${req.url}`;
}

function toInbound(req: FastifyRequest, publicUrl: string | undefined): InboundRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  const body = req.body;
  return {
    method: req.method,
    url: req.url,
    publicUrl: calledUrl(req, publicUrl),
    headers,
    rawBody: Buffer.isBuffer(body) ? body : Buffer.alloc(0),
    receivedAt: new Date(),
  };
}

/** Seconds a platform is asked to wait before re-delivering what we could not take. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * A request we could not take. What the sender got wrong (a body that does not parse, a field that
 * fails validation) is a 400 and is not worth re-sending; anything else (the database is down)
 * is a 503 with Retry-After, so the platform delivers it again and nothing is lost.
 */
function refuse(err: unknown, url: string, logger: Logger): ProtocolAnswer {
  const e = err as Error & { code?: string };
  const badInput = err instanceof SyntaxError || e?.name === 'ZodError' || (err instanceof ChittyError && !err.retryable && e.code !== 'unknown');
  if (badInput) {
    logger.warn({ route: url, err: e.message }, 'webhook refused: the body could not be read; nothing was recorded');
    return { status: 400, contentType: 'application/json', body: errorJson('bad_request', e.message) };
  }
  logger.error({ route: url, err }, 'webhook not taken: the gateway could not record it; the platform is asked to re-deliver');
  return {
    status: 503,
    contentType: 'application/json',
    body: errorJson('unavailable', `Could not record the message; send it again in ${RETRY_AFTER_SECONDS} s.`),
    headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
  };
}

/** Settles with the answer, or with `undefined` after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Run one verified, parsed request: record, then answer inline or acknowledge and answer late. */
export async function runWebhook<R>(route: WebhookRoute<R>, req: InboundRequest, opts: RouteRunnerOptions): Promise<ProtocolAnswer> {
  const { core, logger } = opts;
  const verified = await route.verify(req);
  if (!verified.ok) {
    logger.warn({ route: route.url, reason: verified.reason }, 'webhook refused: signature did not verify; nothing was recorded');
    return { status: verified.status ?? 401, contentType: 'application/json', body: errorJson('bad_signature', verified.reason) };
  }
  let parsed: Awaited<ReturnType<WebhookRoute<R>['parse']>>;
  try {
    parsed = await route.parse(req);
  } catch (err) {
    return refuse(err, route.url, logger);
  }
  if (parsed.kind === 'protocol') return parsed.answer;
  if (parsed.kind === 'ignore') {
    logger.debug({ route: route.url, reason: parsed.reason, detail: parsed.detail }, 'webhook ignored');
    return { status: 200, contentType: 'text/plain', body: '' };
  }
  const { respond } = parsed;
  // Recorded (committed) before the platform hears anything back.
  let answer: Promise<CoreResult>;
  try {
    ({ answer } = await core.submit(parsed.message));
  } catch (err) {
    return refuse(err, route.url, logger);
  }
  const sendLate = (p: Promise<CoreResult>) =>
    void p
      .then((r) => (r.duplicate ? undefined : route.late(r, respond)))
      .catch((err: unknown) => logger.error({ err, route: route.url, message: parsed.message.providerMessageId }, 'could not send the answer after the acknowledgement; the command itself ran'));
  if (route.alwaysLate?.(respond)) {
    sendLate(answer);
    return route.deferred(respond);
  }
  const inTime = await within(answer, route.ackWithinMs);
  if (inTime) return route.inline(inTime, respond);
  sendLate(answer);
  return route.deferred(respond);
}

/** Mount the routes (public: platforms sign their requests; no API token). */
export async function mountWebhookRoutes(app: FastifyInstance, routes: WebhookRoute<any>[], opts: RouteRunnerOptions): Promise<void> {
  if (routes.length === 0) return;
  await app.register(async (scope) => {
    // Raw bytes for every content type: signatures are over exactly what was sent.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: CHANNEL_BODY_LIMIT }, (_req, body, done) => done(null, body));
    for (const route of routes) {
      scope.route({
        method: route.method,
        url: route.url,
        bodyLimit: CHANNEL_BODY_LIMIT,
        config: { public: true },
        handler: async (req, reply) => send(reply, await observeInbound(route.url, () => runWebhook(route, toInbound(req, opts.publicUrl), opts), reply)),
      });
    }
  });
}

/** Mount channels' token-protected routes (the server's auth hook checks the API token). */
export function mountTokenRoutes(app: FastifyInstance, routes: TokenRoute[]): void {
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (req, reply) => send(reply, await route.handle((req.query ?? {}) as Record<string, string | undefined>)),
    });
  }
}
