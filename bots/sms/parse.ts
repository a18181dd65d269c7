/**
 * Twilio's webhook form → the core's `InboundMessage`, or an ignore. Identity `sms:<E.164>`, the
 * conversation is the sender's number, `MessageSid` is the provider id (a re-delivery runs once).
 * An MMS may have no `Body`. https://www.twilio.com/docs/messaging/guides/webhook-request
 */
import type { InboundMessage } from '../../src/core/inbound.ts';
import type { Parsed } from '../../src/core/channel-adapter.ts';
import { carrierKeyword, type CarrierKeyword } from './keywords.ts';
import type { TwilioParams } from './verify.ts';

/** The neutral fields of a Twilio message webhook or status callback. */
export interface TwilioMessageFields {
  messageSid: string | undefined;
  from: string;
  to: string;
  text: string;
  /** Twilio's `OptOutType` (Advanced Opt-Out), when it matched a keyword. */
  optOutType: string | undefined;
  media: { contentType: string; url: string }[];
  location: { latitude: number; longitude: number; address?: string; label?: string } | undefined;
  /** Status callbacks: `MessageStatus` (queued, sent, delivered, undelivered, failed, read…). */
  status: string | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;
}

/** What the SMS route answers with: the person's number and, for carrier keywords, which one. */
export interface SmsRespond {
  to: string;
  keyword: CarrierKeyword | undefined;
}

const one = (p: TwilioParams, key: string): string | undefined => {
  const v = p[key];
  return Array.isArray(v) ? v[0] : v;
};

/** Read a Twilio webhook's fields (message or status callback). */
export function readTwilioFields(p: TwilioParams): TwilioMessageFields {
  const media: TwilioMessageFields['media'] = [];
  const n = Number(one(p, 'NumMedia') ?? '0');
  for (let i = 0; i < (Number.isFinite(n) ? Math.min(n, 10) : 0); i++) {
    const url = one(p, `MediaUrl${i}`);
    if (url) media.push({ contentType: one(p, `MediaContentType${i}`) ?? 'application/octet-stream', url });
  }
  const lat = one(p, 'Latitude');
  const lon = one(p, 'Longitude');
  const address = one(p, 'Address');
  const label = one(p, 'Label');
  return {
    messageSid: one(p, 'MessageSid') ?? one(p, 'SmsMessageSid') ?? one(p, 'SmsSid'),
    from: one(p, 'From') ?? '',
    to: one(p, 'To') ?? '',
    text: one(p, 'Body') ?? '',
    optOutType: one(p, 'OptOutType'),
    media,
    location:
      lat !== undefined && lon !== undefined && Number.isFinite(Number(lat)) && Number.isFinite(Number(lon))
        ? { latitude: Number(lat), longitude: Number(lon), ...(address ? { address } : {}), ...(label ? { label } : {}) }
        : undefined,
    status: one(p, 'MessageStatus') ?? one(p, 'SmsStatus'),
    errorCode: one(p, 'ErrorCode'),
    errorMessage: one(p, 'ErrorMessage'),
  };
}

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * An inbound SMS webhook → a message for the core. Carrier keywords become the core's read-only
 * `help` (so the keyword is recorded once under its MessageSid and a re-delivery runs once); the
 * keyword itself is acted on when the answer goes out (`respond.keyword`). A message from
 * `ownNumber` (our TWILIO_FROM) is our own echo.
 */
export function parseInboundSms(p: TwilioParams, receivedAt: Date, ownNumber?: string): Parsed<SmsRespond> {
  const f = readTwilioFields(p);
  if (!f.messageSid) throw new Error('MessageSid is missing: not a Twilio message webhook');
  if (ownNumber && f.from === ownNumber) return { kind: 'ignore', reason: 'own_echo', detail: 'sent from our own number' };
  if (/^[a-z]+:/i.test(f.from)) return { kind: 'ignore', reason: 'unsupported', detail: `${f.from.split(':')[0]} via Twilio is not the SMS channel` };
  if (!E164.test(f.from)) return { kind: 'ignore', reason: 'unsupported', detail: 'sender is not an E.164 phone number (short code or alphanumeric sender)' };
  const text = f.text.trim();
  if (text === '') return { kind: 'ignore', reason: 'empty', detail: f.media.length > 0 ? 'MMS without text' : 'empty message' };
  const keyword = carrierKeyword(text, f.optOutType);
  const message: InboundMessage = {
    channel: 'sms',
    address: f.from,
    sender: `sms:${f.from}`,
    text: keyword ? 'help' : text,
    providerMessageId: f.messageSid,
    receivedAt,
  };
  return { kind: 'message', message, respond: { to: f.from, keyword } };
}
