/**
 * Child processes the process-level tests and `npm run chaos` start: a throw-away redis-server,
 * the gateway's `worker` process (as the Procfile runs it), and a way to stop either and wait.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { Redis } from 'ioredis';
import { TEST_TOKEN, type TestGateway } from './gateway.ts';

/** SIGTERM (or `signal`) and wait until the process has exited; a no-op if it already has. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/**
 * A throw-away redis-server on `port` that keeps nothing on disk (a restart loses every key),
 * optionally with a password; resolves once it answers PING.
 */
export async function startRedisServer(port: number, options: { password?: string | undefined; extraArgs?: string[] } = {}): Promise<ChildProcess> {
  const { password, extraArgs = [] } = options;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(password ? ['--requirepass', password] : []), ...extraArgs];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const probe = new Redis(`redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}`);
}

export interface WorkerProcessOptions {
  /** Webhook signing secret (must match the web side's). */
  webhookSecret: string;
  logLevel?: string;
  stdio?: StdioOptions;
  env?: Record<string, string>;
}

/**
 * A `worker` process (outbox relay, fan-out, delivery workers) on the test gateway's database and
 * queues, with short digest windows, lock and sweep times so a killed worker's jobs come back fast.
 */
export function startWorkerProcess(gw: TestGateway, options: WorkerProcessOptions): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: options.logLevel ?? 'warn',
      DATABASE_URL: gw.config.databaseUrl!,
      DATABASE_SCHEMA: gw.config.databaseSchema!,
      REDIS_URL: gw.redis.url,
      CHITTY_QUEUE_PREFIX: gw.config.queuePrefix,
      CHITTY_API_TOKEN: TEST_TOKEN,
      CHITTY_WEBHOOK_SECRET: options.webhookSecret,
      DATA_DIR: 'memory://',
      CHITTY_DIGEST_WINDOW_MS: '20',
      CHITTY_RATE_LIMITS: 'webhook=1000/1000',
      CHITTY_JOB_LOCK_MS: '2000',
      CHITTY_SWEEP_MS: '1000',
      ...options.env,
    },
    stdio: options.stdio ?? ['ignore', 'inherit', 'inherit'],
  });
}
