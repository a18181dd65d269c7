import { describe, expect, it } from 'vitest';
import { renderAll } from '../../renderers/index.ts';
import { encodeComment, type EntityComment } from '../hub/comment-codec.ts';
import { describeChange, describeDigest } from './describe-change.ts';
import type { SyncMessage } from './sync-message.ts';

const ID = 'CHITTY-TODO-01J0000000000000000000000A';
const c = (n: number, name: string | null, text: string): EntityComment => ({ id: `CHITTY-COMMENT-${n}`, at: new Date(1_700_000_000_000 + n).toISOString(), by: null, name, text });

function update(data: Record<string, unknown>, delta: Record<string, unknown>): SyncMessage {
  return {
    id: 'CHITTY-MSG-1',
    type: 'state_update',
    source: { nodeId: 'n1', platform: 'email' },
    target: { broadcast: true },
    payload: { domain: 'todos', operation: 'update', entity: { chittyId: ID, type: 'todo', data: { chittyId: ID, content: 'Write brief', status: 'pending', ...data } }, delta },
    metadata: { timestamp: new Date(0).toISOString(), vectorClock: { n1: 2 } },
  } as SyncMessage;
}

describe('describeChange: comments', () => {
  const looksGood = c(1, 'Ann', 'Looks good');

  it('a comment is told as "Ann commented: …", on every channel', () => {
    const reply = describeChange(update({ comments: [looksGood] }, { add: { comments: [encodeComment(looksGood)] } }));
    expect(reply.title).toBe('Ann commented: Looks good');
    expect(reply.items?.[0]).toMatchObject({ id: ID, text: 'Write brief', detail: '1 comment' });
    const all = renderAll(reply);
    for (const [channel, out] of Object.entries(all)) expect(JSON.stringify(out), channel).toContain('Ann commented: Looks good');
    expect(describeDigest([update({}, { set: { status: 'completed' } }), update({ comments: [looksGood] }, { add: { comments: [encodeComment(looksGood)] } })]).items?.[1]?.text).toBe(
      'Ann commented: Looks good',
    );
  });

  it('another change to a todo with comments shows the latest ones under it, oldest first', () => {
    const comments = [c(1, 'Ann', 'One'), c(2, null, 'Two'), c(3, 'Bob', 'Three\nlines'), c(4, 'Ann', 'Four')];
    const reply = describeChange(update({ comments, status: 'completed' }, { set: { status: 'completed' } }));
    expect(reply.title).toBe('Todo completed: Write brief');
    expect(reply.text).toBe('(1 earlier comment)\nSomeone: Two\nBob: Three lines\nAnn: Four');
  });

  it('a long comment is cut in the title, whole in the hub', () => {
    const long = c(5, 'Ann', 'x'.repeat(500));
    expect(describeChange(update({ comments: [long] }, { add: { comments: [encodeComment(long)] } })).title).toBe(`Ann commented: ${'x'.repeat(119)}…`);
  });
});
