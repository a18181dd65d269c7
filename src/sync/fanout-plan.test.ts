import { describe, expect, it } from 'vitest';
import type { SubscriptionRecord } from '../core/subscription-store.ts';
import { planFanout, scopesOf } from './fanout-plan.ts';
import type { SyncMessage } from './sync-message.ts';

const sub = (id: string, over: Partial<SubscriptionRecord> = {}): SubscriptionRecord => ({
  id,
  channel: 'webhook',
  address: `http://x/${id}`,
  thread: null,
  projectId: null,
  topicId: null,
  domains: [],
  scope: '',
  paused: false,
  createdBy: null,
  createdAt: '',
  disabled: false,
  disabledReason: null,
  ...over,
});
const msg = (over: Partial<SyncMessage['metadata']> = {}, data: Record<string, unknown> = { projectId: 'CHITTY-PROJ-A', content: 'x' }, type: SyncMessage['type'] = 'state_update'): SyncMessage => ({
  id: 'm1',
  type,
  source: { nodeId: 'hub', platform: 'sms' },
  payload: { domain: 'todos', operation: 'update', entity: { chittyId: 'CHITTY-TODO-1', data } },
  metadata: { timestamp: new Date().toISOString(), vectorClock: {}, ...over },
});

describe('planFanout', () => {
  const subs = [
    sub('hub'),
    sub('projA', { projectId: 'CHITTY-PROJ-A', scope: 'CHITTY-PROJ-A' }),
    sub('projB', { projectId: 'CHITTY-PROJ-B', scope: 'CHITTY-PROJ-B' }),
    sub('sessionsOnly', { domains: ['sessions'] }),
    sub('origin', { channel: 'sms', address: '+15550001111' }),
  ];

  it('matches scope and domains, and skips the conversation the change came from', () => {
    const out = planFanout(msg({ origin: { channel: 'sms', address: '+15550001111' } }), subs).map((s) => s.id);
    expect(out).toEqual(['hub', 'projA']);
    expect(planFanout(msg(), subs).map((s) => s.id)).toEqual(['hub', 'projA', 'origin']);
  });

  it("a reply in one of a mailbox's todo threads gets its answer there, so no notice goes back to that mailbox", () => {
    const mail = [sub('ann', { channel: 'email', address: 'ann@example.com' }), sub('bob', { channel: 'email', address: 'bob@example.com' }), sub('slack', { channel: 'slack', address: 'C1' })];
    const fromAnn = msg({ origin: { channel: 'email', address: 'ann@example.com', thread: '<n1@example.com>' } });
    expect(planFanout(fromAnn, mail).map((s) => s.id)).toEqual(['bob', 'slack']);
    // A Slack thread is not the channel: a command in a thread still tells the channel.
    const fromThread = msg({ origin: { channel: 'slack', address: 'C1', thread: '1700000000.000100' } });
    expect(planFanout(fromThread, mail).map((s) => s.id)).toEqual(['ann', 'bob', 'slack']);
  });

  it('respects a platform target and ignores protocol chatter', () => {
    const m = { ...msg(), target: { broadcast: false, platforms: ['sms'] } };
    expect(planFanout(m, subs).map((s) => s.id)).toEqual(['origin']);
    expect(planFanout(msg({}, {}, 'heartbeat'), subs)).toEqual([]);
  });

  it('lists the scopes of a message', () => {
    expect(scopesOf(msg()).sort()).toEqual(['CHITTY-PROJ-A']);
  });
});

const aimed = (target: SyncMessage['target']): SyncMessage => ({
  id: 'm1',
  type: 'state_snapshot',
  source: { nodeId: 'hub', platform: 'cli' },
  ...(target ? { target } : {}),
  payload: { domain: 'todos', operation: 'query', entity: { chittyId: 'todos', data: { entities: [] } } },
  metadata: { timestamp: new Date().toISOString(), vectorClock: {} },
});

/** `chitty sync --platform/--channel/--model`: a message aimed at channels or models reaches only those subscriptions. */
describe('planFanout with an aimed target', () => {
  const subs = [
    sub('plain'),
    sub('claude', { model: 'claude' }),
    sub('gpt', { model: 'gpt-4o' }),
    sub('slack', { channel: 'slack', address: 'C1' }),
    sub('sms', { channel: 'sms', address: '+15550001111' }),
  ];
  const ids = (t: SyncMessage['target']) => planFanout(aimed(t), subs).map((s) => s.id);

  it('a broadcast reaches everyone', () => {
    expect(ids({ broadcast: true })).toEqual(['plain', 'claude', 'gpt', 'slack', 'sms']);
  });
  it('--model claude reaches webhooks labelled claude only', () => {
    expect(ids({ broadcast: false, platforms: [], models: ['claude'] })).toEqual(['claude']);
  });
  it('--channel slack,webhook --model gpt reaches those channels (every webhook) and the model', () => {
    expect(ids({ broadcast: false, platforms: ['slack'], models: ['gpt'] })).toEqual(['gpt', 'slack']);
    expect(ids({ broadcast: false, platforms: ['slack', 'webhook'] })).toEqual(['plain', 'claude', 'gpt', 'slack']);
  });
  it('--platform web,cli reaches no subscription (those platforms are /ws and MCP clients)', () => {
    expect(ids({ broadcast: false, platforms: ['web', 'cli'] })).toEqual([]);
  });
});
