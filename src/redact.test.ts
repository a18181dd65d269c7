/** Credentials never reach a log line: URL passwords and ?token= values, in messages, fields and errors. */
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';
import { redactSecrets } from './redact.ts';

describe('redaction', () => {
  it('redacts URL passwords and token query values, and leaves the rest', () => {
    expect(redactSecrets('redis://:s3cret@10.0.0.5:6379/0')).toBe('redis://:***@10.0.0.5:6379/0');
    expect(redactSecrets('postgres://app:p%40ss@db:5432/chitty')).toBe('postgres://app:***@db:5432/chitty');
    expect(redactSecrets('/api/v1/todos?limit=5&token=abc123&x=1')).toBe('/api/v1/todos?limit=5&token=***&x=1');
    expect(redactSecrets('/ws?token=abc')).toBe('/ws?token=***');
    expect(redactSecrets('redis://127.0.0.1:6379 and http://example.com/a?b=c')).toBe('redis://127.0.0.1:6379 and http://example.com/a?b=c');
  });

  it('the logger redacts messages, fields and errors', () => {
    const out: string[] = [];
    const logger = createLogger('info', { write: (l) => void out.push(l) });
    logger.error({ url: '/api/v1/todos?token=abc123', redis: 'redis://:s3cret@h:6379', err: new Error('connect to redis://u:s3cret@h failed') }, 'request /x?token=abc123 failed');
    logger.info('Redis at redis://:s3cret@h:6379');
    const text = out.join('');
    expect(text).not.toMatch(/abc123|s3cret/);
    expect(text).toMatch(/token=\*\*\*/);
    expect(text).toMatch(/redis:\/\/:\*\*\*@h:6379/);
  });
});
