import { describe, expect, it } from 'vitest';
import { KeyedQueue } from './keyed-queue.ts';

/** A promise the test settles by hand: no timers, so the order cannot depend on load. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

/** Lets every already-queued microtask and promise reaction run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('KeyedQueue', () => {
  it('keeps one key in order even when early tasks are slow, and runs other keys alongside', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const gates = { a1: gate(), a2: gate(), b1: gate(), a3: gate() };
    const task = (k: string, n: number) =>
      q.run(k, async () => {
        log.push(`${k}${n}+`);
        await gates[`${k}${n}` as keyof typeof gates].opened;
        log.push(`${k}${n}-`);
        return n;
      });
    const results = Promise.all([task('a', 1), task('a', 2), task('b', 1), task('a', 3)]);
    await settle();
    expect(log).toEqual(['a1+', 'b1+']); // a2 waits for a1; b runs alongside
    gates.b1.open();
    await settle();
    expect(log).toEqual(['a1+', 'b1+', 'b1-']); // b finished while a1 still runs
    gates.a3.open(); // a3 is ready first but must wait for a2
    gates.a2.open();
    await settle();
    expect(log).toEqual(['a1+', 'b1+', 'b1-']);
    gates.a1.open();
    expect(await results).toEqual([1, 2, 1, 3]);
    expect(log).toEqual(['a1+', 'b1+', 'b1-', 'a1-', 'a2+', 'a2-', 'a3+', 'a3-']);
    await settle();
    expect(q.size).toBe(0);
  });

  it('goes on after a task fails', async () => {
    const q = new KeyedQueue();
    const failed = q.run('k', async () => {
      throw new Error('boom');
    });
    const next = q.run('k', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('next');
  });
});
