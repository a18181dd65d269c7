import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commentsOf, decodeComment, encodeComment, type EntityComment, remoteComments } from './comment-codec.ts';
import { applyChange, type Change, emptyCrdt, materialize } from './crdt.ts';
import { domainSpec } from './domains.ts';
import { formatHlc } from './hlc.ts';

const todos = domainSpec('todos');
const ID = 'CHITTY-TODO-TEST';

const comment = (n: number, node: string, text: string): EntityComment => ({ id: `CHITTY-COMMENT-${node}-${n}`, at: new Date(1_700_000_000_000 + n).toISOString(), by: null, name: node, text });

/** A change on `node` that has seen only the create (clock {a:1}), i.e. concurrent with the other node's. */
function commentChange(node: string, c: EntityComment): Change {
  return {
    id: `MSG-${c.id}`,
    domain: 'todos',
    entityId: ID,
    node,
    hlc: formatHlc({ wallMs: Date.parse(c.at), counter: 0, node }),
    vclock: { a: 1, [node]: node === 'a' ? 2 : 1 },
    add: { comments: [encodeComment(c)] },
  };
}

const create: Change = {
  id: 'MSG-create',
  domain: 'todos',
  entityId: ID,
  node: 'a',
  hlc: formatHlc({ wallMs: 1_699_999_999_999, counter: 0, node: 'a' }),
  vclock: { a: 1 },
  set: { content: 'Write brief' },
};

describe('comments: an append-only list merged by id', () => {
  it('keeps both of two concurrent comments, oldest first, whatever the order and duplicates', () => {
    const ann = commentChange('a', comment(1, 'a', 'Looks good'));
    const bob = commentChange('b', comment(2, 'b', 'Ship it'));
    const orders = [
      [create, ann, bob],
      [create, bob, ann],
      [bob, create, ann, bob, ann],
    ];
    const states = orders.map((o) => materialize(todos, ID, o.reduce(applyChange, emptyCrdt())));
    for (const s of states) expect((s.comments as EntityComment[]).map((c) => c.text)).toEqual(['Looks good', 'Ship it']);
    expect(states[1]).toEqual(states[0]);
    expect(states[2]).toEqual(states[0]);
  });

  it('converges for any interleaving of comments from three replicas', () => {
    const all = [0, 1, 2, 3, 4, 5].map((n) => commentChange(['a', 'b', 'c'][n % 3]!, comment(n, ['a', 'b', 'c'][n % 3]!, `comment ${n}`)));
    fc.assert(
      fc.property(fc.shuffledSubarray([...all, ...all], { minLength: all.length * 2 }), (order) => {
        const s = materialize(todos, ID, [create, ...order].reduce(applyChange, emptyCrdt()));
        expect((s.comments as EntityComment[]).map((c) => c.text)).toEqual(all.map((_, n) => `comment ${n}`));
      }),
    );
  });

  it('a todo without comments has no comments field (its shape is unchanged)', () => {
    expect(materialize(todos, ID, applyChange(emptyCrdt(), create))).not.toHaveProperty('comments');
  });

  it('encodes canonically and refuses malformed comments from a replica', () => {
    const c = comment(7, 'a', 'Hi');
    expect(decodeComment(encodeComment(c))).toEqual(c);
    expect(remoteComments([{ text: 'Hi', name: 'a', by: null, at: c.at, id: c.id }], 'm')).toEqual([encodeComment(c)]);
    for (const bad of ['not json', '{"id":"x"}', encodeComment({ ...c, text: ' ' }), encodeComment({ ...c, text: 'x'.repeat(2001) }), encodeComment({ ...c, at: 'yesterday' })]) {
      expect(decodeComment(bad)).toBeUndefined();
      expect(() => remoteComments([bad], 'message 0')).toThrow(/message 0: a comment must be/);
    }
    expect(commentsOf(undefined)).toEqual([]);
  });
});
