/**
 * Issue 10's done-when: kill the gateway (SIGKILL) right after Slack got its ack, start it again,
 * and every acknowledged command ran exactly once. Real gateway processes on one Postgres schema,
 * slash commands signed as Slack signs them, the Web API and response_url on a loopback fake.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeSlackApi } from '../fakes/slack-api.ts';
import { TEST_DATABASE_URL } from '../support/database.ts';
import { dropRedisPrefix } from '../support/gateway.ts';
import { freshProcessEnv, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { signedSlack, slashBody } from '../support/slack.ts';

const SECRET = 'test-slack-signing-secret';
const TEAM = 'TFAKE0001';
const MEMBER = 'UMEMBER01';
const COMMANDS = 30;

const { env: processEnv, schema, prefix } = freshProcessEnv('slack-crash');
const running = new Set<GatewayProcess>();
let fake: FakeSlackApi | undefined;

afterAll(async () => {
  for (const gw of running) await gw.kill();
  await fake?.stop();
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  await db.query(`drop schema if exists "${schema}" cascade`);
  await db.end();
  await dropRedisPrefix(prefix);
});

async function countTodos(): Promise<Map<string, number>> {
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  try {
    const r = await db.query<{ content: string; n: number }>(`select data->>'content' as content, count(*)::int as n from "${schema}".todos where not deleted group by 1`);
    return new Map(r.rows.map((x) => [x.content, x.n]));
  } finally {
    await db.end();
  }
}

describe('slack: a kill -9 right after the ack', () => {
  it('runs every acknowledged slash command exactly once after the restart', async () => {
    fake = await new FakeSlackApi().start();
    const env = {
      ...processEnv,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_API_URL: fake.apiUrl,
      CHITTY_ALLOWLIST: `slack:${TEAM}:${MEMBER}`,
    };
    let gw = await startGatewayProcess(env);
    running.add(gw);
    // One channel: the commands queue behind each other, so at the kill some are acked but not run yet.
    const acked: string[] = [];
    let killed: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: COMMANDS }, async (_, i) => {
        const text = `add Crash-safe ${i}`;
        const body = slashBody({ command: '/todo', text, teamId: TEAM, userId: MEMBER, channelId: 'CCRASH001', responseUrl: fake!.responseUrl(`crash-${i}`), triggerId: `crash-${i}.${Date.now()}` });
        try {
          const r = await fetch(`${gw.url}/slack/events`, { method: 'POST', headers: signedSlack(SECRET, body, 'application/x-www-form-urlencoded'), body });
          await r.text();
          if (r.status === 200) acked.push(`Crash-safe ${i}`);
        } catch {
          return; // cut off by the kill before any ack: Slack shows the person an error, nothing is promised
        }
        killed ??= gw.kill().then(() => void running.delete(gw)); // right after the first ack
      }),
    );
    await killed;
    expect(acked.length).toBeGreaterThan(0);
    gw = await startGatewayProcess(env);
    running.add(gw);
    // What was acked and not finished runs at start; wait for it.
    const deadline = Date.now() + 60_000;
    let todos = await countTodos();
    while (acked.some((c) => !todos.has(c)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      todos = await countTodos();
    }
    expect(acked.filter((c) => todos.get(c) !== 1)).toEqual([]);
    expect([...todos.values()].filter((n) => n !== 1)).toEqual([]);
  }, 180_000);
});
