/** whatsapp-web.js messages (shapes from the corpus's index.d.ts example) and the session lock. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { readWebMessage } from './web.ts';
import { SessionLock } from './lock.ts';
import { webMessage } from '../../test/fakes/whatsapp-web-client.ts';
import { TEST_REDIS_URL } from '../../test/support/gateway.ts';

describe('readWebMessage', () => {
  const at = new Date();
  it('a 1:1 chat message runs as the sender, addressed to their number', () => {
    const r = readWebMessage(webMessage({ from: '554199999999@c.us', body: 'list', id: '1234567890ABCDEFGHIJ' }), at);
    expect(r).toEqual({
      message: { channel: 'whatsapp', address: '+554199999999', sender: 'whatsapp:+554199999999', text: 'list', providerMessageId: 'false_554199999999@c.us_1234567890ABCDEFGHIJ', receivedAt: at },
    });
  });
  it('in a group, from is the group and author the sender', () => {
    const r = readWebMessage(webMessage({ from: '120363012345678901@g.us', author: '554188888888@c.us', body: 'add Milk' }), at);
    expect(r).toMatchObject({ message: { address: '120363012345678901@g.us', sender: 'whatsapp:+554188888888' } });
  });
  it('ignores our own messages, status broadcasts, @lid senders and media without text', () => {
    expect(readWebMessage(webMessage({ from: '554199999999@c.us', body: 'hi', fromMe: true }), at)).toHaveProperty('ignore');
    expect(readWebMessage(webMessage({ from: 'status@broadcast', author: '554199999999@c.us', body: 'story' }), at)).toHaveProperty('ignore');
    expect(readWebMessage(webMessage({ from: '123456789@lid', body: 'hi' }), at)).toHaveProperty('ignore');
    expect(readWebMessage(webMessage({ from: '554199999999@c.us', body: '', type: 'image' }), at)).toHaveProperty('ignore');
  });
});

describe('SessionLock', () => {
  const redis = new Redis(TEST_REDIS_URL);
  afterAll(() => redis.disconnect());
  it('one holder; renew only by the holder; the other takes over once it expires', async () => {
    const key = `{wa-test-${Date.now()}}:whatsapp:session-lock`;
    const a = new SessionLock(redis, key, 300);
    const b = new SessionLock(redis, key, 300);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.renew()).toBe(true);
    expect(await b.renew()).toBe(false);
    await new Promise((r) => setTimeout(r, 450)); // a died: no renewals
    expect(await b.acquire()).toBe(true);
    expect(await a.renew()).toBe(false);
    await a.release(); // not a's any more: b keeps it
    expect(await redis.get(key)).toBe(b.token);
    await b.release();
    expect(await redis.get(key)).toBeNull();
  });
});
