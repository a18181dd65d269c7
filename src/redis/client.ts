/**
 * One Redis or a Redis Cluster behind one string. `REDIS_URL=redis://…` is one server;
 * `REDIS_URL=redis+cluster://[[user]:password@]host:port,host:port,…` (or `rediss+cluster://` for
 * TLS) is a cluster, reached through ioredis `Cluster` from any of the listed nodes (the rest are
 * discovered). Every place that opens a connection goes through {@link createRedis}, so the URL
 * is all a deployment changes. See https://github.com/redis/ioredis#cluster.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConfigError } from '../core/chitty-error.ts';

/** A client of one Redis or of a Redis Cluster; both take the same commands. */
export type RedisClient = Redis | Cluster;

/** The scheme that marks a cluster URL (`rediss+cluster:` for TLS). */
const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#@]+)\/?$/i;

/** A cluster URL, parsed. */
export interface ClusterTarget {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

/** True when `url` names a cluster (`redis+cluster://` or `rediss+cluster://`). */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:/i.test(url.trim());
}

/**
 * The nodes and credentials of a `redis+cluster://` URL; undefined for any other URL. A malformed
 * cluster URL is a {@link ConfigError} that shows the expected form.
 */
export function parseClusterUrl(url: string): ClusterTarget | undefined {
  if (!isClusterUrl(url)) return undefined;
  const form = 'redis+cluster://[[user]:password@]host:port,host:port,… (rediss+cluster:// for TLS)';
  const m = CLUSTER_URL.exec(url.trim());
  if (!m) throw new ConfigError(`REDIS_URL: a cluster URL has the form ${form}.`);
  const nodes = m[3]!.split(',').map((part) => {
    const n = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d{1,5})$/i.exec(part.trim());
    const port = Number(n?.[2]);
    if (!n || port < 1 || port > 65_535) throw new ConfigError(`REDIS_URL: "${part}" is not host:port; a cluster URL has the form ${form}.`);
    return { host: n[1]!.replace(/^\[|\]$/g, ''), port };
  });
  const target: ClusterTarget = { nodes, tls: m[1]!.toLowerCase() === 'rediss' };
  if (m[2] !== undefined) {
    const colon = m[2].indexOf(':');
    const user = decodeURIComponent(colon < 0 ? m[2] : m[2].slice(0, colon));
    if (user) target.username = user;
    if (colon >= 0) target.password = decodeURIComponent(m[2].slice(colon + 1));
  }
  return target;
}

/** The connection settings the gateway uses; each maps onto Redis or Cluster options. */
export interface RedisClientOptions {
  maxRetriesPerRequest?: number | null;
  enableOfflineQueue?: boolean;
  enableReadyCheck?: boolean;
  lazyConnect?: boolean;
  /** Delay before reconnect attempt `times` (ms), or null to give up. */
  retryStrategy?: (times: number) => number | null;
  connectionName?: string;
  connectTimeout?: number;
  commandTimeout?: number;
}

type NodeOptions = Pick<
  RedisOptions,
  'maxRetriesPerRequest' | 'connectionName' | 'connectTimeout' | 'commandTimeout' | 'username' | 'password' | 'tls' | 'enableOfflineQueue' | 'enableReadyCheck' | 'lazyConnect' | 'retryStrategy'
>;

/** A client for `url`: an ioredis `Redis`, or an ioredis `Cluster` for a `redis+cluster://` URL. */
export function createRedis(url: string, opts: RedisClientOptions = {}): RedisClient {
  const cluster = parseClusterUrl(url);
  const perNode: NodeOptions = {};
  if (opts.maxRetriesPerRequest !== undefined) perNode.maxRetriesPerRequest = opts.maxRetriesPerRequest;
  if (opts.connectionName !== undefined) perNode.connectionName = opts.connectionName;
  if (opts.connectTimeout !== undefined) perNode.connectTimeout = opts.connectTimeout;
  if (opts.commandTimeout !== undefined) perNode.commandTimeout = opts.commandTimeout;
  if (!cluster) {
    const single: NodeOptions = { ...perNode };
    if (opts.enableOfflineQueue !== undefined) single.enableOfflineQueue = opts.enableOfflineQueue;
    if (opts.enableReadyCheck !== undefined) single.enableReadyCheck = opts.enableReadyCheck;
    if (opts.lazyConnect !== undefined) single.lazyConnect = opts.lazyConnect;
    if (opts.retryStrategy) single.retryStrategy = opts.retryStrategy;
    return new Redis(url, single);
  }
  if (cluster.username !== undefined) perNode.username = cluster.username;
  if (cluster.password !== undefined) perNode.password = cluster.password;
  if (cluster.tls) perNode.tls = {};
  const options: Omit<ClusterOptions, 'redisOptions'> & { redisOptions: NodeOptions } = { redisOptions: perNode };
  if (opts.enableOfflineQueue !== undefined) options.enableOfflineQueue = opts.enableOfflineQueue;
  if (opts.enableReadyCheck !== undefined) options.enableReadyCheck = opts.enableReadyCheck;
  if (opts.lazyConnect !== undefined) options.lazyConnect = opts.lazyConnect;
  if (opts.retryStrategy) options.clusterRetryStrategy = opts.retryStrategy;
  return new Cluster(cluster.nodes, options);
}

/** True for an ioredis `Cluster`. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * The servers that hold keys: the cluster's masters, or the one server. Commands that do not
 * name a key (SCAN, INFO, PING of every node) must be sent to each of them.
 */
export function primaries(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}
