/**
 * whatsapp-web.js (`WHATSAPP_MODE=web`): a personal number through WhatsApp Web in chromium.
 * One process owns the session (a Redis lock); the others stay passive and take over when it
 * dies. The client is made by a factory, so tests drive a fake that emits the library's events
 * (`qr`, `ready`, `message`, `message_create`, `disconnected`) with its real message shapes.
 */
import type { RedisClient as Redis } from '../../src/redis/client.ts';
import qrcode from 'qrcode-terminal';
import type { WhatsAppWebConfig } from '../../src/channel-config.ts';
import { ConfigError } from '../../src/core/chitty-error.ts';
import { NetworkError } from '../../src/core/channel-errors.ts';
import type { ConversationCore } from '../../src/core/conversation-core.ts';
import type { InboundMessage } from '../../src/core/inbound.ts';
import type { Logger } from '../../src/log.ts';
import { renderWhatsApp } from '../../renderers/whatsapp.ts';
import { e164 } from './parse.ts';
import { SessionLock } from './lock.ts';

/** The fields of whatsapp-web.js `Message` we read (index.d.ts, v1.34). */
export interface WebMessage {
  id: { fromMe: boolean; remote: string; id: string; _serialized: string };
  /** The chat: `<digits>@c.us`, a group `<id>@g.us`, or `status@broadcast`. */
  from: string;
  to?: string;
  /** The sender inside a group. */
  author?: string;
  body: string;
  type: string;
  /** Unix seconds. */
  timestamp: number;
  fromMe: boolean;
  isStatus?: boolean;
  broadcast?: boolean;
  hasMedia?: boolean;
  selectedButtonId?: string;
  selectedRowId?: string;
}

/** The part of whatsapp-web.js `Client` we use. */
export interface WebClient {
  on(event: 'qr', listener: (qr: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'message' | 'message_create', listener: (m: WebMessage) => void): unknown;
  on(event: 'disconnected' | 'auth_failure', listener: (reason: string) => void): unknown;
  initialize(): Promise<void>;
  sendMessage(chatId: string, content: string): Promise<{ id: { _serialized: string } }>;
  destroy(): Promise<void>;
}

export type WebClientFactory = (opts: { sessionDir: string | undefined; executablePath: string }) => WebClient | Promise<WebClient>;

/** The real client: whatsapp-web.js with LocalAuth in DATA_DIR/whatsapp and the system's chromium. */
export const realClientFactory: WebClientFactory = async ({ sessionDir, executablePath }) => {
  if (!sessionDir) throw new ConfigError('WHATSAPP_MODE=web keeps its login session in DATA_DIR/whatsapp; set DATA_DIR to a folder (not memory://).');
  const lib = (await import('whatsapp-web.js')).default;
  return new lib.Client({
    authStrategy: new lib.LocalAuth({ dataPath: sessionDir }),
    puppeteer: { executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] },
  }) as unknown as WebClient;
};

let factoryOverride: WebClientFactory | undefined;
/** Tests only: make web-mode gateways use this client factory (undefined: the real one). */
export function setWhatsAppWebClientFactory(factory: WebClientFactory | undefined): void {
  factoryOverride = factory;
}

/** A chat id for an address: `+<digits>` → `<digits>@c.us`; a group id as it is. */
export function chatIdOf(address: string): string {
  return address.startsWith('+') ? `${address.slice(1)}@c.us` : address;
}

/** What a whatsapp-web.js message becomes: a message for the core, or ignored with why. */
export function readWebMessage(m: WebMessage, receivedAt: Date): { message: InboundMessage } | { ignore: string } {
  if (m.fromMe || m.id?.fromMe) return { ignore: 'own message (fromMe)' };
  if (m.isStatus || m.from === 'status@broadcast' || m.id?.remote === 'status@broadcast') return { ignore: 'status update' };
  if (m.broadcast) return { ignore: 'broadcast' };
  const group = m.from.endsWith('@g.us');
  const senderId = group ? m.author : m.from;
  const number = senderId?.endsWith('@c.us') ? e164(senderId.slice(0, -'@c.us'.length)) : undefined;
  if (!number) return { ignore: `sender ${JSON.stringify(senderId)} is not a phone number (e.g. an @lid id)` };
  const text = m.selectedButtonId ?? m.selectedRowId ?? m.body ?? '';
  if (!['chat', 'buttons_response', 'list_response', 'image', 'video', 'document'].includes(m.type)) return { ignore: `type ${m.type}` };
  if (text.trim() === '') return { ignore: 'no text' };
  return {
    message: {
      channel: 'whatsapp',
      address: group ? m.from : number,
      sender: `whatsapp:${number}`,
      text: text.slice(0, 20_000),
      ...(m.selectedButtonId || m.selectedRowId ? { actionId: (m.selectedButtonId ?? m.selectedRowId)!.slice(0, 255) } : {}),
      providerMessageId: m.id._serialized,
      receivedAt,
    },
  };
}

export type WebState = 'stopped' | 'passive' | 'starting' | 'qr' | 'ready' | 'reconnecting';

/** Longest wait between reconnects. */
export const RECONNECT_MAX_MS = 60_000;

export interface WebSessionDeps {
  config: WhatsAppWebConfig;
  core: ConversationCore;
  logger: Logger;
  redis: Redis;
  lockKey: string;
  /** First reconnect delay (doubles each time, up to {@link RECONNECT_MAX_MS}). */
  reconnectBaseMs?: number;
}

