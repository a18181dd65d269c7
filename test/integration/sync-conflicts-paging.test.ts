/** GET /api/v1/sync/conflicts pages like the entity lists: limit, after, next — past the old cap of 500. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../drizzle/schema.ts';
import { conflictId } from '../../src/hub/ids.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const TOTAL = 620;

describe('conflict list paging', () => {
  let gw: TestGateway;
  const ids: string[] = [];
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
    const now = new Date();
    const rows = Array.from({ length: TOTAL }, (_, i) => {
      const id = conflictId();
      ids.push(id);
      const versions = [
        { value: `a${i}`, hlc: '0', node: 'a', vclock: { a: 1 }, change: `a${i}` },
        { value: `b${i}`, hlc: '0', node: 'b', vclock: { b: 1 }, change: `b${i}` },
      ];
      return { id, domain: 'todos', entityId: `CHITTY-TODO-PAGE${i}`, field: 'content', versions, status: i % 10 === 0 ? ('resolved' as const) : ('open' as const), createdAt: now };
    });
    for (let i = 0; i < rows.length; i += 200) await gw.database.db.insert(schema.conflicts).values(rows.slice(i, i + 200));
  });
  afterAll(async () => gw?.close());

  async function all(status: string, limit: number): Promise<{ ids: string[]; pages: number }> {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const r = await gw.call('GET', `/api/v1/sync/conflicts?status=${status}&limit=${limit}${after ? `&after=${after}` : ''}`);
      expect(r.status, r.text).toBe(200);
      pages++;
      seen.push(...r.json.items.map((c: { id: string }) => c.id));
      after = r.json.next;
    } while (after && pages < 100);
    return { ids: seen, pages };
  }

  it('returns every conflict once, newest first, across pages', async () => {
    const everything = await all('all', 250);
    expect(everything.ids).toEqual([...ids].reverse());
    expect(everything.pages).toBe(3);
    const open = await all('open', 1000);
    expect(open.ids).toEqual(ids.filter((_, i) => i % 10 !== 0).reverse());
  });

  it('keeps the old shape: items (up to 500 without a limit) plus next', async () => {
    const r = await gw.call('GET', '/api/v1/sync/conflicts?status=all');
    expect(r.json.items).toHaveLength(500);
    expect(r.json.items[0]).toMatchObject({ id: ids[TOTAL - 1], field: 'content', status: expect.any(String), versions: expect.any(Array) });
    expect(r.json.next).toBe(ids[TOTAL - 500]);
    expect((await gw.call('GET', '/api/v1/sync/conflicts?limit=0')).status).toBe(400);
  });
});
