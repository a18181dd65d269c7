/**
 * Discord request signatures: Ed25519 over `X-Signature-Timestamp + raw body`, the signature hex in
 * `X-Signature-Ed25519`, checked against the application's public key (`DISCORD_PUBLIC_KEY`) with
 * the `discord-interactions` package's `verifyKey` (Web Crypto Ed25519).
 * Discord probes the endpoint with deliberately bad signatures and removes it unless it gets 401
 * (https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers).
 * Discord sets no freshness window; we refuse timestamps older than {@link DISCORD_MAX_AGE_SECONDS}
 * (or further in the future) so a captured request cannot be replayed later.
 */
import { webcrypto } from 'node:crypto';
import { verifyKey } from 'discord-interactions';
import type { InboundRequest, Verification } from '../../src/core/channel-adapter.ts';

/** Oldest signed timestamp accepted, like Slack's window (5 minutes). */
export const DISCORD_MAX_AGE_SECONDS = 5 * 60;

const SIGNATURE = /^[0-9a-fA-F]{128}$/;
const TIMESTAMP = /^\d{1,12}$/;

export interface DiscordSignature {
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer | string;
}

/** Checks one request's signature; `nowMs` is the clock (injectable for recorded vectors). */
export class DiscordVerifier {
  private readonly key: Promise<webcrypto.CryptoKey | undefined>;

  constructor(
    publicKeyHex: string,
    private readonly nowMs: () => number = Date.now,
    private readonly maxAgeSeconds = DISCORD_MAX_AGE_SECONDS,
  ) {
    // Imported once: every request then only runs the verification.
    this.key = /^[0-9a-fA-F]{64}$/.test(publicKeyHex)
      ? webcrypto.subtle.importKey('raw', Buffer.from(publicKeyHex, 'hex'), { name: 'Ed25519' }, false, ['verify']).catch(() => undefined)
      : Promise.resolve(undefined);
  }

  async verify(sig: DiscordSignature): Promise<Verification> {
    const { timestamp, signature } = sig;
    if (timestamp === undefined || timestamp === '') return { ok: false, reason: 'missing X-Signature-Timestamp' };
    if (!TIMESTAMP.test(timestamp)) return { ok: false, reason: 'X-Signature-Timestamp is not unix seconds' };
    if (signature === undefined || signature === '') return { ok: false, reason: 'missing X-Signature-Ed25519' };
    if (!SIGNATURE.test(signature)) return { ok: false, reason: 'X-Signature-Ed25519 is not 64 bytes of hex' };
    const key = await this.key;
    if (!key) return { ok: false, reason: 'DISCORD_PUBLIC_KEY is not a usable Ed25519 key' };
    const body = typeof sig.rawBody === 'string' ? Buffer.from(sig.rawBody) : sig.rawBody;
    const ok = await verifyKey(body, signature, timestamp, key as unknown as Parameters<typeof verifyKey>[3]);
    if (!ok) return { ok: false, reason: 'signature does not match' };
    // Checked after the signature so a forged request learns nothing about our clock.
    const age = Math.floor(this.nowMs() / 1000) - Number(timestamp);
    if (age > this.maxAgeSeconds) return { ok: false, reason: `timestamp is ${age} s old (more than ${this.maxAgeSeconds} s)` };
    if (age < -this.maxAgeSeconds) return { ok: false, reason: 'timestamp is in the future' };
    return { ok: true };
  }

  /** The request's headers and raw bytes, as the route runner hands them over. */
  verifyRequest(req: InboundRequest): Promise<Verification> {
    return this.verify({ timestamp: req.headers['x-signature-timestamp'], signature: req.headers['x-signature-ed25519'], rawBody: req.rawBody });
  }
}
