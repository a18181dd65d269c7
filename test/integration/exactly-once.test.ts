/**
 * Exactly once and in order across web processes: two conversation cores, each with its own
 * connection pool (as two gateways have), on one Postgres schema. In-process ordering (a queue per
 * conversation) cannot help here; only what the database shares can.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { Hub } from '../../src/hub/hub.ts';
import { ConversationCore } from '../../src/core/conversation-core.ts';
import type { InboundMessage } from '../../src/core/inbound.ts';
import { openDatabase, type Database } from '../../src/db.ts';
import { openTestDatabase, TEST_DATABASE_URL } from '../support/database.ts';

let first: Database & { schema?: string };
let second: Database;
let cores: [ConversationCore, ConversationCore];
let hub: Hub;

const PHONES = Array.from({ length: 5 }, (_, i) => `+1555010${String(i).padStart(4, '0')}`);
const logger = createLogger('silent');

beforeAll(async () => {
  first = await openTestDatabase('postgres');
  second = await openDatabase({ databaseUrl: TEST_DATABASE_URL, databaseSchema: first.schema, dataDir: 'memory://' });
  const allowlist = PHONES.map((p) => `sms:${p}`);
  hub = new Hub(first, 'hub');
  cores = [new ConversationCore(hub, first, logger, { allowlist }), new ConversationCore(new Hub(second, 'hub'), second, logger, { allowlist })];
});
afterAll(async () => {
  await second?.close();
  await first?.close();
});

const message = (phone: string, text: string, providerMessageId: string): InboundMessage => ({
  channel: 'sms',
  address: phone,
  sender: `sms:${phone}`,
  text,
  providerMessageId,
  receivedAt: new Date(),
});

const contents = async (prefix: string): Promise<string[]> => (await hub.list('todos', { limit: 1000 })).map((t) => String(t.content)).filter((c) => c.startsWith(prefix));

describe('two gateways on one database', () => {
  it("hand each answer out once even when another message's turn ran it first", async () => {
    // Both messages of one conversation are recorded before either handler runs: the later one's
    // turn runs the earlier one too, yet the earlier one's own handler is the one that answers it.
    const first = message(PHONES[1]!, 'add Earlier one', 'SMearly1');
    const second = message(PHONES[1]!, 'add Later one', 'SMlater1');
    await cores[0].inbound.record(first);
    await cores[0].inbound.record(second);
    const later = await cores[1].handle(second);
    const earlier = await cores[0].handle(first);
    expect([earlier.duplicate, later.duplicate]).toEqual([false, false]);
    expect((await cores[0].handle(first)).duplicate).toBe(true);
  });

  it('run a message delivered to both at the same moment once, and give every copy the same answer', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `SMtwice${i}`);
    const results = await Promise.all(
      ids.map(async (id, i) => {
        const m = message(PHONES[i % PHONES.length]!, `add Twice ${i}`, id);
        // Each gateway gets the message twice at once: a platform retry that reached both.
        const copies = await Promise.all([cores[0].handle(m), cores[1].handle(m), cores[0].handle(m), cores[1].handle(m)]);
        return { i, copies };
      }),
    );
    const created = await contents('Twice ');
    expect(created.sort()).toEqual(ids.map((_, i) => `Twice ${i}`).sort());
    for (const { copies } of results) {
      for (const c of copies) expect(c.reply).toEqual(copies[0]!.reply);
      expect(copies.filter((c) => !c.duplicate)).toHaveLength(1);
    }
  });

  it("apply a conversation's messages in the order they arrived, whichever gateway handles each", async () => {
    const perConversation = 12;
    const all: { m: InboundMessage; conversation: number; n: number }[] = [];
    // Arrival: every message is recorded (acked) in order before any is worked on.
    for (let n = 0; n < perConversation; n++) {
      for (let c = 0; c < PHONES.length; c++) {
        const m = message(PHONES[c]!, `add Ordered ${c}.${String(n).padStart(2, '0')}`, `SMorder${c}-${n}`);
        await cores[0].inbound.record(m);
        all.push({ m, conversation: c, n });
      }
    }
    // Then the handlers run in a scrambled order, spread over both gateways, all at once.
    const scrambled = [...all].sort((a, b) => ((a.n * 7 + a.conversation * 5) % 11) - ((b.n * 7 + b.conversation * 5) % 11) || b.n - a.n);
    await Promise.all(scrambled.map(({ m }, i) => cores[i % 2]!.handle(m)));
    const created = await contents('Ordered ');
    for (let c = 0; c < PHONES.length; c++) {
      const mine = created.filter((x) => x.startsWith(`Ordered ${c}.`)); // list order = creation order
      expect(mine).toEqual(Array.from({ length: perConversation }, (_, n) => `Ordered ${c}.${String(n).padStart(2, '0')}`));
    }
  });

  it('run what a stop left recorded but unanswered once, at the next start, on either gateway', async () => {
    const m = message(PHONES[0]!, 'add Left over', 'SMleftover');
    await cores[1].inbound.record(m); // recorded and acked, then the process died
    const [a, b] = await Promise.all([cores[0].resumeUnfinished(), cores[1].resumeUnfinished()]);
    expect(a + b).toBe(1);
    expect(await contents('Left over')).toEqual(['Left over']);
    // The platform re-delivers it after all: that copy hands the answer out (nobody did), the next does not.
    const again = await cores[0].handle(m);
    expect(again.duplicate).toBe(false);
    expect((await cores[1].handle(m)).duplicate).toBe(true);
    expect(await contents('Left over')).toEqual(['Left over']);
  });
});
