/**
 * A throwaway local Redis Cluster for tests and `npm run bench -- --cluster`: N masters (default
 * 3, no replicas) started from the machine's `redis-server` on free ports, in a temporary
 * directory, slots split evenly (CLUSTER ADDSLOTSRANGE) and joined with CLUSTER MEET. `stop()`
 * ends the servers and removes the directory; they are killed when this process exits anyway.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { findExecutable, freePort } from '../../src/redis/connect.ts';

/** Slots of a Redis Cluster (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/). */
export const CLUSTER_SLOTS = 16_384;

export interface RedisClusterHandle {
  /** `redis+cluster://127.0.0.1:<port>,…`, the REDIS_URL of this cluster. */
  url: string;
  /** One per master, in slot order: node i serves slots[i]. */
  nodes: { port: number; id: string; slots: [number, number] }[];
  /** A direct client of each master (same order as `nodes`); disconnected by `stop()`. */
  clients: Redis[];
  stop(): Promise<void>;
}

/** The path of `redis-server`, or undefined when it is not installed (tests skip, saying so). */
export function redisServerBinary(): Promise<string | undefined> {
  return findExecutable('redis-server', `${process.env.PATH ?? ''}${path.delimiter}/usr/bin${path.delimiter}/usr/local/bin`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start a cluster of `masters` nodes and resolve once every node reports `cluster_state:ok`. */
export async function startRedisCluster(opts: { masters?: number; binary?: string; timeoutMs?: number } = {}): Promise<RedisClusterHandle> {
  const masters = opts.masters ?? 3;
  const binary = opts.binary ?? (await redisServerBinary());
  if (!binary) throw new Error('redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chitty-cluster-'));
  const children: ChildProcess[] = [];
  const clients: Redis[] = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  process.on('exit', killAll);
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const t = setTimeout(() => c.kill('SIGKILL'), 3000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    process.off('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    const busPorts: number[] = [];
    for (let i = 0; i < masters; i++) {
      // The cluster bus gets its own free port (port + 10000 may be taken or out of range).
      const [port, busPort] = [await freePort(), await freePort()];
      ports.push(port);
      busPorts.push(busPort);
      const args = [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '5000',
        '--dir',
        dir,
        '--appendonly',
        'no',
        '--save',
        '',
        '--logfile',
        path.join(dir, `redis-${port}.log`),
      ];
      const child = spawn(binary, args, { stdio: 'ignore' });
      child.unref();
      children.push(child);
    }
    for (const port of ports) {
      const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (n) => (n > 50 ? null : 100) });
      c.on('error', () => {});
      clients.push(c);
    }
    const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
    for (const c of clients) {
      for (;;) {
        try {
          await c.connect();
          await c.ping();
          break;
        } catch {
          if (Date.now() > deadline) throw new Error(`redis-server on port ${c.options.port} did not start; see ${dir}`);
          c.disconnect();
          await sleep(100);
        }
      }
    }
    const per = Math.floor(CLUSTER_SLOTS / masters);
    const nodes: RedisClusterHandle['nodes'] = [];
    for (const [i, c] of clients.entries()) {
      const slots: [number, number] = [i * per, i === masters - 1 ? CLUSTER_SLOTS - 1 : (i + 1) * per - 1];
      await c.call('CLUSTER', 'ADDSLOTSRANGE', String(slots[0]), String(slots[1]));
      nodes.push({ port: ports[i]!, id: String(await c.call('CLUSTER', 'MYID')), slots });
    }
    for (const i of ports.keys()) if (i > 0) await clients[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(ports[i]), String(busPorts[i]));
    // Ready when every node knows every other and all slots are served.
    for (;;) {
      const infos = await Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>));
      if (infos.every((s) => /cluster_state:ok/.test(s) && new RegExp(`cluster_known_nodes:${masters}\\b`).test(s))) break;
      if (Date.now() > deadline) throw new Error(`the cluster did not reach cluster_state:ok: ${infos.map((s) => /cluster_state:\w+/.exec(s)?.[0]).join(', ')}`);
      await sleep(100);
    }
    return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, nodes, clients, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Which master (index into `handle.nodes`) serves `key`, asked of the cluster (CLUSTER KEYSLOT). */
export async function nodeOfKey(handle: RedisClusterHandle, key: string): Promise<number> {
  const slot = Number(await handle.clients[0]!.call('CLUSTER', 'KEYSLOT', key));
  return handle.nodes.findIndex((n) => slot >= n.slots[0] && slot <= n.slots[1]);
}
