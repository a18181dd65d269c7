import { describe, expect, it } from 'vitest';
import { DESTINATION_CHANNELS } from '../src/core/subscription-store.ts';
import { bucketKey, changesChannel, deliveryQueueName, deliveryTag, FANOUT_QUEUE, lockKey, pendingKey, queueTag } from './names.ts';
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
      const keys = [pendingKey(tag, 'd1'), lockKey(tag, 'd1'), bucketKey(tag, 'd1'), holdKey(tag, 'd1'), platformHoldKey(tag, ch), untrustedSlotsKey('{chitty}', ch)];
      expect(new Set(keys.map(hashed)), ch).toEqual(new Set([hashed(`${tag}:${deliveryQueueName(ch)}:wait`)]));
    }
  });

  it("keeps a destination's trust and breaker keys (one MULTI) together, and destinations apart", () => {
    expect(hashed(trustKey('{chitty}', 'd1'))).toBe(hashed(breakerKey('{chitty}', 'd1')));
    expect(hashed(trustKey('{chitty}', 'd1'))).not.toBe(hashed(trustKey('{chitty}', 'd2')));
  });

  it('leaves the live-change channel under the configured prefix', () => {
    expect(changesChannel('{chitty}')).toBe('{chitty}:changes');
  });
});
