import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { captureLogger, LEVEL } from '../test/support/log-capture.ts';
import { ThrottledErrorLog, watchConnection } from './error-log.ts';

describe('ThrottledErrorLog', () => {
  it('logs a failure that repeats 1000 times once, then once per interval with the count, then its recovery', () => {
    const { logger, lines } = captureLogger();
    let now = 0;
    const log = new ThrottledErrorLog(logger, 'Redis (test)', 'it reconnects', { intervalMs: 60_000, now: () => now });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 1000; i++) log.report(refused);
    expect(lines).toEqual([expect.objectContaining({ level: LEVEL.warn, msg: 'Redis (test) failed; it reconnects', err: refused.message, code: 'ECONNREFUSED' })]);

    now = 60_000;
    log.report(refused);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: LEVEL.warn, suppressed: 999 });

    log.report(new Error('READONLY You cannot write against a read only replica.'));
    expect(lines).toHaveLength(3); // a different failure is not hidden behind the first

    log.recovered();
    log.recovered();
    expect(lines.slice(3)).toEqual([expect.objectContaining({ level: LEVEL.info, msg: 'Redis (test) recovered', failures: 1002 })]);
    log.report(refused);
    expect(lines).toHaveLength(5); // after a recovery the next failure is news again
  });

  it('watchConnection reports a connection error at warn and its return at info', () => {
    const { logger, lines } = captureLogger();
    const client = new EventEmitter();
    watchConnection(client, new ThrottledErrorLog(logger, 'Redis (test)', 'it reconnects'));
    client.emit('ready');
    expect(lines).toEqual([]);
    client.emit('error', new Error('connect ECONNREFUSED'));
    client.emit('error', new Error('connect ECONNREFUSED'));
    client.emit('ready');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [LEVEL.warn, 'Redis (test) failed; it reconnects'],
      [LEVEL.info, 'Redis (test) recovered'],
    ]);
  });
});
