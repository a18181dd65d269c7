/**
 * Commands under kill -9 (for `npm run chaos`): 40 conversations send `add` commands to a gateway
 * process that is SIGKILLed twice mid-burst and restarted; a command that got no answer is sent
 * again with the same message id (as chat platforms do). Counts what the database holds after.
 * Same method as test/integration/crash.test.ts, bounded: each command gives up after 60 s.
 */
import pg from 'pg';
import { TEST_DATABASE_URL } from '../support/database.ts';
import { dropRedisPrefix } from '../support/gateway.ts';
import { freshProcessEnv, postNumberedCommand, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';

export interface CommandsUnderKill {
  sent: number;
  answered: number;
  /** Requests cut off by a kill and sent again. */
  resent: number;
  lost: number;
  duplicated: number;
  outOfOrderConversations: number;
  kills: number;
}

async function post(url: string, c: number, n: number): Promise<boolean> {
  return (await postNumberedCommand(url, c, n, 30_000)).ok;
}

export async function commandsUnderKill(conversations = 40, perConversation = 15, killAt: number[] = [120, 360]): Promise<CommandsUnderKill> {
  const { env, schema, prefix } = freshProcessEnv('chaos');
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  let gw: GatewayProcess = await startGatewayProcess(env);
  const kills = [...killAt];
  let done = 0;
  let answered = 0;
  let resent = 0;
  let restarting: Promise<void> | undefined;
  const crashAt = async () => {
    if (restarting || kills.length === 0 || answered < kills[0]!) return;
    kills.shift();
    done++;
    restarting = (async () => {
      await gw.kill();
      gw = await startGatewayProcess(env);
    })();
    await restarting;
    restarting = undefined;
  };
  try {
    await Promise.all(
      Array.from({ length: conversations }, async (_, c) => {
        for (let n = 0; n < perConversation; n++) {
          const deadline = Date.now() + 60_000;
          for (let attempt = 0; Date.now() < deadline; attempt++) {
            await restarting;
            if (await post(gw.url, c, n)) {
              answered++;
              break;
            }
            if (attempt === 0) resent++;
            await new Promise((r) => setTimeout(r, 50));
          }
          void crashAt();
        }
      }),
    );
    const r = await db.query<{ content: string }>(`select data->>'content' as content from "${schema}".todos where not deleted order by id`);
    const contents = r.rows.map((x) => x.content);
    const want = Array.from({ length: conversations }, (_, c) => Array.from({ length: perConversation }, (_, n) => `c${c} n${n}`)).flat();
    let outOfOrder = 0;
    for (let c = 0; c < conversations; c++) {
      const got = [...new Set(contents.filter((x) => x.startsWith(`c${c} `)))];
      if (JSON.stringify(got) !== JSON.stringify(want.filter((w) => w.startsWith(`c${c} `) && got.includes(w)))) outOfOrder++;
    }
    return {
      sent: want.length,
      answered,
      resent,
      lost: want.filter((w) => !contents.includes(w)).length,
      duplicated: contents.length - new Set(contents).size,
      outOfOrderConversations: outOfOrder,
      kills: done,
    };
  } finally {
    await gw.kill();
    await db.query(`drop schema if exists "${schema}" cascade`);
    await db.end();
    await dropRedisPrefix(prefix);
  }
}
