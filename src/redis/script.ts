/**
 * A Lua script Redis runs by its SHA1 (EVALSHA), as BullMQ runs its own: the text goes over the
 * wire once per connection instead of with every call (the delivery path calls its scripts several
 * times per request). Built on ioredis `defineCommand`, which sends EVAL when Redis answers
 * NOSCRIPT (after a restart or a SCRIPT FLUSH) and works on a Cluster.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './client.ts';

type Arg = string | number;
type WithScript = Record<string, (...args: Arg[]) => Promise<unknown>>;

export interface RedisScript {
  /** Run it: `keys` first (as many as the script was declared with), then its ARGV. */
  run(redis: RedisClient, keys: string[], args: Arg[]): Promise<unknown>;
}

/**
 * `lua` with `numberOfKeys` KEYS (a fixed number, as EVALSHA needs it up front), or `'any'`: as
 * many as each call gives (EVALSHA is then told the count with every call).
 */
export function redisScript(lua: string, numberOfKeys: number | 'any'): RedisScript {
  const name = `chitty_${createHash('sha1').update(lua).digest('hex').slice(0, 16)}`;
  const prepared = new WeakSet<object>();
  const prepare = (redis: RedisClient): void => {
    if (prepared.has(redis)) return;
    redis.defineCommand(name, numberOfKeys === 'any' ? { lua } : { numberOfKeys, lua });
    prepared.add(redis);
  };
  const argsOf = (keys: string[], args: Arg[]): Arg[] => {
    if (numberOfKeys === 'any') return [keys.length, ...keys, ...args];
    if (keys.length !== numberOfKeys) throw new Error(`${name}: ${keys.length} keys given, the script takes ${numberOfKeys}`);
    return [...keys, ...args];
  };
  return {
    run(redis, keys, args) {
      const all = argsOf(keys, args);
      prepare(redis);
      return (redis as unknown as WithScript)[name]!(...all);
    },
  };
}
