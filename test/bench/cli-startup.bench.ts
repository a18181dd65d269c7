/**
 * How long a `chitty` call takes from process start to exit, as JSON (medians of N runs):
 * node's own start (floor), `chitty --help` and `chitty todo list` through bin/chitty.mjs (the
 * cached esbuild bundle), and the same through tsx (how bin/chitty.mjs ran before) for comparison.
 * `todo list` talks to CHITTY_URL/CHITTY_API_TOKEN when set, else to a gateway started here.
 *
 *   node --import tsx test/bench/cli-startup.bench.ts [runs=15]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestGateway, TEST_TOKEN } from '../support/gateway.ts';

const runs = Number(process.argv[2] ?? 15);
const run = promisify(execFile);
const gw = process.env.CHITTY_URL ? undefined : await startTestGateway('pglite');
const env = { ...process.env, CHITTY_URL: process.env.CHITTY_URL ?? gw!.url, CHITTY_API_TOKEN: process.env.CHITTY_API_TOKEN ?? TEST_TOKEN, CHITTY_USER: 'bench' };
await run(process.execPath, ['bin/chitty.mjs', 'todo', 'add', 'Benchmark todo'], { env }); // also builds the bundle

async function median(args: string[]): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run(process.execPath, args, { env }).catch(() => undefined);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return Math.round(ms[Math.floor(ms.length / 2)]!);
}

const result = {
  runs,
  nodeStartMs: await median(['-e', '']),
  helpMs: await median(['bin/chitty.mjs', '--help']),
  todoListMs: await median(['bin/chitty.mjs', 'todo', 'list']),
  tsxHelpMs: await median(['--import', 'tsx', 'src/cli/chitty.ts', '--help']),
  tsxTodoListMs: await median(['--import', 'tsx', 'src/cli/chitty.ts', 'todo', 'list']),
};
console.log(JSON.stringify(result));
await gw?.close();
