/**
 * Cloud API webhook bodies → the core's messages, delivery statuses, and what is ignored (with why).
 * One POST may carry several entries, changes, messages and statuses; each is read on its own.
 * {@link https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples}
 */
import type { IgnoreReason } from '../../src/core/channel-adapter.ts';
import type { InboundMessage } from '../../src/core/inbound.ts';
import type { ProviderStatus } from '../../queues/delivery-ledger.ts';
import { PROVIDER_STATUSES } from '../../queues/delivery-ledger.ts';

export interface CloudError {
  code: number;
  title?: string;
  message?: string;
  error_data?: { details?: string };
}

export interface CloudMessage {
  from: string;
  id: string;
  timestamp?: string;
  type: string;
  text?: { body?: string };
  button?: { payload?: string; text?: string };
  interactive?: { type: string; button_reply?: { id: string; title?: string }; list_reply?: { id: string; title?: string; description?: string } };
  image?: { caption?: string };
  video?: { caption?: string };
  document?: { caption?: string };
  context?: { from?: string; id?: string; forwarded?: boolean };
  errors?: CloudError[];
}

export interface CloudStatus {
  id: string;
  status: string;
  timestamp?: string;
  recipient_id?: string;
  errors?: CloudError[];
}

export interface CloudChangeValue {
  messaging_product?: string;
  metadata?: { display_phone_number?: string; phone_number_id?: string };
  contacts?: { profile?: { name?: string }; wa_id?: string }[];
  messages?: CloudMessage[];
  statuses?: CloudStatus[];
  errors?: CloudError[];
}

export interface CloudWebhook {
  object: string;
  entry: { id: string; changes: { field: string; value: CloudChangeValue }[] }[];
}

/** A status report for a message we sent, by its wamid. */
export interface StatusUpdate {
  providerMessageId: string;
  status: ProviderStatus;
  at: Date;
  /** `131047 Re-engagement message: …` for a failure. */
  error?: string;
}

export interface Ignored {
  id: string;
  reason: IgnoreReason;
  detail: string;
}

export interface ReadWebhook {
  messages: InboundMessage[];
  statuses: StatusUpdate[];
  ignored: Ignored[];
}

/** Cloud API `from`/`wa_id` are digits without `+`: `+<digits>` when that is an E.164 number. */
export function e164(waId: string): string | undefined {
  const digits = waId.trim().replace(/^\+/, '');
  return /^[1-9]\d{6,14}$/.test(digits) ? `+${digits}` : undefined;
}

/** `131047 Re-engagement message: More than 24 hours have passed…` */
export function describeCloudError(e: CloudError): string {
  const details = e.error_data?.details;
  return `${e.code} ${e.title ?? e.message ?? 'error'}${details ? `: ${details}` : ''}`;
}

/** The text a person sent, or why there is none. Buttons and list rows run the command their id names. */
function textOf(m: CloudMessage): { text: string; actionId?: string } | { reason: IgnoreReason; detail: string } {
  switch (m.type) {
    case 'text': {
      const body = m.text?.body ?? '';
      return body.trim() === '' ? { reason: 'empty', detail: 'empty text' } : { text: body };
    }
    case 'interactive': {
      const r = m.interactive?.type === 'button_reply' ? m.interactive.button_reply : m.interactive?.type === 'list_reply' ? m.interactive.list_reply : undefined;
      if (!r) return { reason: 'unsupported', detail: `interactive ${m.interactive?.type ?? '(no type)'}` };
      return r.id.trim() === '' ? { reason: 'empty', detail: 'button without an id' } : { text: r.id, actionId: r.id };
    }
    case 'button': {
      // A template's quick-reply button: its payload names the command, like a reply button's id.
      const payload = m.button?.payload ?? '';
      return payload.trim() === '' ? { reason: 'empty', detail: 'quick reply without a payload' } : { text: payload, actionId: payload };
    }
    case 'image':
    case 'video':
    case 'document': {
      const caption = m[m.type]?.caption ?? '';
      return caption.trim() === '' ? { reason: 'unsupported', detail: `${m.type} without a caption` } : { text: caption };
    }
    default:
      // reaction, location, audio/voice, sticker, contacts, order, system, unsupported, …
      return { reason: 'unsupported', detail: m.type };
  }
}

/**
 * Reads a Cloud API webhook body. Messages to another phone number than ours (one app can serve
 * several) are ignored. `receivedAt` is when we got it (the message's own timestamp can be old
 * on a re-delivery and is not used).
 */
export function readWebhook(body: unknown, receivedAt: Date, phoneNumberId: string): ReadWebhook {
  const out: ReadWebhook = { messages: [], statuses: [], ignored: [] };
  const hook = body as CloudWebhook;
  if (typeof hook !== 'object' || hook === null || !Array.isArray(hook.entry)) throw new Error('not a WhatsApp webhook: no entry[]');
  if (hook.object !== 'whatsapp_business_account') throw new Error(`not a WhatsApp webhook: object is ${JSON.stringify(hook.object)}`);
  for (const entry of hook.entry) {
    for (const change of entry?.changes ?? []) {
      const v = change?.value;
      if (change?.field !== 'messages' || !v) {
        out.ignored.push({ id: entry.id, reason: 'unsupported', detail: `field ${String(change?.field)}` });
        continue;
      }
      if (v.metadata?.phone_number_id && v.metadata.phone_number_id !== phoneNumberId) {
        out.ignored.push({ id: entry.id, reason: 'unsupported', detail: `for phone number id ${v.metadata.phone_number_id}, not ours` });
        continue;
      }
      for (const e of v.errors ?? []) out.ignored.push({ id: entry.id, reason: 'unsupported', detail: `error ${describeCloudError(e)}` });
      const names = new Map((v.contacts ?? []).map((c) => [c.wa_id ?? '', c.profile?.name]));
      for (const m of v.messages ?? []) {
        if (typeof m?.id !== 'string' || m.id === '') throw new Error('a message without an id');
        const number = typeof m.from === 'string' ? e164(m.from) : undefined;
        if (!number) {
          out.ignored.push({ id: m.id, reason: 'unsupported', detail: `sender ${JSON.stringify(m.from)} is not a phone number` });
          continue;
        }
        const t = textOf(m);
        if ('reason' in t) {
          out.ignored.push({ id: m.id, reason: t.reason, detail: t.detail });
          continue;
        }
        const name = names.get(m.from);
        out.messages.push({
          channel: 'whatsapp',
          address: number,
          sender: `whatsapp:${number}`,
          ...(name ? { senderName: name.slice(0, 200) } : {}),
          text: t.text.slice(0, 20_000),
          ...(t.actionId ? { actionId: t.actionId.slice(0, 255) } : {}),
          providerMessageId: m.id,
          receivedAt,
        });
      }
      for (const s of v.statuses ?? []) {
        if (typeof s?.id !== 'string' || s.id === '') throw new Error('a status without a message id');
        if (!(PROVIDER_STATUSES as readonly string[]).includes(s.status)) {
          out.ignored.push({ id: s.id, reason: 'status', detail: `status ${String(s.status)}` });
          continue;
        }
        const seconds = Number(s.timestamp);
        const error = (s.errors ?? []).map(describeCloudError).join('; ');
        out.statuses.push({
          providerMessageId: s.id,
          status: s.status as ProviderStatus,
          at: Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : receivedAt,
          ...(error ? { error } : {}),
        });
      }
    }
  }
  return out;
}
