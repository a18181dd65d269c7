/**
 * The spec's WebSocket API at /ws: `subscribe` with domains and filters, then a `state_update`
 * (or `conflict`, `state_snapshot`, `event`) message for every matching change made through any
 * path; clients may send `state_update` themselves. Token required (checked before the upgrade).
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { DomainSchema } from '../hub/domains.ts';
import { HubError } from '../hub/errors.ts';
import { formatIssues, type Hub } from '../hub/hub.ts';
import type { Logger } from '../log.ts';
import { messageMatches, SubscriptionFilterSchema, type Subscription } from '../sync/subscription-filter.ts';
import type { SyncMessage } from '../sync/sync-message.ts';

/** Longest a client message may be (bytes). */
export const WS_MAX_PAYLOAD = 1024 * 1024;
/** A client that does not read fast enough is dropped once this much is waiting (bytes). */
export const WS_MAX_BUFFERED = 8 * 1024 * 1024;
export const WS_HEARTBEAT_MS = 30_000;

const ClientMessage = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('subscribe'),
    domains: z.array(DomainSchema).max(7).optional(),
    filters: SubscriptionFilterSchema.optional(),
    /** The client's platform (web, cli, mcp…): a broadcast aimed at other platforms skips it. */
    platform: z.string().trim().toLowerCase().min(1).max(50).optional(),
    id: z.string().max(100).optional(),
  }),
  z.strictObject({ type: z.literal('unsubscribe'), id: z.string().max(100).optional() }),
  z.strictObject({ type: z.literal('ping'), id: z.string().max(100).optional() }),
  z.strictObject({
    type: z.literal('state_update'),
    id: z.string().max(100).optional(),
    domain: DomainSchema,
    operation: z.enum(['create', 'update', 'delete']).optional(),
    entity: z.record(z.string(), z.unknown()),
  }),
]);
type ClientMessage = z.infer<typeof ClientMessage>;

/** Where committed changes come from (the hub in one process; Redis pub/sub across processes). */
export interface ChangeSource {
  on(event: 'change', listener: (m: SyncMessage) => void): unknown;
  off(event: 'change', listener: (m: SyncMessage) => void): unknown;
}

/**
 * Whether a message reaches a WebSocket client: a message aimed at some platforms (`chitty sync
 * --platform web`) reaches clients that said they are one of them; clients that named no platform
 * get every message, as before platforms could be named.
 */
export function reachesPlatform(m: SyncMessage, platform: string | undefined): boolean {
  if (!platform || !m.target || m.target.broadcast) return true;
  return (m.target.platforms ?? []).includes(platform);
}

/** The server → client form of a change: the spec's flat shape plus the full SyncMessage. */
export function toWire(m: SyncMessage) {
  return {
    type: m.type,
    domain: m.payload.domain,
    operation: m.payload.operation,
    entity: { ...m.payload.entity.data, chittyId: m.payload.entity.chittyId },
    message: m,
  };
}

export function registerWebSocket(app: FastifyInstance, hub: Hub, changes: ChangeSource, logger: Logger): void {
  const clients = new Set<{ socket: WebSocket; sub: Subscription | null; platform?: string | undefined; alive: boolean }>();

  const onChange = (m: SyncMessage) => {
    if (clients.size === 0) return;
    let wire: string | undefined;
    for (const c of clients) {
      if (!c.sub || !messageMatches(m, c.sub) || !reachesPlatform(m, c.platform)) continue;
      if (c.socket.bufferedAmount > WS_MAX_BUFFERED) {
        logger.warn({ buffered: c.socket.bufferedAmount }, 'ws client too slow; closing');
        c.socket.close(1013, 'too slow: reconnect and resubscribe');
        continue;
      }
      wire ??= JSON.stringify(toWire(m));
      c.socket.send(wire);
    }
  };
  changes.on('change', onChange);

  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }, WS_HEARTBEAT_MS);
  heartbeat.unref();

  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    changes.off('change', onChange);
    for (const c of clients) c.socket.close(1001, 'server shutting down');
  });

  app.get('/ws', { websocket: true }, (socket, req) => {
    const client: { socket: WebSocket; sub: Subscription | null; platform?: string | undefined; alive: boolean } = { socket, sub: null, alive: true };
    clients.add(client);
    const send = (o: unknown) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(o));
    socket.on('pong', () => (client.alive = true));
    socket.on('close', () => clients.delete(client));
    socket.on('error', (err) => logger.debug({ err }, 'ws error'));
    send({ type: 'welcome', nodeId: hub.nodeId, protocol: 'chittychat.v1' });

    socket.on('message', (raw, isBinary) => {
      client.alive = true;
      let parsed: unknown;
      try {
        parsed = JSON.parse(isBinary ? Buffer.from(raw as Buffer).toString('utf8') : raw.toString());
      } catch {
        return send({ type: 'error', code: 'bad_json', message: 'Messages must be JSON objects, e.g. {"type":"subscribe","domains":["todos"]}.' });
      }
      const r = ClientMessage.safeParse(parsed);
      if (!r.success) return send({ type: 'error', code: 'bad_message', message: formatIssues(r.error.issues) });
      handle(r.data).catch((err: unknown) => {
        const e = err instanceof HubError ? { code: err.code, message: err.message } : { code: 'internal', message: 'Internal error' };
        if (!(err instanceof HubError)) req.log.error({ err }, 'ws message failed');
        send({ type: 'error', ...e, ...(r.data.id ? { id: r.data.id } : {}) });
      });
    });

    async function handle(m: ClientMessage): Promise<void> {
      const id = m.id ? { id: m.id } : {};
      switch (m.type) {
        case 'subscribe':
          client.sub = { ...(m.domains ? { domains: m.domains } : {}), ...(m.filters ? { filters: m.filters } : {}) };
          client.platform = m.platform;
          send({ type: 'subscribed', domains: m.domains ?? [], filters: m.filters ?? {}, ...id });
          return;
        case 'unsubscribe':
          client.sub = null;
          send({ type: 'unsubscribed', ...id });
          return;
        case 'ping':
          send({ type: 'pong', ...id });
          return;
        case 'state_update': {
          const actor = { platform: 'websocket' };
          const { chittyId, ...data } = m.entity;
          const op = m.operation ?? (chittyId === undefined ? 'create' : 'update');
          if (op !== 'create' && typeof chittyId !== 'string') throw new HubError(`state_update ${op} needs entity.chittyId.`, 'invalid_change', 400);
          const entity =
            op === 'create'
              ? await hub.create(m.domain, data, actor)
              : op === 'delete'
                ? await hub.remove(m.domain, chittyId as string, actor)
                : await hub.update(m.domain, chittyId as string, data, actor);
          send({ type: 'ack', operation: op, entity, ...id });
        }
      }
    }
  });
}
