/**
 * The WhatsApp channel: the Cloud API (`WHATSAPP_MODE=cloud`, webhooks in, Graph API out) or
 * whatsapp-web.js (`WHATSAPP_MODE=web`, a personal number; one process owns the session).
 * Identity `whatsapp:<E.164>`; the conversation address is the number (a group's id in web mode).
 */
import { createRedis, type RedisClient } from '../../src/redis/client.ts';
import type { WhatsAppCloudConfig, WhatsAppWebConfig } from '../../src/channel-config.ts';
import { type ChannelAdapter, type Parsed, type ProtocolAnswer, type TokenRoute, type WebhookRoute, runningStatus } from '../../src/core/channel-adapter.ts';
import { DeliveryLedger } from '../../queues/delivery-ledger.ts';
import { CAPABILITIES } from '../../renderers/index.ts';
import { renderWhatsApp, renderWhatsAppMessage } from '../../renderers/whatsapp.ts';
import qrcode from 'qrcode-terminal';
import type { ChannelDeps } from '../index.ts';
import { ChatSender, type ChatPost, type ChatPosted } from '../shared/chat-sender.ts';
import { WhatsAppContacts } from './contacts.ts';
import { GraphClient } from './graph.ts';
import { readWebhook } from './parse.ts';
import { CloudSender } from './send.ts';
import { answerChallenge, SIGNATURE_HEADER, verifyHubSignature } from './verify.ts';
import { chatIdOf, WebSession } from './web.ts';
import { sessionLockKey } from './lock.ts';

/** Where Meta calls us (GET: the verification challenge; POST: messages and statuses). */
export const WEBHOOK_PATH = '/whatsapp/webhook';
/** The login QR code in web mode (behind the API token). */
export const QR_PATH = '/whatsapp/qr';

/** Who to answer: the sender's number. */
interface Respond {
  to: string;
  /** The person's message (wamid) the answer quotes. */
  wamid: string;
}

const EMPTY_OK: ProtocolAnswer = { status: 200, contentType: 'text/plain', body: '' };

function capabilities(buttons: boolean) {
  return { ...CAPABILITIES.whatsapp, supportsButtons: buttons };
}

function cloudAdapter(cfg: WhatsAppCloudConfig, deps: ChannelDeps): ChannelAdapter {
  const { core, logger } = deps;
  const graph = new GraphClient({ apiUrl: cfg.apiUrl, apiVersion: cfg.apiVersion, phoneNumberId: cfg.phoneNumberId, token: cfg.token });
  const contacts = new WhatsAppContacts(deps.database.db);
  const ledger = new DeliveryLedger(deps.database.db);
  const answer = (to: string, result: { reply: Parameters<typeof renderWhatsAppMessage>[0]; page: number }, replyTo: string) =>
    graph.send(to, renderWhatsAppMessage(result.reply, { page: result.page }), replyTo);

  const challenge: WebhookRoute<undefined> = {
    method: 'GET',
    url: WEBHOOK_PATH,
    ackWithinMs: 2000,
    verify: () => ({ ok: true }), // the verify token is the check; a wrong one gets 403 below
    parse: (req) => ({ kind: 'protocol', answer: answerChallenge(req.url, cfg.verifyToken) }),
    inline: () => EMPTY_OK,
    deferred: () => EMPTY_OK,
    late: async () => undefined,
  };

  const webhook: WebhookRoute<Respond> = {
    method: 'POST',
    url: WEBHOOK_PATH,
    ackWithinMs: 2000,
    alwaysLate: () => true,
    verify: (req) => verifyHubSignature(cfg.appSecret, req.rawBody, req.headers[SIGNATURE_HEADER]),
    // Async: statuses reach the ledger and the window opens before Meta gets its 200 (a failure
    // gets a 4xx/5xx and Meta delivers the webhook again).
    parse: async (req): Promise<Parsed<Respond>> => {
      const read = readWebhook(JSON.parse(req.rawBody.toString('utf8')), req.receivedAt, cfg.phoneNumberId);
      for (const i of read.ignored) logger.debug({ id: i.id, reason: i.reason, detail: i.detail }, 'whatsapp: ignored');
      for (const m of read.messages) await contacts.heardFrom(m.address, m.receivedAt);
      for (const s of read.statuses) {
        const ids = await ledger.markProviderStatus('whatsapp', s.providerMessageId, s.status, s.at, s.error);
        if (ids.length === 0) logger.debug({ wamid: s.providerMessageId, status: s.status }, 'whatsapp: status for a message not in the ledger (an answer, or already further along)');
      }
      const [first, ...more] = read.messages;
      // Meta sends one message per POST in practice; any others run here, answered the same way.
      for (const m of more) {
        const { answer: later } = await core.submit(m);
        void later
          .then((r) => (r.duplicate ? undefined : answer(m.address, r, m.providerMessageId)))
          .catch((err: unknown) => logger.error({ err, wamid: m.providerMessageId }, 'whatsapp: could not answer a message'));
      }
      if (first) return { kind: 'message', message: first, respond: { to: first.address, wamid: first.providerMessageId } };
      const reason = read.statuses.length > 0 ? 'status' : (read.ignored[0]?.reason ?? 'empty');
      return {
        kind: 'ignore',
        reason,
        detail: read.ignored
          .map((i) => i.detail)
          .join('; ')
          .slice(0, 500),
      };
    },
    inline: () => EMPTY_OK,
    deferred: () => EMPTY_OK,
    late: async (result, respond) => {
      await answer(respond.to, result, respond.wamid);
    },
  };

  const routes = [challenge, webhook];
  return {
    channel: 'whatsapp',
    capabilities: capabilities(true),
    routes,
    sender: new CloudSender(graph, contacts, cfg.template, deps.threads),
    status: () => runningStatus({ channel: 'whatsapp', routes }, { mode: 'cloud', phoneNumberId: cfg.phoneNumberId, template: cfg.template ? `${cfg.template.name}:${cfg.template.language}` : null }),
  };
}

