import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyChange, conflictsOf, emptyCrdt, materialize, type Change, type EntityCrdt } from './crdt.ts';
import { domainSpec } from './domains.ts';
import { formatHlc } from './hlc.ts';
import { incrementClock } from './vector-clock.ts';

const todos = domainSpec('todos');
const ID = 'CHITTY-TODO-TEST';

type Op =
  | { kind: 'write'; node: number; field: 'content' | 'status' | 'priority'; value: number }
  | { kind: 'tag'; node: number; add: boolean; tag: number }
  | { kind: 'sync'; from: number; to: number };

const statuses = ['pending', 'in_progress', 'blocked', 'completed'] as const;
const priorities = ['low', 'medium', 'high', 'critical'] as const;

/** Simulate nodes editing their own replicas and syncing now and then; return every change made. */
function simulate(ops: Op[], nodes: number): Change[] {
  const replicas: { state: EntityCrdt; seen: Change[] }[] = Array.from({ length: nodes }, () => ({ state: emptyCrdt(), seen: [] }));
  const all: Change[] = [];
  let wall = 1_700_000_000_000;
  for (const op of ops) {
    wall += 1;
    if (op.kind === 'sync') {
      const from = replicas[op.from % nodes]!;
      const to = replicas[op.to % nodes]!;
      for (const c of from.seen) {
        if (!to.seen.includes(c)) {
          to.state = applyChange(to.state, c);
          to.seen.push(c);
        }
      }
      continue;
    }
    const n = op.node % nodes;
    const replica = replicas[n]!;
    const node = `node${n}`;
    const change: Change = {
      id: `c${all.length}`,
      domain: 'todos',
      entityId: ID,
      node,
      hlc: formatHlc({ wallMs: wall - ((n * 7) % 5), counter: 0, node }), // skewed clocks on purpose
      vclock: incrementClock(replica.state.vclock, node),
    };
    if (op.kind === 'write') {
      const value = op.field === 'status' ? statuses[op.value % 4] : op.field === 'priority' ? priorities[op.value % 4] : `text ${op.value % 3}`;
      change.set = { [op.field]: value };
    } else if (op.add) change.add = { tags: [`t${op.tag % 3}`] };
    else change.remove = { tags: [`t${op.tag % 3}`] };
    replica.state = applyChange(replica.state, change);
    replica.seen.push(change);
    all.push(change);
  }
  return all;
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), node: fc.nat(3), field: fc.constantFrom('content' as const, 'status' as const, 'priority' as const), value: fc.nat(10) }),
  fc.record({ kind: fc.constant('tag' as const), node: fc.nat(3), add: fc.boolean(), tag: fc.nat(3) }),
  fc.record({ kind: fc.constant('sync' as const), from: fc.nat(3), to: fc.nat(3) }),
);

const observe = (state: EntityCrdt) => ({ entity: materialize(todos, ID, state), conflicts: conflictsOf(todos, state) });

