/**
 * Redis for the gateway. `REDIS_URL` when it is set; otherwise the default local Redis; otherwise
 * a private `redis-server` (found on PATH) started on a free port with its data in DATA_DIR/redis,
 * so `npm start` works on a laptop with nothing but Redis installed. When there is no Redis at all
 * the error says what to install.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { ChittyError } from '../core/chitty-error.ts';
import { redactSecrets } from '../redact.ts';
import { createRedis, type RedisClient } from './client.ts';

/** Where Redis is looked for when `REDIS_URL` is unset. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** How long a PING may take before a Redis counts as not answering. */
export const PROBE_TIMEOUT_MS = 2_000;
/** How long a private redis-server may take to answer its first PING. */
export const START_TIMEOUT_MS = 5_000;
/** How long a private redis-server gets to exit on SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 3_000;
/** The in-memory DATA_DIR value (see src/config.ts). */
const MEMORY_DIR = 'memory://';
/** What a private redis-server leaves behind so the next start can find it (pid, port, dir). */
const STATE_FILE = 'private-redis.json';

export const REDIS_INSTALL_HINT = 'Install it (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`) or set REDIS_URL.';

/** Redis could not be reached or started; the message says what to do. Retryable: Redis may come back. */
export class RedisUnavailableError extends ChittyError {
  override readonly name = 'RedisUnavailableError';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, 'redis_unavailable', { ...opts, retryable: true });
  }
}

/** A Redis the gateway can use. `stop()` ends the private redis-server, if one was started. */
export interface RedisHandle {
  url: string;
  /** True when this process started a private redis-server. */
  started: boolean;
  stop(): Promise<void>;
}

export interface EnsureRedisOptions {
  /** `REDIS_URL`; `undefined` (or empty) when the variable is unset. */
  redisUrl: string | undefined;
  /** DATA_DIR; may be `memory://` (then a temporary directory is used, without persistence). */
  dataDir: string;
  logger: Logger;
  /** Start a private redis-server when nothing answers on the default URL (default true). */
  autoStart?: boolean;
}

/**
 * The Redis to use: the explicit `REDIS_URL` (which must answer), else the default local one, else
 * a private redis-server started from PATH. Throws {@link RedisUnavailableError} with a sentence
 * that says what to start, set or install.
 */
export async function ensureRedis(opts: EnsureRedisOptions): Promise<RedisHandle> {
  const explicit = opts.redisUrl?.trim();
  if (explicit) {
    try {
      await pingRedis(explicit);
    } catch (err) {
      throw new RedisUnavailableError(`Redis at ${redactUrl(explicit)} (REDIS_URL) did not answer: ${(err as Error).message}. Start Redis there or fix REDIS_URL.`, { cause: err });
    }
    return { url: explicit, started: false, stop: async () => {} };
  }

  try {
    await pingRedis(DEFAULT_REDIS_URL);
    opts.logger.debug({ url: DEFAULT_REDIS_URL }, 'using the local Redis');
    return { url: DEFAULT_REDIS_URL, started: false, stop: async () => {} };
  } catch (err) {
    opts.logger.debug({ err, url: DEFAULT_REDIS_URL }, 'no Redis on the default address');
  }
  if (opts.autoStart === false) {
    throw new RedisUnavailableError(`Redis is not running on 127.0.0.1:6379. Start it or set REDIS_URL.`);
  }
  return startPrivateRedis(opts.dataDir, opts.logger);
}

/**
 * The path of `redis-server` on `pathEnv` (a PATH string), or a {@link RedisUnavailableError}
 * that says what to install.
 */
export async function locateRedisServer(pathEnv: string | undefined): Promise<string> {
  const found = await findExecutable('redis-server', pathEnv);
  if (found) return found;
  throw new RedisUnavailableError(`Redis is not running on 127.0.0.1:6379 and redis-server is not installed. ${REDIS_INSTALL_HINT}`);
}

