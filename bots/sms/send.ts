/**
 * The SMS side of fan-out and answers: a neutral reply → the SMS renderer (one segment per body,
 * look-alikes mapped to GSM-7) → Twilio's Messages resource, from `TWILIO_FROM` or the Messaging
 * Service. Opted-out numbers are refused before Twilio is called; a 21610 refusal opts the number
 * out. https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
 */
import type twilio from 'twilio';
import { renderSms } from '../../renderers/sms.ts';
import type { Logger } from '../../src/log.ts';
import { ChatSender, type ChatPost, type ChatPosted } from '../shared/chat-sender.ts';
import { OptedOutError } from './client.ts';
import type { SmsOptOuts } from './opt-outs.ts';

export interface SmsSenderOptions {
  client: twilio.Twilio;
  optOuts: SmsOptOuts;
  logger: Logger;
  /** One of the two: the sending number, or the Messaging Service. */
  from: string | undefined;
  messagingServiceSid: string | undefined;
  /** Where Twilio posts delivery statuses (`PUBLIC_URL/twilio/status`), when PUBLIC_URL is set. */
  statusCallback: string | undefined;
}

export class SmsSender extends ChatSender {
  /** Every SMS destination shares the sending number's token bucket (Twilio paces per sender). */
  readonly paceKey: string;

  constructor(private readonly opts: SmsSenderOptions) {
    super('sms', undefined);
    this.paceKey = `sms-sender:${opts.from ?? opts.messagingServiceSid}`;
  }

  /** Fan-out: page 1 of the rendered notice (notices are short; a long digest says MORE). */
  protected async post(p: ChatPost): Promise<ChatPosted> {
    const [body] = renderSms(p.reply);
    return { providerMessageId: await this.sendText(p.address, body!) };
  }

  /**
   * Send one body to a number; returns Twilio's MessageSid. Refuses an opted-out number with an
   * {@link OptedOutError} (permanent) before calling Twilio, and opts the number out when Twilio
   * refuses with 21610. `force` sends even so (the HELP answer, which carriers allow).
   */
  async sendText(to: string, body: string, force = false): Promise<string> {
    if (!force && (await this.opts.optOuts.isOptedOut(to))) {
      throw new OptedOutError(to, `sms: ${to} has opted out (texted STOP, or Twilio refused a send with 21610); nothing is sent until it texts START`);
    }
    const { from, messagingServiceSid, statusCallback } = this.opts;
    try {
      const message = await this.opts.client.messages.create({
        to,
        body,
        ...(messagingServiceSid ? { messagingServiceSid } : { from: from! }),
        ...(statusCallback ? { statusCallback } : {}),
      });
      return message.sid;
    } catch (err) {
      if (err instanceof OptedOutError) {
        await this.opts.optOuts.optOut(to, 'twilio_21610', err.message.slice(0, 500));
        this.opts.logger.warn({ to }, 'Twilio refused the send with 21610 (the number replied STOP): marked opted out, not retried');
      }
      throw err;
    }
  }
}
