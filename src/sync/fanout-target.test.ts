/** `chitty sync --platform/--channel/--model`: a message aimed at channels or models reaches only those subscriptions. */
import { describe, expect, it } from 'vitest';
import type { SubscriptionRecord } from '../core/subscription-store.ts';
import { planFanout } from './fanout-plan.ts';
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
const msg = (target: SyncMessage['target']): SyncMessage => ({
  id: 'm1',
  type: 'state_snapshot',
  source: { nodeId: 'hub', platform: 'cli' },
  ...(target ? { target } : {}),
  payload: { domain: 'todos', operation: 'query', entity: { chittyId: 'todos', data: { entities: [] } } },
  metadata: { timestamp: new Date().toISOString(), vectorClock: {} },
});

describe('planFanout with an aimed target', () => {
  const subs = [
    sub('plain'),
    sub('claude', { model: 'claude' }),
    sub('gpt', { model: 'gpt-4o' }),
    sub('slack', { channel: 'slack', address: 'C1' }),
    sub('sms', { channel: 'sms', address: '+15550001111' }),
  ];
  const ids = (t: SyncMessage['target']) => planFanout(msg(t), subs).map((s) => s.id);

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
