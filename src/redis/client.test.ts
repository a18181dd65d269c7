import { describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { loadConfig } from '../config.ts';
import { redactSecrets } from '../redact.ts';
import { createRedis, isClusterUrl, parseClusterUrl } from './client.ts';

describe('REDIS_URL for a Redis Cluster', () => {
  it('parses redis+cluster:// with nodes, credentials and TLS', () => {
    expect(parseClusterUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001')).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      tls: false,
    });
    expect(parseClusterUrl('rediss+cluster://app:s%40cret@redis-a.example:6380,[::1]:6381/')).toEqual({
      nodes: [
        { host: 'redis-a.example', port: 6380 },
        { host: '::1', port: 6381 },
      ],
      username: 'app',
      password: 's@cret',
      tls: true,
    });
    expect(parseClusterUrl('redis+cluster://:pw@h:1')).toMatchObject({ password: 'pw' });
    expect(parseClusterUrl('redis://127.0.0.1:6379')).toBeUndefined();
  });

  it('refuses a malformed cluster URL with the expected form, at config time', () => {
    for (const bad of ['redis+cluster://', 'redis+cluster://host', 'redis+cluster://h:1,h2', 'redis+cluster://h:99999']) {
      expect(() => parseClusterUrl(bad), bad).toThrow(/redis\+cluster:\/\/\[\[user\]:password@\]host:port,host:port/);
    }
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://nohost' })).toThrow(/REDIS_URL/);
    expect(loadConfig({ REDIS_URL: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001' }).redisUrl).toBe('redis+cluster://127.0.0.1:7000,127.0.0.1:7001');
  });

  it('opens an ioredis Cluster for a cluster URL and a Redis otherwise', () => {
    const c = createRedis('redis+cluster://127.0.0.1:7000,127.0.0.1:7001', { lazyConnect: true, maxRetriesPerRequest: null, connectionName: 'x' });
    const r = createRedis('redis://127.0.0.1:6379', { lazyConnect: true });
    try {
      expect(c).toBeInstanceOf(Cluster);
      expect((c as Cluster).options.redisOptions).toMatchObject({ maxRetriesPerRequest: null, connectionName: 'x' });
      expect(r).toBeInstanceOf(Redis);
      expect(isClusterUrl('REDIS+CLUSTER://h:1')).toBe(true);
    } finally {
      c.disconnect();
      r.disconnect();
    }
  });

  it('keeps a cluster password out of logs', () => {
    expect(redactSecrets('redis+cluster://:hunter2@10.0.0.1:7000,10.0.0.2:7001')).toBe('redis+cluster://:***@10.0.0.1:7000,10.0.0.2:7001');
  });
});
