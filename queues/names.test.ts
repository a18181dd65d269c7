import { describe, expect, it } from 'vitest';
import { DESTINATION_CHANNELS } from '../src/core/subscription-store.ts';
import { bucketKey, changesChannel, deliveryQueueName, deliveryTag, FANOUT_QUEUE, lockKey, pendingKey, queueTag, windowsFor } from './names.ts';
import { breakerKey, trustKey, untrustedSlotsKey } from './destination-guard.ts';
import { holdKey, platformHoldKey } from './token-bucket.ts';

/** The part of a key Redis Cluster hashes: the first `{…}` with something in it, else the whole key. */
function hashed(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('hash tags per queue', () => {
  it('derives one tag per queue from the configured prefix, each different', () => {
    expect(queueTag('{chitty}', FANOUT_QUEUE)).toBe('{chitty:fanout}');
    expect(deliveryTag('{chitty}', 'webhook')).toBe('{chitty:deliver-webhook}');
    expect(queueTag('bench', 'fanout')).toBe('{bench:fanout}');
    const tags = [queueTag('{chitty}', FANOUT_QUEUE), ...DESTINATION_CHANNELS.map((ch) => queueTag('{chitty}', deliveryQueueName(ch)))];
    expect(new Set(tags.map(hashed)).size).toBe(tags.length);
  });

  it("puts every key a delivery's Lua script reads in its channel queue's slot", () => {
    for (const ch of DESTINATION_CHANNELS) {
      const tag = deliveryTag('{chitty}', ch);
      const keys = [
        pendingKey(tag, 'd1'),
        lockKey(tag, 'd1'),
        bucketKey(tag, 'd1'),
        holdKey(tag, 'd1'),
        platformHoldKey(tag, ch),
        untrustedSlotsKey('{chitty}', ch),
        trustKey('{chitty}', ch, 'd1'),
        breakerKey('{chitty}', ch, 'd1'),
      ];
      expect(new Set(keys.map(hashed)), ch).toEqual(new Set([hashed(`${tag}:${deliveryQueueName(ch)}:wait`)]));
    }
  });

  it("keeps destinations' trust and breaker keys apart", () => {
    const keys = ['d1', 'd2'].flatMap((d) => [trustKey('{chitty}', 'webhook', d), breakerKey('{chitty}', 'webhook', d)]);
    expect(new Set(keys).size).toBe(4);
  });

  it('leaves the live-change channel under the configured prefix', () => {
    expect(changesChannel('{chitty}')).toBe('{chitty}:changes');
  });
});

// People get a digest a second at most; a webhook gets each change at once (batched only while a
// request to it is on its way). CHITTY_DIGEST_WINDOW_MS sets every channel, CHITTY_WEBHOOK_WINDOW_MS
// webhooks alone.
describe('coalescing windows', () => {
  it('holds chat channels for a second and webhooks not at all by default', () => {
    expect(windowsFor(undefined, undefined)).toEqual({ slack: 1000, discord: 1000, sms: 1000, whatsapp: 1000, email: 1000, webhook: 0 });
  });

  it('lets the webhook window override the one for every channel', () => {
    expect(windowsFor(200, undefined).webhook).toBe(200);
    expect(windowsFor(200, 5)).toEqual({ slack: 200, discord: 200, sms: 200, whatsapp: 200, email: 200, webhook: 5 });
  });
});
