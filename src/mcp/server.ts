/**
 * The gateway as an MCP server (the spec's "Claude Desktop (MCP)"): tools and `chitty://` resources
 * over the hub. Every tool calls the gateway's HTTP API through a `GatewayCaller` — over the network
 * for `chitty mcp` (stdio), in-process for `/mcp` (Streamable HTTP) — so both transports behave the
 * same and nothing here loads server code. Chat commands run as the MCP client's own identity.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** Calls `/api/v1<route>` of the gateway with the API token; throws with the API's message on an error status. */
export interface GatewayCaller {
  request<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
}

/** A committed change, as much as MCP needs: which entity, and who the change was aimed at. */
export interface EntityChange {
  domain: string;
  chittyId: string;
  operation: string;
  /** Set when the change was aimed at some destinations only (`chitty sync --platform/--model`). */
  target?: { platforms?: string[]; models?: string[] };
}

/** Where changes come from; returns the function that stops listening. */
export type ChangeFeed = (listener: (c: EntityChange) => void) => () => void;

export interface McpOptions {
  caller: GatewayCaller;
  changes?: ChangeFeed;
  /** The model label of this client (`chitty sync --model`); default: the MCP client's name. */
  model?: string;
  version: string;
}

export const ENTITY_DOMAINS = ['todos', 'projects', 'topics', 'sessions'] as const;
type EntityDomain = (typeof ENTITY_DOMAINS)[number];
const SINGULAR: Record<EntityDomain, string> = { todos: 'todo', projects: 'project', topics: 'topic', sessions: 'session' };
const SYNC_DOMAINS = ['topics', 'projects', 'sessions', 'todos', 'contexts', 'repos', 'services', 'all'] as const;
const PREVIEW_CHANNELS = ['slack', 'discord', 'sms', 'whatsapp', 'email', 'text'] as const;

/** `chitty://todos/CHITTY-TODO-…` */
export const resourceUri = (domain: string, id: string): string => `chitty://${domain}/${id}`;

const id = z.string().min(1).max(200).describe('The ChittyID, e.g. CHITTY-TODO-01J…');
const extra = z.record(z.string(), z.unknown()).optional().describe('Any other fields of the entity (see GET /api/v1/openapi.json)');

/** What each domain's add/update tools accept beyond `fields`. */
const FIELDS: Record<EntityDomain, z.ZodRawShape> = {
  todos: {
    content: z.string().min(1).max(2000).describe('What to do'),
    status: z.enum(['pending', 'in_progress', 'blocked', 'completed']).describe('Status'),
    priority: z.enum(['low', 'medium', 'high', 'critical']).describe('Priority'),
    projectId: z.string().max(200).describe('The project (CHITTY-PROJ-…)'),
    sessionId: z.string().max(200).describe('The session (CHITTY-SESSION-…)'),
    deadline: z.string().max(40).describe('Due date, ISO 8601'),
    assignees: z.array(z.string().max(200)).max(50).describe('People (CHITTY-PERSON-…)'),
  },
  projects: {
    name: z.string().min(1).max(500).describe('Project name'),
    description: z.string().max(20_000).describe('Description'),
    status: z.enum(['planning', 'active', 'on-hold', 'completed']).describe('Status'),
  },
  topics: {
    title: z.string().min(1).max(500).describe('Topic title'),
    description: z.string().max(20_000).describe('Description'),
    status: z.enum(['active', 'archived', 'closed']).describe('Status'),
    projectId: z.string().max(200).describe('The project (CHITTY-PROJ-…)'),
  },
  sessions: {
    title: z.string().max(500).describe('Session title'),
    status: z.enum(['active', 'paused', 'crashed', 'ended']).describe('Status'),
    projectId: z.string().max(200).describe('The project (CHITTY-PROJ-…)'),
    topicId: z.string().max(200).describe('The topic (CHITTY-TOPIC-…)'),
  },
};
const REQUIRED: Record<EntityDomain, string[]> = { todos: ['content'], projects: ['name'], topics: ['title'], sessions: [] };

function optional(shape: z.ZodRawShape, required: string[] = []): z.ZodRawShape {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, required.includes(k) ? v : (v as z.ZodType).optional()]));
}

const json = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }] });

/** Drop undefined values and fold `fields` into the body. */
function body(args: Record<string, unknown>): Record<string, unknown> {
  const { fields, id: _id, ...rest } = args;
  return { ...((fields as Record<string, unknown> | undefined) ?? {}), ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) };
}

/** An MCP client's identity for chat commands: `api:mcp-<client name>`. */
export function mcpIdentity(clientName: string | undefined): string {
  return `api:mcp-${(clientName ?? 'client').replace(/[^A-Za-z0-9_.@-]/g, '-').slice(0, 90)}`;
}

