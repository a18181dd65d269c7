/**
 * The web page's sign-in session: a signed cookie instead of the token itself.
 *
 * Signing in with the API token sets `chitty_session=v1.<expires>.<HMAC-SHA256(token, expires)>`
 * (HttpOnly, SameSite=Strict, Path=/, `Secure` when the request came over https or with
 * `X-Forwarded-Proto: https`). Any process that knows the token can check it, so sessions work
 * across scaled-out web processes; changing CHITTY_API_TOKEN ends every session.
 *
 * CSRF: a cookie-authenticated write (any method but GET/HEAD/OPTIONS) must carry
 * `X-Chitty-CSRF: 1` — a header a cross-site form cannot send and cross-site scripts cannot send
 * without a CORS preflight the gateway never grants — and, when the browser sends `Origin`, it
 * must be this gateway's own origin. A WebSocket upgrade with the cookie must come from our origin.
 * See https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { tokenFromCookie } from '../api/queue-dashboard.ts';

/** The session cookie's name. */
export const SESSION_COOKIE = 'chitty_session';
/** The header a cookie-authenticated write must carry. */
export const CSRF_HEADER = 'x-chitty-csrf';
/** How long a sign-in lasts (seconds): 7 days. */
export const SESSION_MAX_AGE_S = 7 * 24 * 3600;

const sign = (token: string, expires: number) => createHmac('sha256', token).update(`chitty-web-session.v1.${expires}`).digest('base64url');

/** A new session value for this token, valid for `maxAgeS` seconds from `now`. */
export function newSession(token: string, now = Date.now(), maxAgeS = SESSION_MAX_AGE_S): string {
  const expires = Math.floor(now / 1000) + maxAgeS;
  return `v1.${expires}.${sign(token, expires)}`;
}

/** True when `value` is an unexpired session signed with `token`. */
export function sessionValid(value: string | undefined, token: string, now = Date.now()): boolean {
  const m = value ? /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
  if (!m) return false;
  const expires = Number(m[1]);
  if (expires * 1000 <= now) return false;
  const a = Buffer.from(m[2]!);
  const b = Buffer.from(sign(token, expires));
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when the request reached us over TLS (directly or through a proxy that says so). */
export function overTls(req: FastifyRequest): boolean {
  const fwd = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim().toLowerCase();
  return req.protocol === 'https' || first === 'https';
}

const attrs = (req: FastifyRequest) => `Path=/; HttpOnly; SameSite=Strict${overTls(req) ? '; Secure' : ''}`;

/** `Set-Cookie` that signs the browser in. */
export function sessionCookie(req: FastifyRequest, token: string): string {
  return `${SESSION_COOKIE}=${newSession(token)}; ${attrs(req)}; Max-Age=${SESSION_MAX_AGE_S}`;
}

/** `Set-Cookie` that signs the browser out. */
export function clearedSessionCookie(req: FastifyRequest): string {
  return `${SESSION_COOKIE}=; ${attrs(req)}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;
}

/** True when the `Origin` header is absent or names the host this request was sent to. */
export function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export type SessionCheck = { ok: true } | { ok: false; status: 401 | 403; code: string; message: string };

/**
 * Is this request signed in with the session cookie, and may it do what it asks? Undefined when
 * there is no valid session (the caller then answers 401 as for a missing token).
 */
export function checkSession(req: FastifyRequest, token: string): SessionCheck | undefined {
  if (!sessionValid(tokenFromCookie(req.headers.cookie, SESSION_COOKIE), token)) return undefined;
  const upgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
  if (!sameOrigin(req)) return { ok: false, status: 403, code: 'cross_origin', message: "A signed-in request must come from this gateway's own page (Origin does not match)." };
  if (upgrade || ['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return { ok: true };
  if (req.headers[CSRF_HEADER] !== '1') return { ok: false, status: 403, code: 'csrf', message: `A signed-in write needs the header "X-Chitty-CSRF: 1" (the web page sends it).` };
  return { ok: true };
}
