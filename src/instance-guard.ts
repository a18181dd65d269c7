/**
 * Two gateways must not silently share what only one may own:
 * - the embedded database in DATA_DIR (two PGlite processes on one directory lose each other's
 *   writes): a lock file with the owner's pid, taken over only when that process is gone;
 * - a Redis queue prefix (two hubs on one prefix take each other's jobs): the prefix is bound to
 *   the hub id stored in the database, and a hub with another database is refused.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import * as schema from '../drizzle/schema.ts';
import { ConfigError } from './core/chitty-error.ts';
import type { Database } from './db.ts';
import type { Logger } from './log.ts';
import { createRedis } from './redis/client.ts';

export const LOCK_FILE = 'gateway.lock';

/** Data directories this process holds (a second gateway in the same process is refused too). */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take DATA_DIR for this process, or refuse with a sentence when a live gateway holds it.
 * Resolves to the release function.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      held.add(dir);
      return async () => {
        held.delete(dir);
        const owner = await readFile(file, 'utf8').catch(() => '');
        if (owner.trim() === String(process.pid)) await unlink(file).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    const ours = pid === process.pid;
    if (Number.isInteger(pid) && pid > 0 && ((ours && held.has(dir)) || (!ours && alive(pid)))) {
      throw new ConfigError(
        `Another gateway (pid ${pid}) is using DATA_DIR ${dir}; two gateways on one embedded database would lose each other's writes. Stop it, give this one its own DATA_DIR, or share state through Postgres (DATABASE_URL).`,
      );
    }
    await unlink(file).catch(() => {}); // left by a process that is gone (or unreadable): take it over
  }
  throw new ConfigError(`Could not take the lock ${file}; remove it if no gateway is running on DATA_DIR ${dir}.`);
}

/** This hub's id, generated into the database the first time. */
export async function hubId(database: Database): Promise<string> {
  const t = schema.hubMeta;
  await database.root.insert(t).values({ key: 'hub_id', value: randomUUID() }).onConflictDoNothing();
  const [row] = await database.root.select().from(t).where(eq(t.key, 'hub_id'));
  if (!row) throw new Error('hub_meta has no hub_id after inserting one');
  return row.value;
}

/**
 * The Redis key that names the hub a queue prefix belongs to. It stays under the configured prefix
 * itself (not a queue's tag, see queues/names.ts): one key, and existing bindings keep their name.
 */
export const prefixOwnerKey = (prefix: string): string => `${prefix}:hub`;

/**
 * Bind the queue prefix to this hub, or refuse with a sentence when another hub (another
 * database) already uses it. Logged loudly either way: which prefix, which hub.
 */
export async function claimQueuePrefix(redisUrl: string, prefix: string, hub: string, logger: Logger): Promise<void> {
  const redis = createRedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName: 'chitty-prefix-claim' });
  try {
    await redis.connect();
    const key = prefixOwnerKey(prefix);
    const claimed = await redis.set(key, hub, 'NX');
    const owner = claimed ? hub : await redis.get(key);
    if (owner !== hub) {
      throw new ConfigError(
        `The Redis queue prefix ${prefix} belongs to another hub (${owner}), with another database: two hubs on one prefix take each other's deliveries. Set CHITTY_QUEUE_PREFIX to a prefix of this hub's own (e.g. {chitty-${hub.slice(0, 8)}}), or point this gateway at that hub's database.`,
      );
    }
    logger.warn(
      { queuePrefix: prefix, hubId: hub, new: claimed === 'OK' },
      `Redis queue prefix ${prefix} belongs to hub ${hub}${claimed ? ' (claimed now)' : ''}; another hub on this Redis must set its own CHITTY_QUEUE_PREFIX`,
    );
  } finally {
    redis.disconnect();
  }
}
