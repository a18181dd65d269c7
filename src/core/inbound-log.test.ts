import { describe, expect, it } from 'vitest';
import { conversationKey, type InboundMessage } from './inbound.ts';
import { recordedMessage } from './inbound-log.ts';

/** The row `InboundLog.record` writes for `m` (the columns recordedMessage reads). */
function rowOf(m: InboundMessage, legacy = false) {
  return {
    channel: m.channel,
    providerMessageId: m.providerMessageId,
    seq: 1,
    conversationKey: conversationKey(m),
    address: legacy ? null : m.address,
    thread: legacy ? null : (m.thread ?? null),
    identityKey: m.sender,
    senderName: m.senderName ?? null,
    text: m.text,
    actionId: m.actionId ?? null,
    status: 'received' as const,
    reply: null,
    receivedAt: m.receivedAt,
    processedAt: null,
    answerClaimedAt: null,
  };
}

const base: InboundMessage = { channel: 'slack', address: 'C1', sender: 'slack:T1:U1', text: 'done 2', providerMessageId: 'command:t1', receivedAt: new Date(0) };

describe('a recorded message runs again as it came (after a crash)', () => {
  it.each([
    ['a channel message', base],
    ['in a thread', { ...base, thread: '1700000000.000100' }],
    ['a private (ephemeral) answer', { ...base, privateAnswer: true }],
    ['a private answer in a thread', { ...base, thread: '1700000000.000100', privateAnswer: true }],
  ])('%s keeps its conversation', (_what, m) => {
    const again = recordedMessage(rowOf(m));
    expect(again).toEqual(m);
    expect(conversationKey(again)).toBe(conversationKey(m));
  });

  it("a private answer is its sender's own conversation within the channel", () => {
    expect(conversationKey({ ...base, privateAnswer: true })).not.toBe(conversationKey({ ...base, sender: 'slack:T1:U2', privateAnswer: true }));
    expect(conversationKey(base)).toBe(conversationKey({ ...base, sender: 'slack:T1:U2' }));
  });

  it('rows from before address/thread columns are read from the key', () => {
    const m = { ...base, thread: '1700000000.000100' };
    expect(recordedMessage(rowOf(m, true))).toEqual(m);
  });
});