/** The first executable file called `name` in the directories of `pathEnv`, like `which`. */
export async function findExecutable(name: string, pathEnv: string | undefined): Promise<string | undefined> {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      try {
        await access(candidate, fsConstants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/**
 * Resolves when the Redis at `url` (or a cluster, `redis+cluster://…`) answers PING within
 * `timeoutMs`; rejects with the reason otherwise. Uses a throwaway client that never retries.
 */
export async function pingRedis(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  const client = createRedis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(lastError ?? new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([
      (async () => {
        await client.connect();
        const pong = await client.ping();
        if (pong !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(pong)}`);
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/**
 * Starts a private redis-server for this process: on a free port of 127.0.0.1, data (append-only
 * file) and log in `<dataDir>/redis`; for `memory://` in a temporary directory without persistence.
 * Resolves once it answers PING. The server is killed when this process exits; `stop()` ends it
 * sooner (SIGTERM, then SIGKILL after {@link STOP_GRACE_MS}).
 */
export async function startPrivateRedis(dataDir: string, logger: Logger, opts: { binary?: string } = {}): Promise<RedisHandle> {
  const binary = opts.binary ?? (await locateRedisServer(process.env.PATH));
  const memory = dataDir === MEMORY_DIR;
  const dir = memory ? await mkdtemp(path.join(os.tmpdir(), 'chitty-redis-')) : path.join(path.resolve(dataDir), 'redis');
  await mkdir(dir, { recursive: true });
  if (!memory) await shutDownOrphan(dir, logger);

  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const handle = await launch(binary, dir, port, memory, logger);
      if (!memory) await writeFile(path.join(dir, STATE_FILE), `${JSON.stringify({ pid: handle.pid, port, dir })}\n`);
      logger.info({ url: handle.url, dir }, `started a private redis-server (${memory ? 'in memory' : 'data in DATA_DIR/redis'}); set REDIS_URL to use your own Redis`);
      return {
        url: handle.url,
        started: true,
        stop: async () => {
          await handle.stop();
          if (memory) await rm(dir, { recursive: true, force: true });
          else await rm(path.join(dir, STATE_FILE), { force: true });
        },
      };
    } catch (err) {
      lastError = err as Error;
      // Another process may have taken the port between our probe and redis-server's bind.
      if (!/address already in use/i.test(lastError.message)) break;
    }
  }
  if (memory) await rm(dir, { recursive: true, force: true });
  throw new RedisUnavailableError(`Could not start a private redis-server (${binary}): ${lastError?.message ?? 'unknown error'}`, {
    cause: lastError,
  });
}

interface Launched {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

async function launch(binary: string, dir: string, port: number, memory: boolean, logger: Logger): Promise<Launched> {
  const logfile = path.join(dir, 'redis.log');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', memory ? 'no' : 'yes', '--save', '', '--daemonize', 'no', '--logfile', logfile];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastPing: Error | undefined;
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((info) => {
    exitInfo = info;
  });
  for (;;) {
    if (spawnError || exitInfo) {
      process.off('exit', killOnExit);
      const why = spawnError?.message ?? `exited with ${exitInfo?.signal ?? `code ${exitInfo?.code}`}`;
      const log = (stderr.trim() || (await tail(logfile))).trim();
      throw new Error(`redis-server ${why}${log ? `: ${log}` : ''}`);
    }
    try {
      await pingRedis(url, 500);
      break;
    } catch (err) {
      lastPing = err as Error;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      process.off('exit', killOnExit);
      throw new Error(`redis-server did not answer PING on ${url} within ${START_TIMEOUT_MS} ms (${lastPing?.message ?? 'no reply'}); see ${logfile}`);
    }
    await sleep(100);
  }

  let stopping: Promise<void> | undefined;
  // The child must not keep this process alive on its own; the 'exit' hook still ends it.
  child.unref();
  child.stderr?.destroy();
  void exited.then((info) => {
    process.off('exit', killOnExit);
    if (!stopping) logger.error({ url, ...info, log: logfile }, 'the private redis-server exited');
  });

  return {
    url,
    pid: child.pid,
    stop: () => (stopping ??= stopChild(child, exited)),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([exited, grace]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * A private redis-server left running by a process that died without its 'exit' hook (SIGKILL,
 * an unhandled SIGTERM) still owns the append-only file in `dir`. Two servers must never share it,
 * so shut the old one down (it flushes the file first) before starting a new one. Only a server
 * that answers on the recorded port and reports the same `dir` is touched.
 */
async function shutDownOrphan(dir: string, logger: Logger): Promise<void> {
  let state: { port?: unknown };
  try {
    state = JSON.parse(await readFile(path.join(dir, STATE_FILE), 'utf8')) as { port?: unknown };
  } catch {
    return;
  }
  if (typeof state.port !== 'number') return;
  const url = `redis://127.0.0.1:${state.port}`;
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 500 });
  client.on('error', () => {});
  try {
    await client.connect();
    const reply = (await client.config('GET', 'dir')) as unknown;
    const theirDir = Array.isArray(reply) ? reply[1] : undefined;
    if (typeof theirDir !== 'string' || path.resolve(theirDir) !== path.resolve(dir)) return;
    logger.warn({ url, dir }, 'shutting down a private redis-server left running by an earlier start');
    await client.call('SHUTDOWN').catch(() => {}); // the connection drops as it exits
    const deadline = Date.now() + STOP_GRACE_MS;
    while (Date.now() < deadline) {
      try {
        await pingRedis(url, 300);
      } catch {
        return;
      }
      await sleep(100);
    }
  } catch {
    // nothing answers there: nothing to do
  } finally {
    client.disconnect();
  }
}

/**
 * An ioredis client for BullMQ queues and workers: `maxRetriesPerRequest: null` (BullMQ requires it
 * for workers' blocking commands), ready check on, and reconnects forever with a backoff capped at
 * 2 s. See https://docs.bullmq.io/guide/connections.
 */
export function redisConnection(url: string, opts: { lazy?: boolean; connectionName?: string } = {}): RedisClient {
  return createRedis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: opts.lazy ?? false,
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
    ...(opts.connectionName ? { connectionName: opts.connectionName } : {}),
  });
}

/** The URL with any password replaced, for messages and logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return redactSecrets(url); // a cluster URL (host:port,host:port) is no WHATWG URL
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

async function tail(file: string, max = 2000): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).slice(-max);
  } catch {
    return '';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