class WebSender extends ChatSender {
  constructor(private readonly session: () => WebSession | undefined) {
    super('whatsapp', undefined);
  }

  protected async post(p: ChatPost): Promise<ChatPosted> {
    const s = this.session();
    if (!s) throw new Error('whatsapp: the WhatsApp Web session has not started in this process');
    return { providerMessageId: await s.sendText(chatIdOf(p.address), renderWhatsApp(p.reply)) };
  }
}

function webAdapter(cfg: WhatsAppWebConfig, deps: ChannelDeps): ChannelAdapter {
  let session: WebSession | undefined;
  let redis: RedisClient | undefined;
  const qr: TokenRoute = {
    method: 'GET',
    url: QR_PATH,
    summary: 'WhatsApp Web login QR code (text; ?format=json for the raw string)',
    handle: (query) => {
      const state = session?.state ?? 'stopped';
      const code = session?.qr;
      if (query.format === 'json') return { status: 200, contentType: 'application/json', body: JSON.stringify({ state, owner: session?.owner ?? false, qr: code ?? null }) };
      if (!code) {
        return {
          status: 404,
          contentType: 'application/json',
          body: JSON.stringify({
            error: { code: 'no_qr', message: `No QR code to scan: the WhatsApp Web session here is ${state}${session?.owner === false ? ' (another process owns it; ask that one)' : ''}.` },
            state,
          }),
        };
      }
      let art = '';
      qrcode.generate(code, { small: true }, (s) => {
        art = s;
      });
      return { status: 200, contentType: 'text/plain; charset=utf-8', body: `${art}\n\nScan with WhatsApp: Settings > Linked devices > Link a device.\n${code}\n` };
    },
  };
  return {
    channel: 'whatsapp',
    capabilities: capabilities(false),
    routes: [],
    tokenRoutes: [qr],
    sender: new WebSender(() => session),
    async start() {
      redis = createRedis(deps.redisUrl, { maxRetriesPerRequest: 2, connectionName: 'chitty-whatsapp-lock' });
      session = new WebSession({ config: cfg, core: deps.core, logger: deps.logger, redis, lockKey: sessionLockKey(deps.queuePrefix) });
      await session.start();
    },
    async stop() {
      await session?.stop();
      redis?.disconnect();
    },
    status: () => ({ channel: 'whatsapp', on: true, detail: { mode: 'web', state: session?.state ?? 'stopped', owner: session?.owner ?? false, qr: QR_PATH } }),
  };
}

/** Builds the WhatsApp channel when WHATSAPP_* is set (see README "Connect WhatsApp"). */
export function createWhatsApp(deps: ChannelDeps): ChannelAdapter | undefined {
  const cfg = deps.config.whatsapp;
  if (!cfg) return undefined;
  return cfg.mode === 'cloud' ? cloudAdapter(cfg, deps) : webAdapter(cfg, deps);
}

export { setWhatsAppWebClientFactory } from './web.ts';
