/**
 * A loopback fake of Twilio's REST API (Messages resource) for tests: `POST
 * /2010-04-01/Accounts/{sid}/Messages.json` with a form body and basic auth, answered like Twilio
 * (201, `sid: SM…`, `status: queued`) or with a queued error `{code, message, status}`. Every
 * send is recorded. It posts status callbacks back to the gateway signed exactly as Twilio signs
 * them (the SDK's `getExpectedTwilioSignature` over the callback URL it was given and the form).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

/** One message the fake accepted (or refused). */
export interface FakeSend {
  sid: string;
  to: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string;
  statusCallback: string | undefined;
  at: number;
  /** The error it answered with, when it refused the send. */
  refused?: { status: number; code: number; message: string };
}

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
}

/** Sign a form as Twilio does: `X-Twilio-Signature` over the URL it called and the parameters. */
export function signTwilio(authToken: string, url: string, params: Record<string, string>): { body: string; headers: Record<string, string> } {
  return {
    body: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params) },
  };
}

export class FakeTwilio {
  readonly sends: FakeSend[] = [];
  private server: Server | undefined;
  private readonly failures = new Map<string, { status: number; code: number; message: string }[]>();
  private readonly waiters: (() => void)[] = [];
  url = '';
  /**
   * Where status callbacks really go: the callback URL's origin (PUBLIC_URL, as Twilio sees it)
   * is replaced by this one (the test gateway), like a proxy in front of the gateway.
   */
  gatewayUrl = '';

  constructor(readonly opts: FakeTwilioOptions) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next send to `to` is refused with this Twilio error. */
  failNext(to: string, error: { status: number; code: number; message: string }): void {
    this.failures.set(to, [...(this.failures.get(to) ?? []), error]);
  }

  /** Bodies accepted for a number, oldest first. */
  bodiesTo(to: string): string[] {
    return this.sends.filter((s) => s.to === to && !s.refused).map((s) => s.body);
  }

  /** Resolves at the next request the fake gets. */
  nextRequest(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      for (const w of this.waiters.splice(0)) w();
    };
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    const expected = `Basic ${Buffer.from(`${this.opts.accountSid}:${this.opts.authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected || m[1] !== this.opts.accountSid) {
      return json(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    }
    const form = new URLSearchParams(raw);
    const to = form.get('To') ?? '';
    const send: FakeSend = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      to,
      from: form.get('From') ?? undefined,
      messagingServiceSid: form.get('MessagingServiceSid') ?? undefined,
      body: form.get('Body') ?? '',
      statusCallback: form.get('StatusCallback') ?? undefined,
      at: Date.now(),
    };
    const fail = this.failures.get(to)?.shift();
    if (fail) {
      this.sends.push({ ...send, refused: fail });
      return json(fail.status, { code: fail.code, message: fail.message, more_info: `https://www.twilio.com/docs/errors/${fail.code}`, status: fail.status });
    }
    if (!send.from && !send.messagingServiceSid) return json(400, { code: 21603, message: "The 'From' phone number is required.", status: 400 });
    this.sends.push(send);
    return json(201, {
      sid: send.sid,
      account_sid: this.opts.accountSid,
      to,
      from: send.from ?? null,
      messaging_service_sid: send.messagingServiceSid ?? null,
      body: send.body,
      status: 'queued',
      num_segments: '1',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${this.opts.accountSid}/Messages/${send.sid}.json`,
    });
  }

  /**
   * Post a status callback for a message, signed like Twilio, to the URL the send asked for
   * (through `gatewayUrl`). Returns the gateway's HTTP status.
   */
  async postStatus(sid: string, status: string, error?: { code: number; message?: string }): Promise<number> {
    const send = this.sends.find((s) => s.sid === sid);
    if (!send?.statusCallback) throw new Error(`message ${sid} asked for no status callback`);
    const params: Record<string, string> = {
      MessageSid: sid,
      SmsSid: sid,
      AccountSid: this.opts.accountSid,
      From: send.from ?? '',
      To: send.to,
      MessageStatus: status,
      SmsStatus: status,
      ApiVersion: '2010-04-01',
      ...(error ? { ErrorCode: String(error.code), ...(error.message ? { ErrorMessage: error.message } : {}) } : {}),
    };
    const signed = signTwilio(this.opts.authToken, send.statusCallback, params);
    const u = new URL(send.statusCallback);
    const target = this.gatewayUrl ? `${this.gatewayUrl.replace(/\/+$/, '')}${u.pathname}${u.search}` : send.statusCallback;
    const res = await fetch(target, { method: 'POST', headers: signed.headers, body: signed.body });
    await res.text();
    return res.status;
  }
}

/** A stable MessageSid for a test's message id. */
export const messageSidFor = (id: string): string => `SM${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
