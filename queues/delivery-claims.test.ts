import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../drizzle/schema.ts';
import type { Database } from '../src/db.ts';
import { DB_KINDS, openTestDatabase } from '../test/support/database.ts';
import { DeliveryLedger, nextBatch } from './delivery-ledger.ts';

// A request on its way is one claim row; its outcome goes onto the rows with the sends it took.
describe.each(DB_KINDS)('DeliveryLedger claims (%s)', (kind) => {
  let database: Database;
  let ledger: DeliveryLedger;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    ledger = new DeliveryLedger(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  /** `n` queued rows for destination `dest`, each with its outbox message. */
  async function queued(dest: string, n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, (_, i) => `${dest}-d${i}`);
    await database.db.insert(schema.outbox).values(ids.map((id) => ({ id: `${id}-m`, domain: 'todos', message: { id: `${id}-m` } })));
    await ledger.enqueue(
      ids.map((id) => ({ id, messageId: `${id}-m`, subscriptionId: 's1', channel: 'webhook', destinationKey: dest, address: 'https://example.test/hook', domain: 'todos', status: 'queued' })),
    );
    return ids;
  }
  const rowsOf = async (ids: string[]) => (await Promise.all(ids.map((id) => ledger.get(id)))).map((r) => ({ status: r!.status, sends: r!.sends, attempts: r!.attempts, batchId: r!.batchId }));
  const claims = async (dest: string) => (await database.db.select().from(schema.deliveryClaims)).filter((c) => c.destinationKey === dest);
  /** The next batch as a job that just took the destination's lock sees it. */
  const firstBatch = async (dest: string) => nextBatch(await ledger.waiting(dest));

  it('a sent batch: one claim row while it is on its way, then the rows sent once and the claim gone', async () => {
    const ids = await queued('A', 3);
    await ledger.claim({ destinationKey: 'A', ids, batchId: 'A-d0+2' });
    expect((await claims('A')).map((c) => [c.batchId, c.ids, c.sends])).toEqual([['A-d0+2', ids, 1]]);
    // The rows themselves are not written before the outcome.
    expect(await rowsOf(ids)).toEqual(ids.map(() => ({ status: 'queued', sends: 0, attempts: 0, batchId: null })));
    await ledger.markSent({ destinationKey: 'A', batchId: 'A-d0+2', ids }, 'p1');
    expect(await rowsOf(ids)).toEqual(ids.map(() => ({ status: 'sent', sends: 1, attempts: 1, batchId: 'A-d0+2' })));
    expect(await claims('A')).toEqual([]);
  });

  it('a dead worker’s claims: the next job sends their rows again as those batches, in order; both sends are counted', async () => {
    const ids = await queued('B', 5);
    // The worker sent d0-d1, then d2-d3 while the first outcome was being written, and died.
    await ledger.claim({ destinationKey: 'B', ids: ids.slice(0, 2), batchId: 'B-d0+1' });
    await ledger.claim({ destinationKey: 'B', ids: ids.slice(2, 4), batchId: 'B-d2+1' });
    const first = await firstBatch('B');
    expect(first).toMatchObject({ batchId: 'B-d0+1', resend: true });
    expect(first.rows.map((r) => r.id)).toEqual(ids.slice(0, 2));
    await ledger.claim({ destinationKey: 'B', ids: ids.slice(0, 2), batchId: 'B-d0+1' });
    await ledger.markSent({ destinationKey: 'B', batchId: 'B-d0+1', ids: ids.slice(0, 2) }, null);
    expect(await rowsOf(ids.slice(0, 2))).toEqual([0, 1].map(() => ({ status: 'sent', sends: 2, attempts: 1, batchId: 'B-d0+1' })));
    // Then the second, as its batch.
    const second = await firstBatch('B');
    expect(second).toMatchObject({ batchId: 'B-d2+1', resend: true });
    expect((await claims('B')).map((c) => [c.batchId, c.sends])).toEqual([['B-d2+1', 1]]);
  });

  it('a dead worker’s claim whose request never left: sent now, it counts one send, not two', async () => {
    const ids = await queued('K', 2);
    await ledger.claim({ destinationKey: 'K', ids, batchId: 'K-d0+1' }); // the worker died before sending
    expect(await firstBatch('K')).toMatchObject({ batchId: 'K-d0+1', resend: true });
    await ledger.claim({ destinationKey: 'K', ids, batchId: 'K-d0+1' }, false);
    expect((await claims('K')).map((c) => [c.batchId, c.sends])).toEqual([['K-d0+1', 1]]);
    await ledger.markSent({ destinationKey: 'K', batchId: 'K-d0+1', ids }, 'p1');
    expect(await rowsOf(ids)).toEqual(ids.map(() => ({ status: 'sent', sends: 1, attempts: 1, batchId: 'K-d0+1' })));
  });

  it('a failed send: dead rows and rows to retry in one statement; a retry goes as the same batch, not as a re-send', async () => {
    const ids = await queued('C', 3);
    await ledger.claim({ destinationKey: 'C', ids, batchId: 'C-d0+2' });
    await ledger.markFailed({ destinationKey: 'C', batchId: 'C-d0+2', ids }, '502', 'failed', [ids[1]!]);
    expect(await rowsOf(ids)).toEqual([
      { status: 'failed', sends: 1, attempts: 1, batchId: 'C-d0+2' },
      { status: 'dead', sends: 1, attempts: 1, batchId: 'C-d0+2' },
      { status: 'failed', sends: 1, attempts: 1, batchId: 'C-d0+2' },
    ]);
    expect(await claims('C')).toEqual([]);
    const retry = await firstBatch('C');
    expect(retry).toMatchObject({ batchId: 'C-d0+2', resend: false });
    expect(retry.rows.map((r) => r.id)).toEqual([ids[0], ids[2]]);
    // A 429 gives the attempt back but counts the request.
    await ledger.claim({ destinationKey: 'C', ids: [ids[0]!, ids[2]!], batchId: 'C-d0+2' });
    await ledger.markFailed({ destinationKey: 'C', batchId: 'C-d0+2', ids: [ids[0]!, ids[2]!] }, '429', 'queued');
    expect((await rowsOf([ids[0]!]))[0]).toEqual({ status: 'queued', sends: 2, attempts: 1, batchId: 'C-d0+2' });
  });

  it('reads the rows after a given row in sending order (a backlog’s next batch, read during a send)', async () => {
    const ids = await queued('E', 6);
    expect((await ledger.waitingAfter('E', ids[1]!, 3)).map((r) => r.id)).toEqual(ids.slice(2, 5));
    expect((await ledger.waitingAfter('E', ids[5]!)).map((r) => r.id)).toEqual([]);
    // Sent rows are not waiting, whether before or after the row.
    await ledger.markSent({ destinationKey: 'E', batchId: 'x', ids: [ids[3]!] }, null);
    expect((await ledger.waitingAfter('E', ids[1]!)).map((r) => r.id)).toEqual([ids[2], ids[4], ids[5]]);
  });

  it('the read that takes a fresh batch claims it in the same statement, and only such a batch', async () => {
    await database.db.insert(schema.subscriptions).values({ id: 'live', channel: 'webhook', address: 'https://example.test/hook', scope: '', domains: [] }).onConflictDoNothing();
    const live = async (dest: string, n: number) => {
      const ids = await queued(dest, n);
      await database.db.update(schema.deliveries).set({ subscriptionId: 'live' }).where(inArray(schema.deliveries.id, ids));
      return ids;
    };
    const ids = await live('F', 3);
    const taken = await ledger.takeWaiting('F', 3);
    expect(taken.claimed).toBe('F-d0+2');
    expect(nextBatch(taken.rows)).toMatchObject({ batchId: 'F-d0+2', resend: false });
    expect((await claims('F')).map((c) => [c.batchId, c.ids, c.sends])).toEqual([['F-d0+2', ids, 1]]);
    // Not again while that claim is open (a dead worker's batch goes again as it was, by the usual claim).
    const again = await ledger.takeWaiting('F', 3);
    expect(again.claimed).toBeUndefined();
    expect(nextBatch(again.rows)).toMatchObject({ batchId: 'F-d0+2', resend: true });
    await ledger.markSent({ destinationKey: 'F', batchId: 'F-d0+2', ids }, null);
    expect(await rowsOf(ids)).toEqual(ids.map(() => ({ status: 'sent', sends: 1, attempts: 1, batchId: 'F-d0+2' })));
    expect(await claims('F')).toEqual([]);
    // Not a batch with a row to drop (no subscription, paused, out of attempts), nor a retry of a sent batch.
    const gone = await queued('G', 2);
    expect((await ledger.takeWaiting('G', 3)).claimed).toBeUndefined();
    await database.db.update(schema.deliveries).set({ subscriptionId: 'live', attempts: 3 }).where(inArray(schema.deliveries.id, gone));
    expect((await ledger.takeWaiting('G', 3)).claimed).toBeUndefined();
    expect((await ledger.takeWaiting('G', 4)).claimed).toBe('G-d0+1');
    const retried = await live('H', 2);
    await ledger.claim({ destinationKey: 'H', ids: retried, batchId: 'H-d0+1' });
    await ledger.markFailed({ destinationKey: 'H', batchId: 'H-d0+1', ids: retried }, '502', 'failed');
    expect((await ledger.takeWaiting('H', 3)).claimed).toBeUndefined();
    expect(await claims('H')).toEqual([]);
    await ledger.unclaim('G-d0+1');
    expect(await claims('G')).toEqual([]);
  });

  it('the read after a send writes that request’s outcome first, then reads and claims what waits after it', async () => {
    await database.db.insert(schema.subscriptions).values({ id: 'live', channel: 'webhook', address: 'https://example.test/hook', scope: '', domains: [] }).onConflictDoNothing();
    const ids = await queued('J', 5);
    await database.db.update(schema.deliveries).set({ subscriptionId: 'live' }).where(inArray(schema.deliveries.id, ids));
    // A request carried the first two; while it was out, nothing else was written.
    await ledger.claim({ destinationKey: 'J', ids: ids.slice(0, 2), batchId: 'J-d0+1' });
    const sent = { batch: { destinationKey: 'J', batchId: 'J-d0+1', ids: ids.slice(0, 2) }, providerMessageId: 'p-J', note: null };
    const next = await ledger.takeWaiting('J', 3, sent);
    // Its rows are sent with the claim's send counted, and the claim is gone, in the same statement as the read.
    expect(await rowsOf(ids.slice(0, 2))).toEqual([0, 1].map(() => ({ status: 'sent', sends: 1, attempts: 1, batchId: 'J-d0+1' })));
    expect((await ledger.get(ids[0]!))?.providerMessageId).toBe('p-J');
    // The read saw the ledger as it was before that write: the sent rows and their claim are left out of it.
    expect(next.rows.map((r) => r.id)).toEqual(ids.slice(2));
    expect(next.claimed).toBe('J-d2+2');
    expect((await claims('J')).map((c) => [c.batchId, c.ids])).toEqual([['J-d2+2', ids.slice(2)]]);
    // Nothing left: the outcome is still written, and nothing is claimed.
    const last = await ledger.takeWaiting('J', 3, { batch: { destinationKey: 'J', batchId: 'J-d2+2', ids: ids.slice(2) }, providerMessageId: null, note: null });
    expect(last).toEqual({ rows: [], claimed: undefined });
    expect((await rowsOf(ids.slice(2))).map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    expect(await claims('J')).toEqual([]);
  });

  it('prunes claims older than the retention', async () => {
    await ledger.claim({ destinationKey: 'D', ids: ['x'], batchId: 'x' });
    expect(await ledger.pruneClaims(new Date(Date.now() - 60_000))).toBe(0);
    expect(await ledger.pruneClaims(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
    expect(await claims('D')).toEqual([]);
  });
});
