/** Vector clocks: per-node Lamport counters that tell causal order from concurrency. */
export type VectorClock = Record<string, number>;

export type ClockOrder = 'before' | 'after' | 'equal' | 'concurrent';

/** Compare `a` with `b`: `before` means every entry of a ≤ b and one is strictly less. */
export function compareClocks(a: VectorClock, b: VectorClock): ClockOrder {
  let less = false;
  let greater = false;
  for (const node of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[node] ?? 0;
    const y = b[node] ?? 0;
    if (x < y) less = true;
    else if (x > y) greater = true;
    if (less && greater) return 'concurrent';
  }
  if (less) return 'before';
  if (greater) return 'after';
  return 'equal';
}

/** a ≤ b: everything a has seen, b has seen too. */
export function dominatedBy(a: VectorClock, b: VectorClock): boolean {
  const order = compareClocks(a, b);
  return order === 'before' || order === 'equal';
}

/** Point-wise maximum. */
export function mergeClocks(...clocks: VectorClock[]): VectorClock {
  const out: VectorClock = {};
  for (const clock of clocks) {
    for (const [node, n] of Object.entries(clock)) out[node] = Math.max(out[node] ?? 0, n);
  }
  return sortClock(out);
}

/** `clock` with `node`'s counter advanced by one. */
export function incrementClock(clock: VectorClock, node: string): VectorClock {
  return sortClock({ ...clock, [node]: (clock[node] ?? 0) + 1 });
}

/** Keys in sorted order so the JSON form (and checksums over it) is canonical. */
export function sortClock(clock: VectorClock): VectorClock {
  const out: VectorClock = {};
  for (const node of Object.keys(clock).sort()) {
    const n = clock[node];
    if (n !== undefined && n > 0) out[node] = n;
  }
  return out;
}
