/**
 * Loopback webhook receivers in their own process, so the benchmark (and the chaos run's worker
 * kill) measures the gateway and not a receiver sharing its event loop. Controlled over IPC:
 * `start` N receivers (`record: true` also keeps a per-request log), `stats`, `arrivals`,
 * `requests` (that log), `reset`, `stop`.
 */
import { createServer, type Server } from 'node:http';

interface Arrival {
  id: string;
  at: number;
}

/**
 * One request as the `requests` command reports it (kept only once a `start` asked to `record`).
 * `messages` are the SyncMessages carried, read as test/support/webhook-receiver.ts reads them:
 * a digest's `messages`, or the body itself; `id` is the message id when it is a string, `entity`
 * its `payload.entity.chittyId` when that is a string.
 */
export interface RecordedRequest {
  /** Which receiver: its position among every receiver this process started, in start order. */
  receiver: number;
  /** The X-Chitty-Delivery header. */
  delivery: string | undefined;
  /** Status answered (these receivers always answer 200). */
  status: number;
  messages: { id?: string; entity?: string }[];
}

const servers: Server[] = [];
const arrivals: Arrival[] = [];
const recorded: RecordedRequest[] = [];
let record = false;
let requests = 0;

/** A parsed JSON body or message, before anything about it is known. */
type Loose = { type?: unknown; id?: unknown; messages?: unknown; payload?: { entity?: { chittyId?: unknown } } } | null;

/** The messages a parsed body carries, as WebhookReceiver's `messages` reads them. */
function messagesOf(body: unknown): RecordedRequest['messages'] {
  const b = body as Loose;
  const messages: unknown[] = b !== null && typeof b === 'object' && b.type === 'digest' && Array.isArray(b.messages) ? b.messages : [body];
  return messages.map((x) => {
    const m = x as Loose;
    const id = m !== null && typeof m === 'object' && typeof m.id === 'string' ? m.id : undefined;
    const entity = m?.payload?.entity?.chittyId;
    return { ...(id !== undefined ? { id } : {}), ...(typeof entity === 'string' ? { entity } : {}) };
  });
}

function listen(): Promise<string> {
  return new Promise((resolve) => {
    const receiver = servers.length;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = Date.now();
        requests++;
        let parsed: { body: unknown } | undefined;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; id: string; messages?: { id: string }[] };
          parsed = { body };
          if (body.type === 'digest') for (const m of body.messages ?? []) arrivals.push({ id: m.id, at });
          else arrivals.push({ id: body.id, at });
        } catch {
          // counted as a request, carries nothing
        }
        if (record) {
          const delivery = req.headers['x-chitty-delivery'];
          recorded.push({ receiver, delivery: Array.isArray(delivery) ? delivery[0] : delivery, status: 200, messages: parsed ? messagesOf(parsed.body) : [] });
        }
        res.writeHead(200).end();
      });
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}/hook`));
    servers.push(server);
  });
}

process.on('message', async (m: { cmd: string; n?: number; record?: boolean; since?: number }) => {
  if (m.cmd === 'start') {
    if (m.record) record = true;
    const urls = [];
    for (let i = 0; i < (m.n ?? 1); i++) urls.push(await listen());
    process.send!({ urls });
  } else if (m.cmd === 'stats') {
    process.send!({ requests, deliveries: arrivals.length });
  } else if (m.cmd === 'arrivals') {
    process.send!({ arrivals });
  } else if (m.cmd === 'requests') {
    // The log from position `since` on, so a poller fetches only what is new.
    process.send!({ requests: recorded.slice(m.since ?? 0) });
  } else if (m.cmd === 'reset') {
    arrivals.length = 0;
    recorded.length = 0;
    requests = 0;
    process.send!({ ok: true });
  } else if (m.cmd === 'stop') {
    for (const s of servers) s.close();
    process.exit(0);
  }
});
