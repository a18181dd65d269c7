/**
 * `npm run fuzz -- --runs 100000 [--db pglite|postgres] [--seed N]`: fuzzed requests against every
 * write route of a fresh gateway (web mode, so only requests change tables); prints one JSON line.
 */
import { parseArgs } from 'node:util';
import { fuzzRequests, tableCounts } from './fuzz.ts';
import { startTestGateway, TEST_TOKEN } from '../support/gateway.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, db: { type: 'string', default: 'pglite' }, seed: { type: 'string' } } });
const runs = Number(values.runs);
const db = values.db === 'postgres' ? 'postgres' : 'pglite';
const seed = values.seed ? Number(values.seed) : Date.now() % 2 ** 31;
const gw = await startTestGateway(db, {}, { mode: 'web' });
try {
  const t0 = performance.now();
  const r = await fuzzRequests(gw.url, TEST_TOKEN, runs, { counts: () => tableCounts(gw.database.root), seed });
  const seconds = Math.round((performance.now() - t0) / 100) / 10;
  process.stdout.write(`${JSON.stringify({ db, seed, count: r.count, fivexx: r.fivexx, tableChanges: r.tableChanges, seconds, statuses: r.statuses, failures: r.failures })}\n`);
  process.exitCode = r.fivexx === 0 && r.tableChanges === 0 ? 0 : 1;
} finally {
  await gw.close();
}
