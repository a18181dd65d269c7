/**
 * The Graph API's messages endpoint, and its errors mapped onto `channel-errors.ts`.
 * `POST {WHATSAPP_API_URL}/{version}/{phone number id}/messages`, Bearer WHATSAPP_TOKEN.
 * {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages}
 * {@link https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes}
 */
import { AuthError, type ChannelError, classifyHttpFailure, DestinationNotFoundError, NetworkError, RateLimitedError, redactUrl, ServerError, ValidationError } from '../../src/core/channel-errors.ts';
import type { WhatsAppMessage } from '../../renderers/whatsapp.ts';

const CHANNEL = 'whatsapp';

/** A template message (sent outside the 24-hour window). */
export interface TemplateMessage {
  type: 'template';
  template: { name: string; language: { code: string }; components?: { type: 'body'; parameters: { type: 'text'; text: string }[] }[] };
}

export type GraphMessage = WhatsAppMessage | TemplateMessage;

/** Graph error codes that mean "too many messages" (throughput, spam limit, pair rate limit). */
export const RATE_LIMIT_CODES = new Set([4, 80007, 130429, 131048, 131056]);
/** Re-engagement: more than 24 hours since the person's last message; only a template may go. */
export const OUTSIDE_WINDOW_CODE = 131047;

/** A free-form message was refused: the customer-service window is closed (send a template). */
export class OutsideWindowError extends ValidationError {
  override name = 'OutsideWindowError';
}

/** Graph's error body: `{error:{message,type,code,error_subcode,error_data,fbtrace_id}}`. */
interface GraphErrorBody {
  error?: { message?: string; type?: string; code?: number; error_subcode?: number; error_data?: { details?: string }; fbtrace_id?: string };
}

/** Maps a Graph API error response to the right ChannelError. */
export function graphError(status: number, bodyText: string, headers: { get(name: string): string | null }, method: string, url: string): ChannelError {
  let body: GraphErrorBody = {};
  try {
    body = JSON.parse(bodyText) as GraphErrorBody;
  } catch {
    /* not JSON: judged by the status alone */
  }
  const e = body.error;
  const code = e?.code;
  const opts = { status, method, url };
  const what =
    `${CHANNEL}: Graph API ${code ?? status}${e?.error_subcode ? `/${e.error_subcode}` : ''} ${e?.message ?? ''}${e?.error_data?.details ? ` (${e.error_data.details})` : ''} from ${method} ${redactUrl(url)}`
      .replace(/\s+/g, ' ')
      .trim();
  if (code === OUTSIDE_WINDOW_CODE) return new OutsideWindowError(what, CHANNEL, opts);
  if (status === 429 || (code !== undefined && RATE_LIMIT_CODES.has(code))) {
    // 131056: too many messages to this one number; the others limit the whole business number.
    return RateLimitedError.fromHeaders(() => what, CHANNEL, headers, { ...opts, scope: code === 131056 ? 'destination' : 'platform' });
  }
  if (code === 190 || code === 0 || code === 10 || (code !== undefined && code >= 200 && code < 300) || status === 401 || (e?.type === 'OAuthException' && status === 403)) {
    return new AuthError(what, CHANNEL, opts);
  }
  if (code === 131026) return new DestinationNotFoundError(what, CHANNEL, opts);
  if (code === 131030) return new ValidationError(what, CHANNEL, opts);
  if (status >= 500) return new ServerError(what, CHANNEL, opts);
  if (status >= 400 && e) return new ValidationError(what, CHANNEL, opts);
  return classifyHttpFailure(CHANNEL, { status, headers, method, url, bodyText });
}

export interface GraphClientConfig {
  apiUrl: string;
  apiVersion: string;
  phoneNumberId: string;
  token: string;
  timeoutMs?: number;
}

/** Sends messages through the Graph API; every failure is a ChannelError. */
export class GraphClient {
  private readonly url: string;

  constructor(private readonly cfg: GraphClientConfig) {
    this.url = `${cfg.apiUrl.replace(/\/+$/, '')}/${cfg.apiVersion}/${cfg.phoneNumberId}/messages`;
  }

  /**
   * Sends one message to an E.164 number; returns its wamid. `replyTo` quotes the person's message
   * (the Cloud API's `context`), so an answer shows which question it answers.
   */
  async send(to: string, message: GraphMessage, replyTo?: string): Promise<string> {
    const body = JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', to: to.replace(/^\+/, ''), ...(replyTo ? { context: { message_id: replyTo } } : {}), ...message });
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.cfg.token}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.cfg.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new NetworkError(`${CHANNEL}: could not reach the Graph API at ${redactUrl(this.url)}: ${(err as Error).message}`, CHANNEL, { cause: err, method: 'POST', url: this.url });
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) throw graphError(res.status, text, res.headers, 'POST', this.url);
    try {
      const id = (JSON.parse(text) as { messages?: { id?: string }[] }).messages?.[0]?.id;
      if (typeof id === 'string' && id !== '') return id;
    } catch {
      /* fall through */
    }
    throw new ServerError(`${CHANNEL}: the Graph API accepted the message but returned no message id`, CHANNEL, { status: res.status, method: 'POST', url: this.url });
  }
}
