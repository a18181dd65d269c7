/**
 * `chitty mcp`: the MCP server on stdin/stdout for Claude Desktop and Claude Code. A thin process:
 * its tools call the gateway's HTTP API (CHITTY_URL, CHITTY_API_TOKEN) and its resource
 * notifications come from the gateway's /ws stream. Only MCP messages go to stdout.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import WebSocket from 'ws';
import { ApiClient, type ClientConfig } from '../cli/api-client.ts';
import { type ChangeFeed, createMcpServer, type EntityChange } from './server.ts';

export const MCP_VERSION = '0.1.0';

/** The /ws stream as a ChangeFeed: every change, reconnecting after a drop until stopped. */
function wsChanges(client: ApiClient): ChangeFeed {
  return (listener) => {
    let stopped = false;
    let socket: WebSocket | undefined;
    const open = () => {
      if (stopped) return;
      const ws = new WebSocket(client.wsUrl());
      socket = ws;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', platform: 'mcp' })));
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString()) as {
          domain?: string;
          operation?: string;
          entity?: { chittyId?: string };
          message?: { target?: { broadcast: boolean; platforms?: string[]; models?: string[] } };
        };
        if (!m.domain || !m.entity?.chittyId) return;
        const t = m.message?.target;
        const change: EntityChange = { domain: m.domain, chittyId: m.entity.chittyId, operation: m.operation ?? 'update' };
        if (t && !t.broadcast) change.target = { ...(t.platforms ? { platforms: t.platforms } : {}), ...(t.models ? { models: t.models } : {}) };
        listener(change);
      });
      ws.on('error', (err) => process.stderr.write(`chitty mcp: live changes: ${err.message}\n`));
      // Without the stream the tools still work; resource notifications resume once it is back.
      ws.on('close', () => {
        if (!stopped) setTimeout(open, 2000).unref();
      });
    };
    open();
    return () => {
      stopped = true;
      socket?.close();
    };
  };
}

/** Serve MCP on stdio until stdin closes (or `untilStopped` resolves). */
export async function serveStdio(config: ClientConfig, env: NodeJS.ProcessEnv, untilStopped?: () => Promise<void>): Promise<void> {
  const client = new ApiClient(config);
  const { server, close } = createMcpServer({ caller: client, changes: wsChanges(client), version: MCP_VERSION, ...(env.CHITTY_MODEL ? { model: env.CHITTY_MODEL } : {}) });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await (untilStopped ? Promise.race([closed, untilStopped()]) : closed);
  close();
  await server.close();
}
