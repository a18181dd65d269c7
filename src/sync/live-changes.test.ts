import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { captureLogger, LEVEL } from '../../test/support/log-capture.ts';
import { LiveChanges } from './live-changes.ts';
import type { SyncMessage } from './sync-message.ts';

describe('LiveChanges', () => {
  it('a listener that throws is logged at error; the other listeners still get the change and the source is not broken', () => {
    const { logger, lines } = captureLogger();
    const local = new EventEmitter();
    const live = new LiveChanges(local, new EventEmitter(), logger);
    const got: string[] = [];
    live.on('change', () => {
      throw new Error('socket exploded');
    });
    live.on('change', (m) => got.push(m.id));
    const m = { id: 'msg-1' } as SyncMessage;
    expect(() => local.emit('change', m)).not.toThrow();
    expect(got).toEqual(['msg-1']);
    expect(lines).toEqual([expect.objectContaining({ level: LEVEL.error, syncMessage: 'msg-1', err: expect.objectContaining({ message: 'socket exploded' }) })]);
  });

  it('a once listener still runs once', () => {
    const { logger } = captureLogger();
    const local = new EventEmitter();
    const live = new LiveChanges(local, new EventEmitter(), logger);
    let n = 0;
    live.once('change', () => n++);
    local.emit('change', { id: 'a' } as SyncMessage);
    local.emit('change', { id: 'b' } as SyncMessage);
    expect(n).toBe(1);
  });
});
