/**
 * MCP over Streamable HTTP at `/mcp`, behind the API's bearer token (the server's auth hook runs
 * first). One MCP server per session (`Mcp-Session-Id`); its tools call the API in-process with
 * `app.inject`, and its resource notifications come from the gateway's live changes.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { SyncMessage } from '../sync/sync-message.ts';
import { type ChangeFeed, createMcpServer, type EntityChange, type GatewayCaller } from './server.ts';

export const MCP_PATH = '/mcp';

interface Changes {
  on(event: 'change', listener: (m: SyncMessage) => void): unknown;
  off(event: 'change', listener: (m: SyncMessage) => void): unknown;
}

/** A SyncMessage as the entity change MCP notifications need. */
export function entityChange(m: SyncMessage): EntityChange {
  const c: EntityChange = { domain: m.payload.domain, chittyId: m.payload.entity.chittyId, operation: m.payload.operation };
  const t = m.target as { broadcast: boolean; platforms?: string[]; models?: string[] } | undefined;
  if (t && !t.broadcast) c.target = { ...(t.platforms ? { platforms: t.platforms } : {}), ...(t.models ? { models: t.models } : {}) };
  return c;
}

export function registerMcpHttp(app: FastifyInstance, opts: { apiPrefix: string; token: string; changes: Changes; version: string }): void {
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; close: () => void }>();
  const caller: GatewayCaller = {
    async request<T>(method: string, route: string, body?: unknown): Promise<T> {
      const res = await app.inject({
        method: method as 'GET',
        url: `${opts.apiPrefix}${route}`,
        headers: { authorization: `Bearer ${opts.token}`, 'x-chitty-platform': 'mcp', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      const json = res.body ? JSON.parse(res.body) : undefined;
      if (res.statusCode >= 400) throw new Error(`${method} ${route} failed (${res.statusCode}): ${json?.error?.message ?? res.body.slice(0, 200)}`);
      return json as T;
    },
  };
  const feed: ChangeFeed = (listener) => {
    const on = (m: SyncMessage) => listener(entityChange(m));
    opts.changes.on('change', on);
    return () => opts.changes.off('change', on);
  };

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: MCP_PATH,
    handler: async (req, reply) => {
      const sid = req.headers['mcp-session-id'];
      let session = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (!session) {
        if (req.method !== 'POST' || !isInitializeRequest(req.body) || sid !== undefined) {
          return reply.status(sid === undefined ? 400 : 404).send({
            jsonrpc: '2.0',
            error: { code: -32000, message: sid === undefined ? 'Send an initialize request first (no Mcp-Session-Id).' : 'Unknown or closed MCP session; initialize again.' },
            id: null,
          });
        }
        const mcp = createMcpServer({ caller, changes: feed, version: opts.version });
        const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            sessions.set(id, { transport, close: mcp.close });
          },
        });
        transport.onclose = () => {
          mcp.close();
          if (transport.sessionId) sessions.delete(transport.sessionId);
        };
        await mcp.server.connect(transport);
        session = { transport, close: mcp.close };
      }
      reply.hijack();
      await session.transport.handleRequest(req.raw, reply.raw, req.body);
    },
  });
  app.addHook('onClose', async () => {
    for (const s of sessions.values()) await s.transport.close();
    sessions.clear();
  });
}
