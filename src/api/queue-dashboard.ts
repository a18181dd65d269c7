/**
 * The BullMQ dashboard (bull-board) at `/admin/queues`, behind the API token.
 *
 * The dashboard's routes are not public: the gateway's auth hook must pass them. A browser opens
 * `/admin/queues?token=<token>` once; that response sets an HttpOnly, SameSite=Strict cookie
 * (`chitty_token`, path `/admin/queues`) so the page's own script, style and `api/*` requests,
 * which never carry `?token=`, are authorised too — provided the auth hook also accepts the token
 * from {@link tokenFromCookie}. See https://github.com/felixmosh/bull-board.
 */
import { createBullBoard } from '@bull-board/api';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where the dashboard is mounted unless told otherwise. */
export const DASHBOARD_BASE_PATH = '/admin/queues';
/** The cookie that carries the API token for the dashboard's own requests. */
export const DASHBOARD_COOKIE = 'chitty_token';

export interface QueueDashboardOptions {
  /** Mount point (default `/admin/queues`); the cookie is scoped to it. */
  basePath?: string;
  /**
   * Checks a `?token=` before it is put in a cookie. The gateway's auth hook already refuses a
   * bad token before the dashboard sees the request; pass this when that hook might not run first.
   */
  isValidToken?: (token: string) => boolean;
}

/**
 * The API token from a `Cookie` header (`chitty_token=…`), or undefined. Parses the header
 * without a dependency (RFC 6265 `name=value` pairs separated by `;`); the value may be quoted and
 * is percent-decoded. When the cookie appears twice the first one (the most specific path) wins.
 */
export function tokenFromCookie(cookieHeader: string | undefined, name: string = DASHBOARD_COOKIE): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!value) return undefined;
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/** The `Set-Cookie` value that hands the dashboard its token. */
export function dashboardCookie(token: string, basePath: string = DASHBOARD_BASE_PATH, secure = false): string {
  return `${DASHBOARD_COOKIE}=${encodeURIComponent(token)}; Path=${basePath}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/**
 * Mounts bull-board for `queues` under `opts.basePath` (default `/admin/queues`): the page, its
 * static assets under `<basePath>/static/` and its JSON API under `<basePath>/api/`. Register it
 * after the gateway's auth hook so that hook covers these routes; none of them is public.
 */
export async function registerQueueDashboard(app: FastifyInstance, queues: Queue[], opts: QueueDashboardOptions = {}): Promise<void> {
  const basePath = normaliseBasePath(opts.basePath ?? DASHBOARD_BASE_PATH);
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    // @bull-board/fastify pins its own copy of @bull-board/api (9.10.1 beside our 9.10.2), so
    // the two IServerAdapter declarations differ only by private fields; the shapes match.
    serverAdapter: serverAdapter as unknown as IServerAdapter,
    options: { uiConfig: { boardTitle: 'ChittyChat queues' } },
  });

  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
        // The token must not leak to the fonts the page loads from another origin.
        reply.header('referrer-policy', 'no-referrer');
        const token = (req.query as Record<string, unknown> | undefined)?.token;
        if (typeof token !== 'string' || !token) return;
        if (opts.isValidToken && !opts.isValidToken(token)) return;
        reply.header('set-cookie', dashboardCookie(token, basePath, req.protocol === 'https'));
        reply.header('cache-control', 'no-store');
      });
      await scope.register(serverAdapter.registerPlugin());
    },
    { prefix: basePath },
  );
}

function normaliseBasePath(p: string): string {
  const trimmed = `/${p.replace(/^\/+|\/+$/g, '')}`;
  if (trimmed === '/') throw new Error('The queue dashboard needs a base path other than "/", e.g. /admin/queues.');
  return trimmed;
}
