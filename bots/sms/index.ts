/**
 * The SMS channel (Twilio): `POST /twilio/sms` (inbound messages, answered with empty TwiML at
 * once; the answer goes out through the REST API), `POST /twilio/status` (delivery statuses), and
 * the fan-out sender. On when TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM (or
 * TWILIO_MESSAGING_SERVICE_SID) are set. See the README, "Connect Twilio".
 */
import { DeliveryLedger } from '../../queues/delivery-ledger.ts';
import { CAPABILITIES } from '../../renderers/index.ts';
import { renderSms } from '../../renderers/sms.ts';
import type { SmsConfig } from '../../src/channel-config.ts';
import { type ChannelAdapter, type WebhookRoute, runningStatus } from '../../src/core/channel-adapter.ts';
import type { CoreResult } from '../../src/core/conversation-core.ts';
import type { Logger } from '../../src/log.ts';
import type { ChannelDeps } from '../index.ts';
import { createTwilioClient, OptedOutError } from './client.ts';
import { SMS_HELP_TEXT, SMS_START_TEXT } from './keywords.ts';
import { SmsOptOuts } from './opt-outs.ts';
import { parseInboundSms, type SmsRespond } from './parse.ts';
import { SmsSender } from './send.ts';
import { EMPTY_TWIML_ANSWER, statusRoute } from './status.ts';
import { parseForm, verifyTwilioRequest } from './verify.ts';

/** How long Twilio waits for the webhook's answer is 15 s; we answer at once anyway. */
const TWILIO_ACK_MS = 10_000;

/** The answer to a command: page `result.page` of the rendered reply. */
export function answerBody(result: CoreResult): string {
  const pages = renderSms(result.reply);
  return pages[result.page - 1] ?? 'Nothing more to show. Text LIST to start again.';
}

/** `POST /twilio/sms`: verify, parse, record, answer empty TwiML; the reply goes out by REST. */
export function smsRoute(authToken: string, sender: SmsSender, optOuts: SmsOptOuts, logger: Logger, ownNumber?: string): WebhookRoute<SmsRespond> {
  return {
    method: 'POST',
    url: '/twilio/sms',
    ackWithinMs: TWILIO_ACK_MS,
    verify: (req) => verifyTwilioRequest(authToken, req),
    parse: (req) => parseInboundSms(parseForm(req.rawBody.toString('utf8')), req.receivedAt, ownNumber),
    alwaysLate: () => true,
    inline: () => EMPTY_TWIML_ANSWER,
    deferred: () => EMPTY_TWIML_ANSWER,
    async late(result, respond) {
      const { to, keyword } = respond;
      if (keyword === 'stop') {
        // Subscriptions stay: START resumes them. Twilio (Advanced Opt-Out) confirms the STOP itself.
        await optOuts.optOut(to, 'keyword');
        logger.info({ to }, 'SMS number opted out (STOP); fan-out skips it until START');
        return;
      }
      if (keyword === 'start') {
        await optOuts.optIn(to);
        await sender.sendText(to, SMS_START_TEXT);
        return;
      }
      if (keyword === 'help') {
        await sender.sendText(to, SMS_HELP_TEXT, true);
        return;
      }
      try {
        await sender.sendText(to, answerBody(result));
      } catch (err) {
        if (!(err instanceof OptedOutError)) throw err;
        logger.info({ to }, 'not answering an opted-out SMS number; it can text START');
      }
    },
  };
}

export class SmsChannel implements ChannelAdapter {
  readonly channel = 'sms' as const;
  readonly capabilities = CAPABILITIES.sms;
  // biome-ignore lint/suspicious/noExplicitAny: each route carries its own respond context type
  readonly routes: WebhookRoute<any>[];
  readonly sender: SmsSender;
  readonly optOuts: SmsOptOuts;

  constructor(
    private readonly config: SmsConfig,
    deps: Pick<ChannelDeps, 'database' | 'logger'>,
    private readonly publicUrl: string | undefined,
  ) {
    const client = createTwilioClient(config.accountSid, config.authToken, config.apiUrl);
    this.optOuts = new SmsOptOuts(deps.database.db);
    const statusCallback = publicUrl ? `${publicUrl.replace(/\/+$/, '')}/twilio/status` : undefined;
    this.sender = new SmsSender({ client, optOuts: this.optOuts, logger: deps.logger, from: config.from, messagingServiceSid: config.messagingServiceSid, statusCallback });
    this.routes = [smsRoute(config.authToken, this.sender, this.optOuts, deps.logger, config.from), statusRoute(config.authToken, new DeliveryLedger(deps.database.db), this.optOuts, deps.logger)];
  }

  status() {
    return runningStatus(this, {
      sender: this.config.from ?? this.config.messagingServiceSid,
      statusCallbacks: this.publicUrl !== undefined,
    });
  }
}

/** The registry's factory: the SMS channel when its variables are set. */
export function createSmsChannel(deps: ChannelDeps): SmsChannel | undefined {
  const { sms, publicUrl } = deps.config;
  if (!sms) return undefined;
  if (!publicUrl)
    deps.logger.warn({}, 'SMS is on without PUBLIC_URL: Twilio signatures are checked against the forwarded host, and no status callbacks are asked for; set PUBLIC_URL to the URL Twilio calls');
  return new SmsChannel(sms, deps, publicUrl);
}
