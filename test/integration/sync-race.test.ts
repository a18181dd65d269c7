/** Replica sync under a race on Postgres: replayed ids are duplicates (never a 500), batches are all or nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db.ts';
import { formatHlc } from '../../src/hub/hlc.ts';
import type { SyncMessage } from '../../src/sync/sync-message.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const COPIES = 8;
const IDS = 10;

function message(id: string, node: string, entityId: string, tick: number, data: Record<string, unknown>): SyncMessage {
  const wallMs = Date.now() + tick;
  return {
    id,
    type: 'state_update',
    source: { nodeId: node, platform: 'replica' },
    payload: { domain: 'todos', operation: 'update', entity: { chittyId: entityId, data } },
    metadata: { timestamp: new Date(wallMs).toISOString(), vectorClock: { [node]: tick }, hlc: formatHlc({ wallMs, counter: 0, node }) },
  };
}

describe('replica sync race on postgres', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('postgres');
  });
  afterAll(async () => gw?.close());

  async function eventsByChange(): Promise<Map<string, number>> {
    const r = await gw.database.db.execute(sql`select change_id as id, count(*)::int as n from events group by change_id`);
    return new Map(rowsOf<{ id: string; n: number }>(r).map((x) => [x.id, x.n]));
  }

  it(`answers ${COPIES} parallel copies of ${IDS} ids without a 5xx, applies each once, and keeps racing batches whole`, async () => {
    const run = Math.random().toString(36).slice(2, 8).toUpperCase();
    const entities = [0, 1, 2].map((i) => `CHITTY-TODO-RACE${run}${i}`);
    // Ten ids on three entities, each from its own node so none is causally after another.
    const shared = Array.from({ length: IDS }, (_, i) => message(`race-${run}-${i}`, `n${i}`, entities[i % 3]!, 1, { content: `v${i}` }));
    // Batches racing with them: a fresh message first, then a shared id, on the entities in reverse order.
    const batches = Array.from({ length: 4 }, (_, b) => [message(`batch-${run}-${b}`, `b${b}`, entities[2 - (b % 3)]!, 1, { priority: 'high' }), shared[(b * 3) % IDS]!, shared[(b * 3 + 5) % IDS]!]);
    const requests = [
      ...shared.flatMap((m) => Array.from({ length: COPIES }, () => gw.call('POST', '/api/v1/sync/todos', m))),
      ...batches.map((messages) => gw.call('POST', '/api/v1/sync/todos', { messages })),
    ];
    const answers = await Promise.all(requests);
    const failed = answers.filter((a) => a.status >= 500);
    expect({ fiveXX: failed.length, first: failed[0]?.text }).toEqual({ fiveXX: 0, first: undefined });
    expect(answers.every((a) => a.status === 200)).toBe(true);

    const events = await eventsByChange();
    for (const m of shared) expect(events.get(m.id), m.id).toBe(1);
    // Each id is reported applied exactly once over all requests and batches, duplicate otherwise.
    const results = answers.flatMap((a) => a.json.results as { id: string; status: string }[]);
    for (const m of shared) {
      const mine = results.filter((r) => r.id === m.id);
      expect(mine).toHaveLength(COPIES + batches.filter((b) => b.includes(m)).length);
      expect(mine.filter((r) => r.status === 'applied')).toHaveLength(1);
      expect(mine.filter((r) => r.status !== 'applied').every((r) => r.status === 'duplicate')).toBe(true);
    }
    // A batch is all or nothing: its own message is in the log exactly when the batch was answered 200.
    for (const [i, b] of batches.entries()) expect(events.get(b[0]!.id) ?? 0).toBe(answers[IDS * COPIES + i]!.status === 200 ? 1 : 0);
  });
});
