/**
 * A loopback Graph API for WhatsApp: `POST /{version}/{phone id}/messages` answers
 * `{messaging_product, contacts, messages:[{id:"wamid…"}]}` and records every send; errors can be
 * queued per recipient in Graph's shape; it can post signed status webhooks back to the gateway.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hubSignature } from '../../bots/whatsapp/verify.ts';

export interface GraphSend {
  to: string;
  type: string;
  body: Record<string, any>;
  wamid: string;
  auth: string | undefined;
  path: string;
}

export interface GraphFailure {
  status: number;
  code: number;
  message?: string;
  subcode?: number;
}

export class FakeWhatsAppGraph {
  readonly sends: GraphSend[] = [];
  /** Next answers for a recipient (digits): failures, used once each. */
  readonly failures = new Map<string, GraphFailure[]>();
  private server: Server | undefined;
  private n = 0;
  url = '';

  constructor(
    readonly phoneNumberId: string,
    readonly appSecret: string,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const m = /^\/(v\d+\.\d+)\/(\d+)\/messages$/.exec(req.url ?? '');
        if (req.method !== 'POST' || !m || m[2] !== this.phoneNumberId) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Unknown path', type: 'GraphMethodException', code: 100, fbtrace_id: 'fake' } }));
          return;
        }
        const body = JSON.parse(raw) as Record<string, any>;
        const fail = this.failures.get(String(body.to))?.shift();
        if (fail) {
          res.writeHead(fail.status, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              error: { message: fail.message ?? `error ${fail.code}`, type: 'OAuthException', code: fail.code, ...(fail.subcode ? { error_subcode: fail.subcode } : {}), fbtrace_id: 'Afake' },
            }),
          );
          return;
        }
        const wamid = `wamid.FAKE${++this.n}${Date.now()}`;
        this.sends.push({ to: String(body.to), type: String(body.type), body, wamid, auth: req.headers.authorization, path: req.url ?? '' });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id: wamid }] }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** The text a person would read in a send: text body, interactive body, or template parameter. */
  static textOf(s: GraphSend): string {
    const b = s.body;
    if (b.type === 'text') return String(b.text?.body ?? '');
    if (b.type === 'interactive') return String(b.interactive?.body?.text ?? '');
    if (b.type === 'template')
      return (b.template?.components ?? [])
        .flatMap((c: any) => c.parameters ?? [])
        .map((p: any) => p.text)
        .join(' ');
    return '';
  }

  sendsTo(number: string): GraphSend[] {
    const digits = number.replace(/^\+/, '');
    return this.sends.filter((s) => s.to === digits);
  }

  /** A webhook body as Meta sends it, with non-ASCII `\uXXXX`-escaped like Meta's own bytes. */
  static metaBytes(payload: unknown): string {
    return JSON.stringify(payload).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }

  signed(payload: unknown): { body: string; headers: Record<string, string> } {
    const body = FakeWhatsAppGraph.metaBytes(payload);
    return { body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature(this.appSecret, body) } };
  }

  /** Post a status webhook (sent/delivered/read/failed) for a wamid to the gateway. */
  async postStatus(gatewayUrl: string, wamid: string, status: string, recipient: string, errors?: { code: number; title: string }[]): Promise<number> {
    const { body, headers } = this.signed(cloudStatus(this.phoneNumberId, wamid, status, recipient, errors));
    const res = await fetch(`${gatewayUrl}/whatsapp/webhook`, { method: 'POST', headers, body });
    return res.status;
  }
}

/** A Cloud API webhook body carrying one `messages` change with `value` (its envelope filled in). */
function cloudWebhook(phoneNumberId: string, value: Record<string, unknown>): unknown {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550000000', phone_number_id: phoneNumberId }, ...value } }] }],
  };
}

/** A Cloud API status webhook body (sent/delivered/read/failed) for one of our messages. */
export function cloudStatus(phoneNumberId: string, wamid: string, status: string, recipient: string, errors?: { code: number; title: string }[]): unknown {
  return cloudWebhook(phoneNumberId, {
    statuses: [{ id: wamid, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: recipient.replace(/^\+/, ''), ...(errors ? { errors } : {}) }],
  });
}

/** A Cloud API message webhook body (one text or interactive message). */
export function cloudMessage(phoneNumberId: string, from: string, id: string, message: Record<string, unknown>, name = 'Test Person'): unknown {
  const wa = from.replace(/^\+/, '');
  return cloudWebhook(phoneNumberId, {
    contacts: [{ profile: { name }, wa_id: wa }],
    messages: [{ from: wa, id, timestamp: String(Math.floor(Date.now() / 1000)), ...message }],
  });
}
