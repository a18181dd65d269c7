/**
 * Loopback webhook receivers in their own process, so the benchmark measures the gateway and
 * not a receiver sharing its event loop. Controlled over IPC: `start` N receivers, `stats`.
 */
import { createServer, type Server } from 'node:http';

interface Arrival {
  id: string;
  at: number;
}

const servers: Server[] = [];
const arrivals: Arrival[] = [];
let requests = 0;

function listen(): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = Date.now();
        requests++;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; id: string; messages?: { id: string }[] };
          if (body.type === 'digest') for (const m of body.messages ?? []) arrivals.push({ id: m.id, at });
          else arrivals.push({ id: body.id, at });
        } catch {
          // counted as a request, carries nothing
        }
        res.writeHead(200).end();
      });
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}/hook`));
    servers.push(server);
  });
}

process.on('message', async (m: { cmd: string; n?: number; since?: number }) => {
  if (m.cmd === 'start') {
    const urls = [];
    for (let i = 0; i < (m.n ?? 1); i++) urls.push(await listen());
    process.send!({ urls });
  } else if (m.cmd === 'stats') {
    process.send!({ requests, deliveries: arrivals.length });
  } else if (m.cmd === 'arrivals') {
    process.send!({ arrivals });
  } else if (m.cmd === 'reset') {
    arrivals.length = 0;
    requests = 0;
    process.send!({ ok: true });
  } else if (m.cmd === 'stop') {
    for (const s of servers) s.close();
    process.exit(0);
  }
});
