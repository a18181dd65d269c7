import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'commands/**/*.test.ts', 'renderers/**/*.test.ts', 'bots/**/*.test.ts', 'queues/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites share one Postgres database; keep files parallel but bounded for 2 cores.
    maxWorkers: 2,
  },
});
