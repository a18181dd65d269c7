/**
 * The Twilio REST client the SMS sender uses: the SDK's own client with a `RequestClient` that
 * (a) sends to `TWILIO_API_URL` instead of https://api.twilio.com when set (the SDK's `edge` and
 * `region` options only rewrite twilio.com host names, so a loopback fake needs this), and
 * (b) turns every failure into a typed `ChannelError` with the response's status, Twilio error
 * code and `Retry-After` (the SDK's RestException drops the headers).
 */
import twilio from 'twilio';

/** What `RequestClient.request` takes and gives (the SDK's own types). */
type RequestOptions<TData> = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0] & { data?: TData };
type TwilioResponse<TData> = Awaited<ReturnType<InstanceType<typeof twilio.RequestClient>['request']>> & { body: TData };
import { AuthError, type ChannelError, classifyHttpFailure, DestinationNotFoundError, NetworkError, RateLimitedError, redactUrl, ServerError, ValidationError } from '../../src/core/channel-errors.ts';

const CHANNEL = 'sms';

/** Twilio error codes this channel acts on. https://www.twilio.com/docs/api/errors */
export const TWILIO_ERRORS = {
  /** Authenticate: bad Account SID or Auth Token. */
  AUTH: 20003,
  /** Too Many Requests (HTTP 429). */
  TOO_MANY_REQUESTS: 20429,
  /** The 'To' number is not a valid phone number. */
  INVALID_TO: 21211,
  /** 'To' number is not a valid mobile number (a landline). */
  NOT_MOBILE: 21614,
  /** Attempt to send to unsubscribed recipient: the number replied STOP. */
  UNSUBSCRIBED: 21610,
} as const;

/** The person has opted out (STOP, or Twilio's 21610): never retried; START lifts it. */
export class OptedOutError extends ValidationError {
  override name = 'OptedOutError';
  readonly phone: string;
  constructor(phone: string, message: string, opts: ConstructorParameters<typeof ValidationError>[2] = {}) {
    super(message, CHANNEL, opts);
    this.phone = phone;
  }
}

/** Twilio's error body: `{code, message, more_info, status}`. */
interface TwilioErrorBody {
  code?: number;
  message?: string;
  more_info?: string;
  status?: number;
}

function errorBody(body: unknown): TwilioErrorBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as TwilioErrorBody;
    } catch {
      return {};
    }
  }
  return (body ?? {}) as TwilioErrorBody;
}

/**
 * A non-2xx Twilio answer as a ChannelError: 429/20429 → RateLimited (Retry-After, platform-wide:
 * the account's queue is full); 20003 → Auth; 21211/21614 → DestinationNotFound (the number cannot
 * get SMS; the subscription is stale); 21610 → OptedOut (permanent); 5xx → Server; the rest by
 * HTTP status.
 */
export function twilioFailure(status: number, body: unknown, headers: unknown, method: string, url: string, to?: string): ChannelError {
  const b = errorBody(body);
  const code = typeof b.code === 'number' ? b.code : undefined;
  const what = `Twilio ${code ?? `HTTP ${status}`}: ${b.message ?? 'request failed'} (HTTP ${status} from ${method} ${redactUrl(url)})`;
  const opts = { status, method, url };
  if (status === 429 || code === TWILIO_ERRORS.TOO_MANY_REQUESTS) {
    return RateLimitedError.fromHeaders((ms) => `${what}; retry after ${ms} ms`, CHANNEL, headers as Record<string, string>, { ...opts, scope: 'platform' });
  }
  if (code === TWILIO_ERRORS.AUTH) return new AuthError(`${what}; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN`, CHANNEL, opts);
  if (code === TWILIO_ERRORS.UNSUBSCRIBED) return new OptedOutError(to ?? '', `${what}; the number replied STOP, so it gets nothing until it texts START`, opts);
  if (code === TWILIO_ERRORS.INVALID_TO || code === TWILIO_ERRORS.NOT_MOBILE) return new DestinationNotFoundError(`${what}; this number cannot receive SMS`, CHANNEL, opts);
  if (status >= 500) return new ServerError(what, CHANNEL, opts);
  const mapped = classifyHttpFailure(CHANNEL, { status, method, url, bodyText: typeof body === 'string' ? body : JSON.stringify(body ?? '') });
  return mapped;
}

/** A RequestClient that talks to `baseUrl` (tests) and throws typed errors. */
export class SmsRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string | undefined,
    timeoutMs = 10_000,
  ) {
    super({ timeout: timeoutMs, keepAlive: true, autoRetry: false });
  }

  override async request<TData>(opts: RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    const uri = this.baseUrl ? rebase(opts.uri, this.baseUrl) : opts.uri;
    const method = opts.method.toUpperCase();
    let res: TwilioResponse<TData>;
    try {
      res = await super.request<TData>({ ...opts, uri });
    } catch (err) {
      throw new NetworkError(`Twilio unreachable: ${(err as Error).message} (${method} ${redactUrl(uri)})`, CHANNEL, { cause: err, method, url: uri });
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const form = (opts.data ?? {}) as Record<string, unknown>;
      throw twilioFailure(res.statusCode, res.body, res.headers, method, uri, typeof form.To === 'string' ? form.To : undefined);
    }
    return res;
  }
}

/** `https://api.twilio.com/2010-04-01/…` → `<base>/2010-04-01/…` (base may carry a path prefix). */
export function rebase(uri: string, base: string): string {
  const u = new URL(uri);
  return `${base.replace(/\/+$/, '')}${u.pathname}${u.search}`;
}

/** The SDK client for the account, pointed at `apiUrl` when set. */
export function createTwilioClient(accountSid: string, authToken: string, apiUrl: string | undefined): twilio.Twilio {
  return twilio(accountSid, authToken, { httpClient: new SmsRequestClient(apiUrl), autoRetry: false });
}
