/**
 * `POST /twilio/status`: Twilio's message status callbacks (signed like the inbound webhook) move
 * the deliveries ledger's provider status — sent, delivered, read; undelivered and failed carry
 * Twilio's error code. A carrier rate limit (30007, 63018, 30022) sends the message again; any
 * other failure is a dead letter; 21610 also opts the number out.
 * https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 */
import type { DeliveryLedger } from '../../queues/delivery-ledger.ts';
import type { InboundRequest, Parsed, ProtocolAnswer, WebhookRoute } from '../../src/core/channel-adapter.ts';
import type { Logger } from '../../src/log.ts';
import { TWILIO_ERRORS } from './client.ts';
import type { SmsOptOuts } from './opt-outs.ts';
import { readTwilioFields } from './parse.ts';
import { parseForm, verifyTwilioRequest } from './verify.ts';

/** Error codes that mean "too fast for the carrier / channel": the message is sent again. */
export const TWILIO_RATE_ERROR_CODES: ReadonlySet<string> = new Set(['30007', '30022', '63018']);

/** Sends of one delivery (first included) before a carrier rate limit makes it a dead letter. */
export const SMS_CARRIER_ATTEMPTS = 3;

export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
export const EMPTY_TWIML_ANSWER: ProtocolAnswer = { status: 200, contentType: 'text/xml', body: EMPTY_TWIML };

/** What a status callback did to the ledger. */
export type StatusOutcome = 'progress' | 'delivered' | 'retry' | 'dead' | 'ignored';

export async function applyStatus(ledger: DeliveryLedger, optOuts: SmsOptOuts, logger: Logger, params: Record<string, string | string[]>, at: Date): Promise<StatusOutcome> {
  const f = readTwilioFields(params);
  if (!f.messageSid) throw new Error('MessageSid is missing: not a Twilio status callback');
  const status = (f.status ?? '').toLowerCase();
  if (status === 'sent' || status === 'delivered' || status === 'read') {
    await ledger.markProviderStatus('sms', f.messageSid, status, at);
    return status === 'sent' ? 'progress' : 'delivered';
  }
  if (status !== 'failed' && status !== 'undelivered' && status !== 'canceled') return 'ignored';
  const code = f.errorCode ?? '';
  const error = `Twilio ${status}${code ? `, error ${code}` : ''}${f.errorMessage ? `: ${f.errorMessage}` : ''} (https://www.twilio.com/docs/api/errors/${code || 'index'})`;
  if (TWILIO_RATE_ERROR_CODES.has(code)) {
    const r = await ledger.retryProviderFailure('sms', f.messageSid, error, SMS_CARRIER_ATTEMPTS);
    logger.warn({ messageSid: f.messageSid, code, retry: r.retry.length, dead: r.dead.length }, 'Twilio could not deliver (carrier rate limit): sending again');
    return r.retry.length > 0 ? 'retry' : 'dead';
  }
  if (code === String(TWILIO_ERRORS.UNSUBSCRIBED) && f.to) await optOuts.optOut(f.to, 'twilio_21610', error.slice(0, 500));
  await ledger.markProviderStatus('sms', f.messageSid, 'failed', at, error);
  return 'dead';
}

/** The status callback route; the ledger is updated before Twilio gets its 200. */
export function statusRoute(authToken: string, ledger: DeliveryLedger, optOuts: SmsOptOuts, logger: Logger): WebhookRoute<null> {
  return {
    method: 'POST',
    url: '/twilio/status',
    ackWithinMs: 10_000,
    verify: (req) => verifyTwilioRequest(authToken, req),
    async parse(req: InboundRequest): Promise<Parsed<null>> {
      const params = parseForm(req.rawBody.toString('utf8'));
      if (!readTwilioFields(params).messageSid) throw new Error('MessageSid is missing: not a Twilio status callback');
      try {
        await applyStatus(ledger, optOuts, logger, params, req.receivedAt);
      } catch (err) {
        logger.error({ err }, 'could not record a Twilio status callback; Twilio is told 500');
        return { kind: 'protocol', answer: { status: 500, contentType: 'text/plain', body: 'status not recorded' } };
      }
      return { kind: 'protocol', answer: EMPTY_TWIML_ANSWER };
    },
    inline: () => EMPTY_TWIML_ANSWER,
    deferred: () => EMPTY_TWIML_ANSWER,
    late: async () => undefined,
  };
}
