/**
 * Comments on todos through the gateway: `todo comment` from a conversation, a concurrent comment
 * from another replica (POST /api/v1/sync/todos), both kept; append-only for replicas and the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeComment } from '../../src/hub/comment-codec.ts';
import { formatHlc } from '../../src/hub/hlc.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

describe('todo comments', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pglite');
  });
  afterAll(async () => gw?.close());

  it('keeps a local and a concurrent remote comment, re-delivery adds nothing, nothing can remove one', async () => {
    const todo = (await gw.call('POST', '/api/v1/todos', { content: 'Write brief' })).json;
    const local = await gw.call('POST', '/api/v1/commands', { text: `todo comment ${todo.chittyId} Looks good` });
    expect(local.json.reply).toMatchObject({ kind: 'ok', title: 'Comment added' });
    expect(local.json.reply.text).toMatch(/: Looks good$/);

    // Another replica commented without having seen ours: its clock counts only its own change.
    const wallMs = Date.now() - 1000;
    const remote = { id: 'CHITTY-COMMENT-REMOTE1', at: new Date(wallMs).toISOString(), by: null, name: 'Bob', text: 'Ship it' };
    const message = {
      id: 'CHITTY-MSG-REMOTECOMMENT1',
      type: 'state_update',
      source: { nodeId: 'replica-b', platform: 'replica' },
      payload: { domain: 'todos', operation: 'update', entity: { chittyId: todo.chittyId, data: {} }, delta: { add: { comments: [encodeComment(remote)] } } },
      metadata: { timestamp: new Date(wallMs).toISOString(), vectorClock: { 'replica-b': 1 }, hlc: formatHlc({ wallMs, counter: 0, node: 'replica-b' }) },
    };
    expect((await gw.call('POST', '/api/v1/sync/todos', message)).status).toBeLessThan(300);
    expect((await gw.call('POST', '/api/v1/sync/todos', message)).status).toBeLessThan(300);
    const texts = async () => ((await gw.call('GET', `/api/v1/todos/${todo.chittyId}`)).json.comments as { text: string }[]).map((c) => c.text);
    expect(await texts()).toEqual(['Ship it', 'Looks good']);

    const remove = {
      ...message,
      id: 'CHITTY-MSG-REMOTECOMMENT2',
      payload: { ...message.payload, delta: { remove: { comments: [encodeComment(remote)] } } },
      metadata: { ...message.metadata, vectorClock: { 'replica-b': 2 } },
    };
    expect((await gw.call('POST', '/api/v1/sync/todos', remove)).status).toBe(400);
    const forged = { ...message, id: 'CHITTY-MSG-REMOTECOMMENT3', payload: { ...message.payload, delta: { add: { comments: ['not a comment'] } } } };
    expect((await gw.call('POST', '/api/v1/sync/todos', forged)).status).toBe(400);
    expect((await gw.call('PUT', `/api/v1/todos/${todo.chittyId}`, { comments: [] })).status).toBe(400);
    // A long comment travels whole between replicas; a set element that long is still refused.
    const long = { ...remote, id: 'CHITTY-COMMENT-REMOTE2', at: new Date(Date.now() + 1000).toISOString(), text: 'x'.repeat(2000) };
    const longMessage = {
      ...message,
      id: 'CHITTY-MSG-REMOTECOMMENT4',
      payload: { ...message.payload, delta: { add: { comments: [encodeComment(long)] } } },
      metadata: { ...message.metadata, vectorClock: { 'replica-b': 2 } },
    };
    expect((await gw.call('POST', '/api/v1/sync/todos', longMessage)).status).toBeLessThan(300);
    const longTag = {
      ...longMessage,
      id: 'CHITTY-MSG-REMOTETAG',
      payload: { ...message.payload, delta: { add: { tags: ['t'.repeat(201)] } } },
      metadata: { ...message.metadata, vectorClock: { 'replica-b': 3 } },
    };
    expect((await gw.call('POST', '/api/v1/sync/todos', longTag)).status).toBe(400);
    expect(await texts()).toEqual(['Ship it', 'Looks good', 'x'.repeat(2000)]);
  });

  it("todo reconcile moves the duplicates' comments to the todo that stays", async () => {
    const project = (await gw.call('POST', '/api/v1/projects', { name: 'Merge' })).json;
    const a = (await gw.call('POST', '/api/v1/todos', { content: 'Fix login', projectId: project.chittyId, sessionId: 'session-a' })).json;
    const b = (await gw.call('POST', '/api/v1/todos', { content: 'fix login', projectId: project.chittyId, sessionId: 'session-b' })).json;
    await gw.call('POST', '/api/v1/commands', { text: `todo comment ${a.chittyId} First` });
    await gw.call('POST', '/api/v1/commands', { text: `todo comment ${b.chittyId} Second` });
    const r = await gw.call('POST', '/api/v1/commands', { text: `todo reconcile --project ${project.chittyId}` });
    expect(r.json.reply.title).toMatch(/^Merged 1 duplicate/);
    const survivor = (await gw.call('GET', `/api/v1/todos/${a.chittyId}`)).json;
    expect((survivor.comments as { text: string }[]).map((c) => c.text)).toEqual(['First', 'Second']);
  });
});
