/**
 * Exactly once and in order under kill -9, and through two gateway processes at once: real
 * processes on one Postgres schema and one Redis prefix, clients that re-send what got no answer
 * with the same message id (as every chat platform does).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../support/database.ts';
import { dropRedisPrefix } from '../support/gateway.ts';
import { freshProcessEnv, postNumberedCommand, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';

const CONVERSATIONS = 40;
const schemas: string[] = [];
const prefixes: string[] = [];
const running = new Set<GatewayProcess>();

function freshEnv(): Record<string, string> {
  const { env, schema, prefix } = freshProcessEnv('crash');
  schemas.push(schema);
  prefixes.push(prefix);
  return env;
}

async function start(env: Record<string, string>): Promise<GatewayProcess> {
  const gw = await startGatewayProcess(env);
  running.add(gw);
  return gw;
}

async function kill(gw: GatewayProcess): Promise<void> {
  await gw.kill();
  running.delete(gw);
}

let db: pg.Client;
beforeAll(async () => {
  db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
});
afterAll(async () => {
  for (const gw of running) await gw.kill();
  for (const s of schemas) await db.query(`drop schema if exists "${s}" cascade`);
  await db.end();
  for (const p of prefixes) await dropRedisPrefix(p);
});

/** Why the last command got no answer, per conversation (for failure messages). */
const lastFailure = new Map<number, string>();

/** POST one command; true when the gateway answered it. */
async function post(url: string, conversation: number, n: number): Promise<boolean> {
  const r = await postNumberedCommand(url, conversation, n, 60_000);
  if (!r.ok) lastFailure.set(conversation, `n${n}: ${r.why}`);
  return r.ok;
}

/** Every conversation's todo contents, in creation order (ids sort by creation). */
async function created(schema: string): Promise<Map<number, string[]>> {
  const r = await db.query<{ content: string }>(`select data->>'content' as content from "${schema}".todos where not deleted order by id`);
  const out = new Map<number, string[]>();
  for (const { content } of r.rows) {
    const c = Number(/^c(\d+) /.exec(content)?.[1]);
    out.set(c, [...(out.get(c) ?? []), content]);
  }
  return out;
}

function expectEachOnceInOrder(byConversation: Map<number, string[]>, perConversation: number): void {
  const wrong: string[] = [];
  for (let c = 0; c < CONVERSATIONS; c++) {
    const want = Array.from({ length: perConversation }, (_, n) => `c${c} n${n}`);
    const got = byConversation.get(c) ?? [];
    if (JSON.stringify(got) !== JSON.stringify(want))
      wrong.push(
        `conversation ${c}: ${got.length} todos, duplicated ${got.length - new Set(got).size}, missing ${want.filter((w) => !got.includes(w)).length}, in order ${JSON.stringify([...new Set(got)]) === JSON.stringify(want.filter((w) => got.includes(w)))}`,
      );
  }
  expect(wrong).toEqual([]);
}

describe('exactly once, in order, across crashes and processes', () => {
  it('kill -9 twice while 40 conversations send commands, re-send what got no answer: 0 duplicated, 0 lost, in order', async () => {
    const env = freshEnv();
    const perConversation = 15;
    let gw = await start(env);
    let answered = 0;
    const kills = [120, 360];
    let restarting: Promise<void> | undefined;
    const crashAt = async () => {
      if (restarting || kills.length === 0 || answered < kills[0]!) return;
      kills.shift();
      restarting = (async () => {
        await kill(gw);
        gw = await start(env);
      })();
      await restarting;
      restarting = undefined;
    };
    let resent = 0;
    await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, c) => {
        for (let n = 0; n < perConversation; n++) {
          const deadline = Date.now() + 120_000;
          for (let attempt = 0; ; attempt++) {
            await restarting;
            if (await post(gw.url, c, n)) break;
            if (attempt === 0) resent++;
            if (Date.now() > deadline) throw new Error(`c${c} n${n} never answered:\n${gw.stderr()}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          answered++;
          void crashAt();
        }
      }),
    );
    expect(kills).toEqual([]); // both kills happened mid-burst
    expect(resent).toBeGreaterThan(0); // and cut some commands off without an answer
    expectEachOnceInOrder(await created(env.DATABASE_SCHEMA!), perConversation);
  }, 240_000);

  it('two gateway processes given the same burst at the same moment: 0 duplicated, 0 lost, in order', async () => {
    const env = freshEnv();
    const perConversation = 8;
    const [a, b] = await Promise.all([start(env), start(env)]);
    await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, c) => {
        for (let n = 0; n < perConversation; n++) {
          // A platform retry that reached the other process while the first was still working.
          const answers = await Promise.all([post(a.url, c, n), post(b.url, c, n)]);
          expect(answers, `c${c}: ${lastFailure.get(c)}\n${a.stderr().slice(-2000)}\n${b.stderr().slice(-2000)}`).toEqual([true, true]);
        }
      }),
    );
    expectEachOnceInOrder(await created(env.DATABASE_SCHEMA!), perConversation);
  }, 240_000);
});