export class WebSession {
  state: WebState = 'stopped';
  /** The QR code to scan while the session waits for its first login. */
  qr: string | undefined;
  private client: WebClient | undefined;
  private readonly lock: SessionLock;
  private timer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private holding = false;

  constructor(private readonly deps: WebSessionDeps) {
    this.lock = new SessionLock(deps.redis, deps.lockKey, deps.config.lockTtlMs);
  }

  get owner(): boolean {
    return this.holding;
  }

  /** Take the session if free (else stay passive), and check again every third of the lock TTL. */
  async start(): Promise<void> {
    this.state = 'passive';
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.deps.config.lockTtlMs / 3)));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.reconnectTimer);
    this.state = 'stopped';
    await this.disconnect();
    if (this.holding) await this.lock.release().catch(() => undefined);
    this.holding = false;
  }

  private async tick(): Promise<void> {
    if (this.state === 'stopped') return;
    try {
      if (this.holding) {
        if (await this.lock.renew()) return;
        this.deps.logger.warn({ key: this.deps.lockKey }, 'WhatsApp Web: lost the session lock (another process took over after a pause); closing the client and staying passive');
        this.holding = false;
        clearTimeout(this.reconnectTimer);
        await this.disconnect();
        this.state = 'passive';
        return;
      }
      if (await this.lock.acquire()) {
        this.holding = true;
        this.deps.logger.info({ key: this.deps.lockKey }, 'WhatsApp Web: this process owns the session');
        await this.connect();
      }
    } catch (err) {
      this.deps.logger.warn({ err }, 'WhatsApp Web: could not check the session lock in Redis; trying again');
    }
  }

  private async connect(): Promise<void> {
    if (!this.holding || this.state === 'stopped') return;
    this.state = 'starting';
    let client: WebClient;
    try {
      client = await (factoryOverride ?? realClientFactory)({ sessionDir: this.deps.config.sessionDir, executablePath: this.deps.config.executablePath });
    } catch (err) {
      this.deps.logger.error({ err }, 'WhatsApp Web: could not create the client');
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    client.on('qr', (qr) => {
      this.qr = qr;
      this.state = 'qr';
      this.deps.logger.info('WhatsApp Web: scan this QR code with WhatsApp (Settings > Linked devices), or open GET /whatsapp/qr with the API token');
      if (this.deps.logger.level !== 'silent') qrcode.generate(qr, { small: true });
    });
    client.on('ready', () => {
      this.qr = undefined;
      this.state = 'ready';
      this.failures = 0;
      this.deps.logger.info('WhatsApp Web: connected');
    });
    client.on('disconnected', (reason) => {
      if (this.client !== client) return;
      this.deps.logger.warn({ reason }, 'WhatsApp Web: disconnected; reconnecting with backoff');
      this.scheduleReconnect();
    });
    client.on('auth_failure', (reason) => this.deps.logger.error({ reason }, 'WhatsApp Web: login failed; delete DATA_DIR/whatsapp and scan the QR code again'));
    // `message` fires for incoming messages only; `message_create` also for our own (fromMe):
    // listening to `message` alone, and skipping fromMe there too, never answers ourselves.
    client.on('message', (m) => void this.onMessage(m));
    client.initialize().catch((err: unknown) => {
      if (this.client !== client) return;
      this.deps.logger.error({ err }, 'WhatsApp Web: the client did not start; retrying with backoff');
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.state === 'stopped' || !this.holding) return;
    this.state = 'reconnecting';
    const delay = Math.min(RECONNECT_MAX_MS, (this.deps.reconnectBaseMs ?? 1000) * 2 ** this.failures++);
    const old = this.client;
    this.client = undefined;
    void old?.destroy().catch(() => undefined);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private async disconnect(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.qr = undefined;
    await c?.destroy().catch((err: unknown) => this.deps.logger.warn({ err }, 'WhatsApp Web: client did not close cleanly'));
  }

  /** Run an incoming message through the core and answer in the chat it came from. */
  async onMessage(m: WebMessage): Promise<void> {
    const read = readWebMessage(m, new Date());
    if ('ignore' in read) {
      this.deps.logger.debug({ id: m.id?._serialized, why: read.ignore }, 'WhatsApp Web: message ignored');
      return;
    }
    try {
      const { answer } = await this.deps.core.submit(read.message);
      const result = await answer;
      if (result.duplicate) return;
      await this.sendText(m.from, renderWhatsApp(result.reply, { page: result.page }));
    } catch (err) {
      this.deps.logger.error({ err, id: read.message.providerMessageId }, 'WhatsApp Web: could not run or answer a message');
    }
  }

  /** Send text to a chat through the session this process owns; a NetworkError (retried) if it is not ready here. */
  async sendText(chatId: string, text: string): Promise<string> {
    const c = this.client;
    if (!c || this.state !== 'ready') {
      throw new NetworkError(`whatsapp: the WhatsApp Web session is ${this.holding ? this.state : 'owned by another process'} here; will retry`, 'whatsapp');
    }
    try {
      const sent = await c.sendMessage(chatId, text);
      return sent.id._serialized;
    } catch (err) {
      throw new NetworkError(`whatsapp: WhatsApp Web could not send: ${(err as Error).message}`, 'whatsapp', { cause: err });
    }
  }
}
