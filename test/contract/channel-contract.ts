/**
 * The contract every chat channel adapter passes (STYLE.md rule 10; Chat SDK `packages/tests`).
 * A channel's test file builds a `ContractHarness` — how to sign a request as the platform does,
 * what its corpus files are, how to read an answer — and calls `describeChannelContract`. The cases
 * are the same for every channel: corpus files parse, a command is answered, fan-out reaches the
 * platform's API, bad and stale signatures get 401 and change nothing, an unknown command gets a
 * usage line, a re-delivery runs once, the bot's own echo is ignored, hostile text never pings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db.ts';
import type { DestinationChannel } from '../../src/core/subscription-store.ts';
import type { TestGateway } from '../support/gateway.ts';

/** A request as the platform would send it. */
export interface PlatformRequest {
  method?: 'POST' | 'GET';
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** A recorded corpus file, turned into a request, and what the adapter must make of it. */
export interface CorpusCase {
  name: string;
  request: PlatformRequest;
  /** `message`: runs through the core; `ignore`: 2xx, nothing recorded; `protocol`: answered by the adapter itself. */
  expect: 'message' | 'ignore' | 'protocol';
}

export interface ContractContext {
  gw: TestGateway;
}

export interface ContractHarness {
  channel: DestinationChannel;
  /** Start a gateway with the channel on (pointed at the loopback fake) and the fake itself. */
  start(): Promise<ContractContext>;
  stop(ctx: ContractContext): Promise<void>;
  /** A signed request that says `text` as the harness's member, in its conversation. */
  command(text: string, messageId: string): PlatformRequest;
  /** What a bad signature gets (default 401; Twilio's convention is 403). */
  refusalStatus?: 401 | 403;
  /** The same request with the signature broken. */
  badSignature(req: PlatformRequest): PlatformRequest;
  /** The same request signed with a timestamp outside the platform's window (omit if it signs none). */
  stale?(text: string, messageId: string): PlatformRequest;
  /** A request that is the bot's own message coming back. */
  ownEcho(): PlatformRequest;
  corpus(): CorpusCase[];
  /**
   * What the person saw for a command: the inline answer in `response`, or what the fake got
   * afterwards (response_url, follow-up, REST send). Waits for a late answer.
   */
  answerOf(ctx: ContractContext, response: { status: number; text: string }, messageId: string): Promise<string>;
  /** How many answers went out through the platform's API (not inline) for a message id so far. */
  lateAnswers(ctx: ContractContext, messageId: string): Promise<number>;
  /** The address to subscribe for fan-out, and the texts the fake got posted there. */
  subscriber: string;
  postsTo(ctx: ContractContext, address: string): Promise<string[]>;
  /** Throws when a rendered payload would notify everyone (`@everyone`, `<!channel>`, role pings). */
  assertNoMassPing(rawAnswer: string): void;
}

export async function sendPlatform(gw: TestGateway, req: PlatformRequest): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}${req.path}`, { method: req.method ?? 'POST', headers: req.headers, ...(req.method === 'GET' ? {} : { body: req.body }) });
  return { status: res.status, text: await res.text() };
}

async function inboundCount(gw: TestGateway): Promise<number> {
  const r = await gw.database.db.execute(sql`select count(*)::int as n from inbound_messages`);
  return Number(rowsOf<{ n: number }>(r)[0]!.n);
}

async function todoContents(gw: TestGateway): Promise<string[]> {
  const r = await gw.call('GET', '/api/v1/todos?limit=1000');
  return (r.json.items as { content: string }[]).map((t) => t.content);
}

/** Poll until `check` returns a value (events from another process have no hook to wait on). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function describeChannelContract(h: ContractHarness): void {
  describe(`${h.channel}: the channel-adapter contract`, () => {
    let ctx: ContractContext;
    let n = 0;
    const id = (what: string) => `${what}-${++n}-${Date.now()}`;
    beforeAll(async () => {
      ctx = await h.start();
    });
    afterAll(async () => {
      if (ctx) await h.stop(ctx);
    });

    it('parses every corpus file to a message, an ignore or a protocol answer, never a 401 or a 5xx', async () => {
      const cases = h.corpus();
      expect(cases.length).toBeGreaterThan(0);
      for (const c of cases) {
        const before = await inboundCount(ctx.gw);
        const r = await sendPlatform(ctx.gw, c.request);
        expect(r.status >= 200 && r.status < 300, `${c.name}: HTTP ${r.status} ${r.text.slice(0, 200)}`).toBe(true);
        const recorded = (await inboundCount(ctx.gw)) - before;
        expect({ file: c.name, recorded }).toEqual({ file: c.name, recorded: c.expect === 'message' ? 1 : 0 });
      }
      // Let every corpus message be answered before the next case counts its own answers.
      await eventually(async () => {
        const r = await ctx.gw.database.db.execute(sql`select count(*)::int as n from inbound_messages where status = 'received' or answer_claimed_at is null`);
        return Number(rowsOf<{ n: number }>(r)[0]!.n) === 0 ? true : undefined;
      }, 'every corpus message answered');
    });

    it('answers a command on the channel and changes the hub', async () => {
      const mid = id('add');
      const r = await sendPlatform(ctx.gw, h.command('todo add Contract check one', mid));
      expect(r.status).toBe(200);
      expect(await h.answerOf(ctx, r, mid)).toMatch(/Contract check one/);
      expect(await todoContents(ctx.gw)).toContain('Contract check one');
    });

    it('fans a change out to a subscribed destination through the platform API', async () => {
      const sub = await ctx.gw.call('POST', '/api/v1/subscriptions', { channel: h.channel, address: h.subscriber, domains: ['todos'] });
      expect(sub.status).toBe(201);
      await ctx.gw.call('POST', '/api/v1/todos', { content: 'Fanned out to the contract' });
      const posts = await eventually(async () => {
        const p = await h.postsTo(ctx, h.subscriber);
        return p.some((x) => x.includes('Fanned out to the contract')) ? p : undefined;
      }, `a ${h.channel} post about the new todo`);
      expect(posts.join('\n')).toMatch(/Fanned out to the contract/);
      await ctx.gw.call('DELETE', `/api/v1/subscriptions/${sub.json.id}`);
    });

    it(`refuses a bad signature with ${h.refusalStatus ?? 401} and records nothing`, async () => {
      const before = await inboundCount(ctx.gw);
      const todos = (await todoContents(ctx.gw)).length;
      const r = await sendPlatform(ctx.gw, h.badSignature(h.command('todo add Forged', id('forged'))));
      expect(r.status).toBe(h.refusalStatus ?? 401);
      expect(await inboundCount(ctx.gw)).toBe(before);
      expect((await todoContents(ctx.gw)).length).toBe(todos);
    });

    it(`refuses a stale timestamp with ${h.refusalStatus ?? 401} and records nothing`, async () => {
      if (!h.stale) return;
      const before = await inboundCount(ctx.gw);
      const r = await sendPlatform(ctx.gw, h.stale('todo add Replayed', id('stale')));
      expect(r.status).toBe(h.refusalStatus ?? 401);
      expect(await inboundCount(ctx.gw)).toBe(before);
    });

    it('answers an unknown command with a usage line and changes nothing', async () => {
      const todos = (await todoContents(ctx.gw)).length;
      const mid = id('unknown');
      const r = await sendPlatform(ctx.gw, h.command('frobnicate the widgets', mid));
      expect(r.status).toBe(200);
      expect(await h.answerOf(ctx, r, mid)).toMatch(/help|usage|unknown|try/i);
      expect((await todoContents(ctx.gw)).length).toBe(todos);
    });

    it('runs a re-delivered message once and answers it once', async () => {
      const mid = id('again');
      const req = h.command('todo add Delivered twice', mid);
      const first = await sendPlatform(ctx.gw, req);
      await h.answerOf(ctx, first, mid);
      const second = await sendPlatform(ctx.gw, req);
      expect(second.status).toBe(200);
      expect((await todoContents(ctx.gw)).filter((c) => c === 'Delivered twice')).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 200)); // a second late answer would be on its way by now
      expect(await h.lateAnswers(ctx, mid)).toBeLessThanOrEqual(1);
    });

    it('ignores its own echo: nothing recorded, nothing answered', async () => {
      const before = await inboundCount(ctx.gw);
      const r = await sendPlatform(ctx.gw, h.ownEcho());
      expect(r.status).toBeLessThan(300);
      expect(await inboundCount(ctx.gw)).toBe(before);
    });

    it('never pings everyone with hostile text, in the answer or in fan-out', async () => {
      const mid = id('hostile');
      const r = await sendPlatform(ctx.gw, h.command('todo add @everyone @here <!channel> <!here> <@&123456789012345678> look', mid));
      h.assertNoMassPing(await h.answerOf(ctx, r, mid));
    });
  });
}
