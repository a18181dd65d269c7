/**
 * Discord signatures against the shared corpus (../shared/corpus/discord, read at run time):
 * every signature vector verifies with its own public key and clock, every negative is refused;
 * the real Discord-signed PING verifies only with a clock near its timestamp.
 */
import { describe, expect, it } from 'vitest';
import { readDiscordCorpus, DISCORD_CORPUS_ABSENT, discordCorpusPresent } from '../../test/support/discord.ts';
import { signInteraction, testKeys } from '../../test/fakes/discord.ts';
import { DiscordVerifier } from './verify.ts';

const vectors = readDiscordCorpus().filter((f) => f.kind === 'signature_vector');

describe('Discord signature verification', () => {
  it.skipIf(!discordCorpusPresent)(`every corpus vector verifies and every negative is refused (${discordCorpusPresent ? `${vectors.length} vectors` : DISCORD_CORPUS_ABSENT})`, async () => {
    expect(vectors.length).toBeGreaterThanOrEqual(6);
    let negatives = 0;
    for (const v of vectors) {
      const ts = v.headers!['x-signature-timestamp']!;
      const clock = () => (Number(ts) || 0) * 1000;
      const verifier = new DiscordVerifier(v.public_key_hex!, clock);
      const signed = { timestamp: ts, signature: v.headers!['x-signature-ed25519'], rawBody: v.raw_body! };
      const result = await verifier.verify(signed);
      // The primitive vector (empty timestamp, body "Oh no!") verifies as math only: the request is still refused.
      if (ts === '') expect(result, v.name).toEqual({ ok: false, reason: 'missing X-Signature-Timestamp' });
      else expect(result, v.name).toEqual({ ok: true });
      for (const n of v.negative_cases ?? []) {
        negatives++;
        const r = await verifier.verify({
          timestamp: n.headers?.['x-signature-timestamp'] ?? signed.timestamp,
          signature: n.headers?.['x-signature-ed25519'] ?? signed.signature,
          rawBody: n.raw_body ?? signed.rawBody,
        });
        expect(r.ok, `${v.name}: ${n.description}`).toBe(false);
      }
    }
    expect(negatives).toBeGreaterThanOrEqual(17);
  });

  it.skipIf(!discordCorpusPresent)('the real Discord-signed PING: valid at its own time, refused 5 minutes and 1 second later', async () => {
    const v = vectors.find((f) => f.name === 'sigvec__ssmmiles_real_ping.json')!;
    const ts = Number(v.headers!['x-signature-timestamp']);
    const req = { timestamp: String(ts), signature: v.headers!['x-signature-ed25519'], rawBody: v.raw_body! };
    expect(await new DiscordVerifier(v.public_key_hex!, () => (ts + 300) * 1000).verify(req)).toEqual({ ok: true });
    const late = await new DiscordVerifier(v.public_key_hex!, () => (ts + 301) * 1000).verify(req);
    expect(late.ok).toBe(false);
    // With the real clock (2022 timestamp) it is a replay.
    expect((await new DiscordVerifier(v.public_key_hex!).verify(req)).ok).toBe(false);
  });

  it('refuses missing, empty, non-numeric and future timestamps, and malformed signatures', async () => {
    const keys = testKeys();
    const body = '{"type":1}';
    const h = signInteraction(keys, body);
    const v = new DiscordVerifier(keys.publicKeyHex);
    expect(await v.verify({ timestamp: h['x-signature-timestamp'], signature: h['x-signature-ed25519'], rawBody: body })).toEqual({ ok: true });
    for (const timestamp of [undefined, '', 'abc', '12.5', '-1']) expect((await v.verify({ timestamp, signature: h['x-signature-ed25519'], rawBody: body })).ok).toBe(false);
    for (const signature of [undefined, '', 'zz'.repeat(64), h['x-signature-ed25519']!.slice(2)])
      expect((await v.verify({ timestamp: h['x-signature-timestamp'], signature, rawBody: body })).ok).toBe(false);
    const future = signInteraction(keys, body, Math.floor(Date.now() / 1000) + 3600);
    expect((await v.verify({ timestamp: future['x-signature-timestamp'], signature: future['x-signature-ed25519'], rawBody: body })).ok).toBe(false);
    // Another key's signature.
    expect((await new DiscordVerifier(testKeys().publicKeyHex).verify({ timestamp: h['x-signature-timestamp'], signature: h['x-signature-ed25519'], rawBody: body })).ok).toBe(false);
    // A broken public key refuses everything instead of throwing.
    expect((await new DiscordVerifier('nothex').verify({ timestamp: h['x-signature-timestamp'], signature: h['x-signature-ed25519'], rawBody: body })).ok).toBe(false);
  });
});