/** Whether a change aimed at some destinations reaches an MCP client labelled `model`. */
export function reachesMcp(c: EntityChange, model: string | undefined): boolean {
  if (!c.target) return true;
  if (c.target.platforms?.includes('mcp')) return true;
  return !!model && !!c.target.models?.some((m) => model.toLowerCase().includes(m.toLowerCase()));
}

export function createMcpServer(opts: McpOptions): { server: McpServer; close: () => void } {
  const { caller } = opts;
  const server = new McpServer(
    { name: 'chittychat', title: 'ChittyChat hub', version: opts.version },
    {
      capabilities: { resources: { subscribe: true, listChanged: true } },
      instructions:
        'ChittyChat: one hub of todos, projects, topics and sessions shared with Slack, Discord, SMS, WhatsApp, email, the web page and the CLI. Use the entity tools, or `command` with the chat grammar (e.g. "todo add Pay rent --due tomorrow", then "todo list", "done 1").',
    },
  );
  const clientName = () => server.server.getClientVersion()?.name;

  for (const domain of ENTITY_DOMAINS) {
    const one = SINGULAR[domain];
    server.registerTool(
      `list_${domain}`,
      {
        title: `List ${domain}`,
        description: `List ${domain} in the hub, oldest first, optionally filtered. Returns {items, next}; pass next as "after" for the next page.`,
        inputSchema: {
          projectId: z.string().max(200).optional().describe('Only this project (CHITTY-PROJ-…)'),
          sessionId: z.string().max(200).optional().describe('Only this session'),
          status: z.string().max(40).optional().describe('Only this status'),
          ...(domain === 'todos' ? { assignee: z.string().max(200).optional().describe('Only todos assigned to this person') } : {}),
          limit: z.number().int().min(1).max(1000).optional().describe('Page size (default 100)'),
          after: z.string().max(200).optional().describe('Cursor: "next" from the previous page'),
        },
        annotations: { readOnlyHint: true },
      },
      async (args: Record<string, unknown>) => {
        const q = new URLSearchParams(
          Object.entries({ limit: 100, ...args })
            .filter(([, v]) => v !== undefined)
            .map(([k, v]): [string, string] => [k, String(v)]),
        );
        return json(await caller.request('GET', `/${domain}?${q}`));
      },
    );
    server.registerTool(
      `get_${one}`,
      {
        title: `Get a ${one}`,
        description: `One ${one} by ChittyID; "at" (ISO time) gives its state at that moment (time travel).`,
        inputSchema: { id, at: z.string().max(40).optional().describe('ISO 8601 time: the state at that moment') },
        annotations: { readOnlyHint: true },
      },
      async ({ id: eid, at }: { id: string; at?: string | undefined }) => json(await caller.request('GET', `/${domain}/${encodeURIComponent(eid)}${at ? `?at=${encodeURIComponent(at)}` : ''}`)),
    );
    server.registerTool(
      `add_${one}`,
      { title: `Add a ${one}`, description: `Create a ${one}; subscribers on every channel are told.`, inputSchema: { ...optional(FIELDS[domain], REQUIRED[domain]), fields: extra } },
      async (args: Record<string, unknown>) => json(await caller.request('POST', `/${domain}`, body(args))),
    );
    server.registerTool(
      `update_${one}`,
      { title: `Update a ${one}`, description: `Change the given fields of a ${one} (others stay); subscribers are told.`, inputSchema: { id, ...optional(FIELDS[domain]), fields: extra } },
      async (args: Record<string, unknown>) => json(await caller.request('PUT', `/${domain}/${encodeURIComponent(String(args.id))}`, body(args))),
    );
  }

  server.registerTool(
    'command',
    {
      title: 'Run a chat command',
      description:
        'Run any ChittyChat chat command exactly as a person would type it in Slack or SMS, e.g. "todo add Pay rent --due tomorrow --assign me", "todo list", "done 1", "project use Chronicle", "sync todos --dry-run", "help". Runs as this MCP client\'s own identity with its own conversation (so "done 1" refers to its last list). Returns the text reply and the neutral reply.',
      inputSchema: { text: z.string().min(1).max(20_000).describe('The command text') },
    },
    async ({ text }: { text: string }) => {
      const r = await caller.request<{ reply: { kind: string }; rendered?: { text: string } }>('POST', '/commands', { text, render: true, as: mcpIdentity(clientName()) });
      return {
        content: [
          { type: 'text' as const, text: r.rendered?.text ?? '' },
          { type: 'text' as const, text: JSON.stringify(r.reply) },
        ],
        isError: r.reply.kind === 'error' || r.reply.kind === 'usage',
      };
    },
  );
  server.registerTool(
    'sync_status',
    {
      title: 'Sync status of an entity',
      description: 'Vector clock, hybrid logical clock, event count, pending outbox messages, open conflicts and deliveries of one entity.',
      inputSchema: { domain: z.enum(ENTITY_DOMAINS).describe("The entity's domain"), id },
      annotations: { readOnlyHint: true },
    },
    async ({ domain, id: eid }: { domain: string; id: string }) => json(await caller.request('GET', `/sync/${domain}/${encodeURIComponent(eid)}/status`)),
  );
  server.registerTool(
    'sync_reconcile',
    {
      title: 'Reconcile and broadcast',
      description:
        'What `chitty sync <domain>` does: for todos (or all), merge duplicate todos across parallel sessions per project, then broadcast the state to subscribers. dryRun (default true) reports what would happen and changes nothing.',
      inputSchema: {
        domain: z.enum(SYNC_DOMAINS).describe('A domain or "all"'),
        projectId: z.string().max(200).optional().describe('Only this project'),
        sessionId: z.string().max(200).optional().describe('Only this session'),
        dryRun: z.boolean().default(true).describe('Report only (default true)'),
      },
    },
    async (args: Record<string, unknown>) => json(await caller.request('POST', '/sync/run', body(args))),
  );
  server.registerTool(
    'list_conflicts',
    {
      title: 'List conflicts',
      description: 'Concurrent edits of the same text field kept for a person to decide: each with every version. Newest first.',
      inputSchema: { status: z.enum(['open', 'resolved', 'all']).default('open').describe('Which conflicts') },
      annotations: { readOnlyHint: true },
    },
    async ({ status }: { status: string }) => json(await caller.request('GET', `/sync/conflicts?status=${status}`)),
  );
  server.registerTool(
    'resolve_conflict',
    {
      title: 'Resolve a conflict',
      description: 'Choose one version of a conflict (its index in "versions", its change id or node id) or give a new value.',
      inputSchema: {
        id: z.string().min(1).max(200).describe('The conflict id'),
        version: z
          .union([z.number().int().nonnegative(), z.string().min(1).max(200)])
          .optional()
          .describe('Index, change id or node id of the chosen version'),
        value: z.string().max(20_000).optional().describe('A new value instead of a version'),
      },
    },
    async (args: Record<string, unknown>) => json(await caller.request('POST', `/sync/conflicts/${encodeURIComponent(String(args.id))}/resolve`, body(args))),
  );
  server.registerTool(
    'preview_reply',
    {
      title: 'Preview a reply on a channel',
      description: 'What a channel would show for a read-only command (e.g. "todo list"): Slack blocks, Discord embeds, SMS segments, WhatsApp text, email, or plain text. Nothing is sent or changed.',
      inputSchema: { text: z.string().min(1).max(20_000).describe('A read-only command'), channel: z.enum(PREVIEW_CHANNELS).optional().describe('One channel (default: all)') },
      annotations: { readOnlyHint: true },
    },
    async ({ text, channel }: { text: string; channel?: string | undefined }) => {
      const r = await caller.request<{ rendered: Record<string, unknown> }>('POST', '/preview', { text });
      return json(channel ? r.rendered[channel] : r.rendered);
    },
  );

  for (const domain of ENTITY_DOMAINS) {
    server.registerResource(
      domain,
      new ResourceTemplate(`chitty://${domain}/{id}`, {
        list: async () => {
          const page = await caller.request<{ items: Record<string, unknown>[] }>('GET', `/${domain}?limit=100`);
          return { resources: page.items.map((e) => ({ uri: resourceUri(domain, String(e.chittyId)), name: String(e.content ?? e.name ?? e.title ?? e.chittyId), mimeType: 'application/json' })) };
        },
      }),
      { title: `ChittyChat ${domain}`, description: `A ${SINGULAR[domain]} as JSON; subscribe to be told when it changes.`, mimeType: 'application/json' },
      async (uri, vars) => ({
        contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await caller.request('GET', `/${domain}/${encodeURIComponent(String(vars.id))}`), null, 2) }],
      }),
    );
  }

  // Subscriptions: resources/updated for a subscribed entity, list_changed when one is created or deleted.
  const subscribed = new Set<string>();
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscribed.add(req.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });
  const stop = opts.changes?.((c) => {
    if (!(ENTITY_DOMAINS as readonly string[]).includes(c.domain) || !reachesMcp(c, opts.model ?? clientName())) return;
    const uri = resourceUri(c.domain, c.chittyId);
    const sends: Promise<void>[] = [];
    if (subscribed.has(uri)) sends.push(server.server.sendResourceUpdated({ uri }));
    if (c.operation === 'create' || c.operation === 'delete') sends.push(server.server.sendResourceListChanged());
    // A client that went away mid-send is not an error of the change.
    for (const s of sends) s.catch(() => undefined);
  });
  return { server, close: () => stop?.() };
}
