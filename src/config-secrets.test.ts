/** Production refuses short and empty secrets with a sentence. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

const long = 'x'.repeat(32);

describe('secrets in production', () => {
  it('requires CHITTY_API_TOKEN and CHITTY_WEBHOOK_SECRET of at least 32 characters', () => {
    const prod = (env: Record<string, string>) => () => loadConfig({ NODE_ENV: 'production', ...env });
    expect(prod({ CHITTY_API_TOKEN: 'a', CHITTY_WEBHOOK_SECRET: long })).toThrow(/CHITTY_API_TOKEN is 1 characters long; production needs at least 32/);
    expect(prod({ CHITTY_WEBHOOK_SECRET: long })).toThrow(/CHITTY_API_TOKEN is not set/);
    expect(prod({ CHITTY_API_TOKEN: long, CHITTY_WEBHOOK_SECRET: '' })).toThrow(/CHITTY_WEBHOOK_SECRET is empty/);
    expect(prod({ CHITTY_API_TOKEN: long, CHITTY_WEBHOOK_SECRET: '   ' })).toThrow(/CHITTY_WEBHOOK_SECRET is empty/);
    expect(prod({ CHITTY_API_TOKEN: long, CHITTY_WEBHOOK_SECRET: 'short' })).toThrow(/CHITTY_WEBHOOK_SECRET is 5 characters long/);
    expect(prod({ CHITTY_API_TOKEN: long, CHITTY_WEBHOOK_SECRET: long }).call(null).apiToken).toBe(long);
  });

  it('outside production an empty or unset secret means "generate one into DATA_DIR"', () => {
    expect(loadConfig({ NODE_ENV: 'development', CHITTY_WEBHOOK_SECRET: '' }).webhookSecret).toBeUndefined();
  });
});