describe('entity CRDT', () => {
  it('replicas that receive the same changes in any order, with duplicates, converge', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 2, max: 4 }), fc.infiniteStream(fc.nat()), (ops, nodes, rand) => {
        const changes = simulate(ops, nodes);
        const reference = observe(changes.reduce(applyChange, emptyCrdt()));
        for (let round = 0; round < 3; round++) {
          // Shuffle and duplicate a few changes.
          const delivered = [...changes, ...changes.filter(() => rand.next().value % 3 === 0)];
          for (let i = delivered.length - 1; i > 0; i--) {
            const j = rand.next().value % (i + 1);
            [delivered[i], delivered[j]] = [delivered[j]!, delivered[i]!];
          }
          expect(observe(delivered.reduce(applyChange, emptyCrdt()))).toEqual(reference);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('concurrent text edits become one conflict; a later causal write clears it', () => {
    const a: Change = { id: 'a', domain: 'todos', entityId: ID, node: 'A', hlc: formatHlc({ wallMs: 1e12, counter: 0, node: 'A' }), vclock: { A: 1 }, set: { content: 'from A' } };
    const b: Change = { id: 'b', domain: 'todos', entityId: ID, node: 'B', hlc: formatHlc({ wallMs: 1e12 + 5, counter: 0, node: 'B' }), vclock: { B: 1 }, set: { content: 'from B' } };
    let s = applyChange(applyChange(emptyCrdt(), a), b);
    expect(conflictsOf(todos, s)).toHaveLength(1);
    expect(materialize(todos, ID, s).content).toBe('from B'); // LWW shows the later one meanwhile
    const fix: Change = {
      id: 'c',
      domain: 'todos',
      entityId: ID,
      node: 'hub',
      hlc: formatHlc({ wallMs: 1e12 + 9, counter: 0, node: 'hub' }),
      vclock: { A: 1, B: 1, hub: 1 },
      set: { content: 'from A' },
    };
    s = applyChange(s, fix);
    expect(conflictsOf(todos, s)).toHaveLength(0);
    expect(materialize(todos, ID, s).content).toBe('from A');
  });

  it('concurrent status completed vs in_progress converges to completed without a conflict', () => {
    const done: Change = { id: 'a', domain: 'todos', entityId: ID, node: 'A', hlc: formatHlc({ wallMs: 1e12, counter: 0, node: 'A' }), vclock: { A: 1 }, set: { status: 'completed' } };
    const started: Change = { id: 'b', domain: 'todos', entityId: ID, node: 'B', hlc: formatHlc({ wallMs: 1e12 + 50, counter: 0, node: 'B' }), vclock: { B: 1 }, set: { status: 'in_progress' } };
    for (const order of [
      [done, started],
      [started, done],
    ]) {
      const s = order.reduce(applyChange, emptyCrdt());
      expect(materialize(todos, ID, s).status).toBe('completed');
      expect(conflictsOf(todos, s)).toEqual([]);
    }
    // A reopen that has seen the completion wins: causality beats rank.
    const reopen: Change = { id: 'c', domain: 'todos', entityId: ID, node: 'A', hlc: formatHlc({ wallMs: 1e12 + 60, counter: 0, node: 'A' }), vclock: { A: 2, B: 1 }, set: { status: 'pending' } };
    expect(materialize(todos, ID, [done, started, reopen].reduce(applyChange, emptyCrdt())).status).toBe('pending');
  });

  it('add-wins set: a remove only wins over adds it has seen', () => {
    const add1: Change = { id: 'a', domain: 'todos', entityId: ID, node: 'A', hlc: formatHlc({ wallMs: 1e12, counter: 0, node: 'A' }), vclock: { A: 1 }, add: { tags: ['x'] } };
    const removeSeen: Change = { id: 'b', domain: 'todos', entityId: ID, node: 'B', hlc: formatHlc({ wallMs: 1e12 + 1, counter: 0, node: 'B' }), vclock: { A: 1, B: 1 }, remove: { tags: ['x'] } };
    const addConcurrent: Change = { id: 'c', domain: 'todos', entityId: ID, node: 'C', hlc: formatHlc({ wallMs: 1e12 + 2, counter: 0, node: 'C' }), vclock: { C: 1 }, add: { tags: ['x'] } };
    expect(materialize(todos, ID, [add1, removeSeen].reduce(applyChange, emptyCrdt())).tags).toEqual([]);
    expect(materialize(todos, ID, [add1, removeSeen, addConcurrent].reduce(applyChange, emptyCrdt())).tags).toEqual(['x']);
    expect(materialize(todos, ID, [addConcurrent, removeSeen, add1].reduce(applyChange, emptyCrdt())).tags).toEqual(['x']);
  });
});

describe('merge rules the README states', () => {
  const change = (id: string, domain: 'todos' | 'topics', node: string, wallMs: number, set: Record<string, unknown>): Change => ({
    id,
    domain,
    entityId: ID,
    node,
    hlc: formatHlc({ wallMs, counter: 0, node }),
    vclock: { base: 1, [node]: 1 },
    set,
  });
  const base = (domain: 'todos' | 'topics', set: Record<string, unknown>): Change => ({
    id: 'c0',
    domain,
    entityId: ID,
    node: 'base',
    hlc: formatHlc({ wallMs: 1, counter: 0, node: 'base' }),
    vclock: { base: 1 },
    set,
  });

  it('ranks concurrent topic statuses active < archived < closed, whatever the HLC order', () => {
    const topics = domainSpec('topics');
    const start = applyChange(emptyCrdt(), base('topics', { title: 'T', status: 'active' }));
    for (const [a, b, want] of [
      ['archived', 'active', 'archived'],
      ['closed', 'archived', 'closed'],
      ['closed', 'active', 'closed'],
    ] as const) {
      // The lower-ranked value has the later HLC: rank still wins.
      const s = applyChange(applyChange(start, change('x', 'topics', 'x', 10, { status: a })), change('y', 'topics', 'y', 20, { status: b }));
      expect(materialize(topics, ID, s).status).toBe(want);
    }
  });

  it('keeps a todo deleted when an edit concurrent with the delete has a later HLC', () => {
    const start = applyChange(emptyCrdt(), base('todos', { content: 'v1' }));
    const del = change('del', 'todos', 'x', 10, { deleted: true });
    const edit = change('edit', 'todos', 'y', 20, { content: 'v2' });
    for (const s of [applyChange(applyChange(start, del), edit), applyChange(applyChange(start, edit), del)]) {
      expect(materialize(todos, ID, s)).toMatchObject({ deleted: true, content: 'v2' });
    }
  });
});
