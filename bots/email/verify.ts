/**
 * What the email channel verifies (its counterpart of the other channels' signature checks): the
 * signed tokens in its addresses and links.
 *
 * Reply tokens: the `<token>` of `Reply-To: todo+<token>@EMAIL_REPLY_DOMAIN`. A token names the
 * entity and the recipient and expires; it is HMAC-SHA256-signed with a secret kept like the
 * webhook secret (EMAIL_TOKEN_SECRET, else generated into DATA_DIR/email-token-secret), so it
 * cannot be forged, moved to another entity or another recipient, or used after it expired.
 *
 * It fits a local part (RFC 5321: 64 octets, `todo+` included) and survives a server that
 * lower-cases addresses: lower-case base32 only, fixed-width fields, no separators —
 * kind (1) · entity ULID (26) · recipient hash (6) · expiry in seconds (7) · MAC (16) = 56.
 * {@link https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1.1}
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The local part before `+`. */
export const REPLY_LOCAL = 'todo';
/** Length of a reply token. */
export const REPLY_TOKEN_LENGTH = 56;

const B32 = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford, lower case (ULIDs use it too)
const KINDS: Record<string, string> = { TODO: 'd', PROJ: 'p', TOPIC: 't', SESSION: 's', CONTEXT: 'c', REPO: 'r', SERVICE: 'v' };
const KIND_OF = Object.fromEntries(Object.entries(KINDS).map(([k, v]) => [v, k]));

function base32(bytes: Buffer, chars: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

const mac = (secret: string, body: string): string => base32(createHmac('sha256', secret).update(`chitty-email-reply\n${body}`).digest(), 16);
/** Six base32 characters of the recipient's lower-cased address. */
export const recipientHash = (address: string): string => base32(createHash('sha256').update(address.trim().toLowerCase()).digest(), 6);

/** What a valid token says. */
export interface ReplyTokenClaims {
  entityId: string;
  /** Hash of the recipient's address ({@link recipientHash}): compare with a candidate address. */
  recipient: string;
  expiresAt: Date;
}

export type TokenCheck = { ok: true; claims: ReplyTokenClaims } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

/** Signs a token for an entity (`CHITTY-TODO-<ULID>`) and a recipient address. */
export function signReplyToken(secret: string, entityId: string, recipient: string, expiresAt: Date): string {
  const m = /^CHITTY-([A-Z]+)-([0-9A-HJKMNP-TV-Z]{26})$/.exec(entityId);
  const kind = m ? KINDS[m[1]!] : undefined;
  if (!m || !kind) throw new Error(`cannot make a reply token for ${entityId}: not a CHITTY-<kind>-<ULID> id`);
  const seconds = Math.max(0, Math.floor(expiresAt.getTime() / 1000));
  let exp = '';
  for (let v = seconds, i = 0; i < 7; i++, v = Math.floor(v / 32)) exp = B32[v % 32] + exp;
  const body = `${kind}${m[2]!.toLowerCase()}${recipientHash(recipient)}${exp}`;
  return `${body}${mac(secret, body)}`;
}

/** Checks a token's signature and expiry; never throws. */
export function verifyReplyToken(secret: string, token: string, now: Date): TokenCheck {
  const t = token.trim().toLowerCase();
  if (t.length !== REPLY_TOKEN_LENGTH || ![...t].every((c) => B32.includes(c))) return { ok: false, reason: 'malformed' };
  const body = t.slice(0, 40);
  const expected = Buffer.from(mac(secret, body));
  if (!timingSafeEqual(expected, Buffer.from(t.slice(40)))) return { ok: false, reason: 'forged' };
  const kind = KIND_OF[t[0]!];
  if (!kind) return { ok: false, reason: 'malformed' };
  let seconds = 0;
  for (const c of t.slice(33, 40)) seconds = seconds * 32 + B32.indexOf(c);
  const expiresAt = new Date(seconds * 1000);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { entityId: `CHITTY-${kind}-${t.slice(1, 27).toUpperCase()}`, recipient: t.slice(27, 33), expiresAt } };
}

/** The reply address of a token. */
export const replyAddress = (token: string, domain: string): string => `${REPLY_LOCAL}+${token}@${domain}`;

/** The token of a reply address at our domain (`todo+<token>@domain`), `''` for a bare `todo@domain`, else undefined. */
export function tokenOfAddress(address: string, domain: string): string | undefined {
  const m = /^([^@\s]+)@([^@\s]+)$/.exec(address.trim().toLowerCase());
  if (!m || m[2] !== domain.toLowerCase()) return undefined;
  const [local, tag] = m[1]!.split('+', 2) as [string, string | undefined];
  if (local !== REPLY_LOCAL) return undefined;
  return tag ?? '';
}

/** Unsubscribe tokens (List-Unsubscribe URL): the address itself, signed; they do not expire. */
export function signUnsubscribe(secret: string, address: string): string {
  const a = Buffer.from(address.trim().toLowerCase()).toString('base64url');
  return `${a}.${createHmac('sha256', secret).update(`chitty-email-unsubscribe\n${a}`).digest('base64url').slice(0, 32)}`;
}

/** The address an unsubscribe token names, or undefined when it does not verify. */
export function verifyUnsubscribe(secret: string, token: string): string | undefined {
  const [a, sig] = token.split('.', 2);
  if (!a || !sig) return undefined;
  const expected = Buffer.from(createHmac('sha256', secret).update(`chitty-email-unsubscribe\n${a}`).digest('base64url').slice(0, 32));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return Buffer.from(a, 'base64url').toString('utf8');
}
