/**
 * Issue 14, "Bad input is a 400, never a 500, and changes nothing": a property test that posts
 * generated bodies, path ids and queries to every write route; not one 5xx, and no refused request
 * (nor any preview) changes a table. Run count kept modest; `npm run fuzz -- --runs 100000` for more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzRequests, tableCounts } from '../chaos/fuzz.ts';
import { DB_KINDS } from '../support/database.ts';
import { startTestGateway, TEST_TOKEN, type TestGateway } from '../support/gateway.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1200);

describe.each(DB_KINDS)('fuzzed requests on %s', (kind) => {
  let gw: TestGateway;
  beforeAll(async () => {
    // web mode: no workers, so only the requests themselves change tables.
    gw = await startTestGateway(kind, {}, { mode: 'web' });
  });
  afterAll(async () => gw?.close());

  it(`answers ${RUNS} fuzzed write requests without a 5xx, and refusals change nothing`, async () => {
    const r = await fuzzRequests(gw.url, TEST_TOKEN, RUNS, { counts: () => tableCounts(gw.database.root), seed: 14 });
    console.info(`[fuzz ${kind}] ${JSON.stringify({ count: r.count, fivexx: r.fivexx, tableChanges: r.tableChanges, statuses: r.statuses })}`);
    expect(r.failures).toEqual([]);
    expect({ fivexx: r.fivexx, tableChanges: r.tableChanges }).toEqual({ fivexx: 0, tableChanges: 0 });
    expect(r.count).toBe(RUNS);
  }, 300_000);
});
