import { EventEmitter } from 'node:events';
import { UnrecoverableError } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db.ts';
import { ThrottledErrorLog } from '../src/error-log.ts';
import { captureLogger, LEVEL } from '../test/support/log-capture.ts';
import { DEFAULT_PACE, DEFAULT_WINDOW_MS, FANOUT_QUEUE } from './names.ts';
import { DeliveryQueues, watchWorker, type WorkerEvents } from './pipeline.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('DeliveryQueues connection errors', () => {
  const { logger, lines } = captureLogger();
  const queues = new DeliveryQueues(
    { redisUrl, prefix: '{test-pipeline-log}', windows: DEFAULT_WINDOW_MS, paces: DEFAULT_PACE, attempts: 3, retryBaseMs: 100, webhookSecret: 's' },
    { db: {} } as unknown as Database,
    logger,
  );
  afterAll(() => queues.close());

  it('a Redis that is down is one warning that says what happens next, not one line per error per queue', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 1000; i++) {
      queues.redis.emit('error', down);
      for (const q of queues.all()) q.emit('error', down);
    }
    const warnings = lines.filter((l) => l.level >= LEVEL.warn);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/^Redis \(queue producer connection\) failed; ioredis reconnects .* changes wait in the outbox/);
    queues.redis.emit('ready');
    expect(lines.at(-1)).toMatchObject({ level: LEVEL.info, msg: 'Redis (queue producer connection) recovered' });
  });
});

describe('watchWorker', () => {
  function worker(name = 'deliver-webhook') {
    const { logger, lines } = captureLogger();
    const w = Object.assign(new EventEmitter(), { name }) as EventEmitter & WorkerEvents;
    watchWorker(w, logger, new ThrottledErrorLog(logger, 'A queue worker', 'it keeps running'));
    return { w, lines };
  }

  it("a worker's own error is a warning (once while it repeats), not debug", () => {
    const { w, lines } = worker();
    for (let i = 0; i < 50; i++) w.emit('error', new Error('Missing lock for job 7. moveToFinished'));
    expect(lines).toEqual([expect.objectContaining({ level: LEVEL.warn, queue: 'deliver-webhook', msg: 'A queue worker failed; it keeps running' })]);
  });

  it('a failed job that will be retried is a warning that says so; on its last attempt an error', () => {
    const { w, lines } = worker(FANOUT_QUEUE);
    w.emit('failed', { id: 'j1', attemptsMade: 1, opts: { attempts: 20 } }, new Error('db down'));
    w.emit('failed', { id: 'j1', attemptsMade: 20, opts: { attempts: 20 } }, new Error('db down'));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [LEVEL.warn, 'job failed; BullMQ retries it after its backoff'],
      [LEVEL.error, 'job failed on its last attempt; the sweeper fans the change out again later'],
    ]);
  });

  it('delays, rate-limit waits and dead letters (logged by the processor) are not job failures', () => {
    const { w, lines } = worker();
    const job = { id: 'j2', attemptsMade: 1, opts: { attempts: 8 } };
    w.emit('failed', job, Object.assign(new Error('delayed'), { name: 'DelayedError' }));
    w.emit('failed', job, Object.assign(new Error('rate limited'), { name: 'RateLimitError' }));
    w.emit('failed', job, new UnrecoverableError('validation'));
    expect(lines).toEqual([]);
  });
});
