import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { Hub } from '../src/hub/hub.ts';
import type { SyncMessage } from '../src/sync/sync-message.ts';
import { captureLogger, LEVEL } from '../test/support/log-capture.ts';
import { RedisChangeBus } from './change-bus.ts';

function bus(publish: () => Promise<number>) {
  const { logger, lines } = captureLogger();
  const hub = new EventEmitter();
  const subscriber = Object.assign(new EventEmitter(), { subscribe: async () => 1, unsubscribe: async () => 1 });
  const b = new RedisChangeBus({ publish } as unknown as Redis, subscriber as unknown as Redis, 'ch', hub as unknown as Hub, logger);
  return { b, hub, subscriber, lines };
}

describe('RedisChangeBus', () => {
  it('a listener that throws is logged as a listener failure at error, not as a malformed change', async () => {
    const { b, subscriber, lines } = bus(async () => 1);
    await b.start();
    b.on('change', () => {
      throw new Error('listener bug');
    });
    subscriber.emit('message', 'ch', JSON.stringify({ id: 'm1' }));
    expect(lines).toEqual([expect.objectContaining({ level: LEVEL.error, syncMessage: 'm1', err: expect.objectContaining({ message: 'listener bug' }) })]);
    expect(lines[0]!.msg).not.toMatch(/malformed/);
  });

  it('a body that is not JSON is reported as malformed at warn', async () => {
    const { b, subscriber, lines } = bus(async () => 1);
    await b.start();
    subscriber.emit('message', 'ch', '{nope');
    expect(lines).toEqual([expect.objectContaining({ level: LEVEL.warn, excerpt: '{nope' })]);
    expect(lines[0]!.msg).toMatch(/malformed/);
  });

  it('failing to publish is a warning saying who misses the change, once while Redis stays down', async () => {
    const { b, hub, lines } = bus(async () => Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false")));
    await b.start();
    for (let i = 0; i < 100; i++) hub.emit('change', { id: `m${i}` } as SyncMessage);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: LEVEL.warn, syncMessage: 'm0' });
    expect(lines[0]!.msg).toMatch(/Publishing a live change to Redis failed; WebSocket clients of other web processes miss it/);
  });
});
