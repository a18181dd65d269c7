/**
 * `X-Twilio-Signature` over the URL Twilio called and the form parameters, checked with the
 * twilio SDK's `validateRequest` (JSON bodies: `validateRequestWithBody` and the URL's
 * `bodySHA256`). https://www.twilio.com/docs/usage/webhooks/webhooks-security
 *
 * One addition to the SDK: twilio-node also accepts a signature made over the URL with its host
 * lower-cased (WHATWG `new URL()` lower-cases hosts), so a signature for `mycompany.com` would
 * validate `MyCompany.com`. Twilio signs the URL exactly as configured, and the other SDKs
 * (twilio-csharp's vectors) refuse that; so when the called URL's host has capitals, the signature
 * must also match the URL with its host as written.
 */
import { timingSafeEqual } from 'node:crypto';
import twilio from 'twilio';
import type { InboundRequest, Verification } from '../../src/core/channel-adapter.ts';

/** Form parameters as Twilio sent them; a repeated key keeps every value. */
export type TwilioParams = Record<string, string | string[]>;

/** Decode an `application/x-www-form-urlencoded` body (UTF-8), keeping repeated keys as arrays. */
export function parseForm(raw: string): TwilioParams {
  const out: TwilioParams = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?([^:/?#]*)(:\d+)?(.*)$/is;

/** The URL as written, with its port as written, without it, and with the scheme's default port. */
function portVariants(url: string): string[] {
  const m = AUTHORITY.exec(url);
  if (!m) return [url];
  const [, scheme = '', user = '', host = '', , rest = ''] = m;
  const port = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return [url, `${scheme}${user}${host}${rest}`, `${scheme}${user}${host}${port}${rest}`];
}

const hostHasCapitals = (url: string): boolean => {
  const host = AUTHORITY.exec(url)?.[3] ?? '';
  return host !== host.toLowerCase();
};

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The signature made over the URL with its host's case as written (see the file comment). */
function matchesAsWritten(authToken: string, signature: string, url: string, params: TwilioParams, algorithm: string): boolean {
  return portVariants(url).some((u) => same(twilio.getExpectedTwilioSignature(authToken, u, params, algorithm), signature));
}

/**
 * Checks a Twilio request's signature. `url` is the URL Twilio called (PUBLIC_URL + path and
 * query); `rawBody` the bytes received. Refusals carry status 403, Twilio's convention.
 */
export function verifyTwilioSignature(authToken: string, url: string, headers: Record<string, string | undefined>, rawBody: string): Verification {
  const signature = headers['x-twilio-signature'];
  if (!signature) return { ok: false, reason: 'missing X-Twilio-Signature header', status: 403 };
  const algorithm = twilio.getSignatureAlgorithm(headers['x-twilio-webhooks-signature-settings']);
  let ok: boolean;
  let params: TwilioParams = {};
  try {
    if (/[?&]bodySHA256=/.test(url)) {
      ok = twilio.validateRequestWithBody(authToken, signature, url, rawBody, algorithm);
    } else {
      params = parseForm(rawBody);
      ok = twilio.validateRequest(authToken, signature, url, params, algorithm);
    }
  } catch (err) {
    return { ok: false, reason: `signature could not be checked: ${(err as Error).message}`, status: 403 };
  }
  // A JSON body's parameters are in the URL (bodySHA256), so the same check covers both kinds.
  if (ok && hostHasCapitals(url)) ok = matchesAsWritten(authToken, signature, url, params, algorithm);
  return ok ? { ok: true } : { ok: false, reason: `X-Twilio-Signature does not match ${url} and the parameters (is PUBLIC_URL the URL configured in Twilio?)`, status: 403 };
}

/** {@link verifyTwilioSignature} for a request received by the gateway. */
export function verifyTwilioRequest(authToken: string, req: InboundRequest): Verification {
  return verifyTwilioSignature(authToken, req.publicUrl, req.headers, req.rawBody.toString('utf8'));
}
