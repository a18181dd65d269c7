import { describe, expect, it } from 'vitest';
import { KeyedQueue } from './keyed-queue.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedQueue', () => {
  it('keeps one key in order even when early tasks are slow, and runs other keys alongside', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const task = (k: string, n: number, ms: number) => q.run(k, async () => {
      log.push(`${k}${n}+`);
      await sleep(ms);
      log.push(`${k}${n}-`);
      return n;
    });
    const results = await Promise.all([task('a', 1, 30), task('a', 2, 1), task('b', 1, 5), task('a', 3, 1)]);
    expect(results).toEqual([1, 2, 1, 3]);
    const a = log.filter((x) => x.startsWith('a'));
    expect(a).toEqual(['a1+', 'a1-', 'a2+', 'a2-', 'a3+', 'a3-']);
    expect(log.indexOf('b1-')).toBeLessThan(log.indexOf('a1-')); // b did not wait for a
    expect(q.size).toBe(0);
  });

  it('goes on after a task fails', async () => {
    const q = new KeyedQueue();
    await expect(q.run('k', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await q.run('k', async () => 'next')).toBe('next');
  });
});
