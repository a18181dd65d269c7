/**
 * Wires the gateway together from a Config: database, hub, HTTP/WS server. Used by the process
 * entry point (src/main.ts) and by integration tests, so both run the same thing.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db.ts';
import { Hub } from './hub/hub.ts';
import { createLogger, type Logger } from './log.ts';
import { resolveApiToken, type ResolvedToken } from './api/auth.ts';
import { buildServer } from './api/server.ts';
import { conversationRoutes } from './api/routes/conversation.ts';
import { ConversationCore } from './core/conversation-core.ts';

export interface Gateway {
  config: Config;
  logger: Logger;
  database: Database;
  hub: Hub;
  core: ConversationCore;
  app: FastifyInstance;
  token: ResolvedToken;
  /** Base URL once listening (e.g. http://127.0.0.1:3000). */
  url: string;
  close(): Promise<void>;
}

export interface GatewayOptions {
  logger?: Logger;
  /** Listen on config.host:config.port (default true). Tests may use port 0. */
  listen?: boolean;
}

export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, databaseSchema: config.databaseSchema, dataDir: config.dataDir });
  const hub = new Hub(database, config.nodeId);
  const token = await resolveApiToken(config.apiToken, config.dataDir);
  const core = new ConversationCore(hub, database, logger, { allowlist: config.allowlist });
  const app = await buildServer({ hub, database, logger, apiToken: token.token, routes: conversationRoutes(core) });
  let url = '';
  if (opts.listen !== false) {
    url = await app.listen({ host: config.host, port: config.port });
    url = url.replace('[::1]', 'localhost');
  }
  let closed = false;
  return {
    config, logger, database, hub, core, app, token, url,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await database.close();
    },
  };
}
