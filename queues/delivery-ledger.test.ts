import { describe, expect, it } from 'vitest';
import { nextBatch } from './delivery-ledger.ts';

const row = (id: string, batchId: string | null = null, sends = 0, attempts = 0) => ({ id, batchId, sends, attempts });

describe('nextBatch', () => {
  it('unclaimed rows form a new batch named by the first row', () => {
    expect(nextBatch([row('a'), row('b'), row('c')])).toEqual({ rows: [row('a'), row('b'), row('c')], batchId: 'a+2', resend: false });
    expect(nextBatch([row('a')])).toEqual({ rows: [row('a')], batchId: 'a', resend: false });
    expect(nextBatch([])).toEqual({ rows: [], batchId: '', resend: false });
  });

  it('a batch claimed by a worker that died goes again alone, under its own id', () => {
    const rows = [row('a', 'a+1', 1), row('b', 'a+1', 1), row('c')];
    expect(nextBatch(rows)).toEqual({ rows: [row('a', 'a+1', 1), row('b', 'a+1', 1)], batchId: 'a+1', resend: true });
  });

  it('a failed batch (its outcome written) is retried under its id, not counted as a re-send', () => {
    expect(nextBatch([row('a', 'a', 1, 1), row('b')])).toEqual({ rows: [row('a', 'a', 1, 1)], batchId: 'a', resend: false });
  });

  it('new rows stop before a claimed batch (it goes next, as it was)', () => {
    expect(nextBatch([row('a'), row('b', 'b+1', 1), row('c', 'b+1', 1)])).toEqual({ rows: [row('a')], batchId: 'a', resend: false });
  });
});
