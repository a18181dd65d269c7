/**
 * The pieces of telemetry that need no gateway: the OTEL_* switch in config, METRICS_PORT's own
 * listener (401 / 200 / 404), and that with tracing off nothing carries a traceparent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, tracingConfig } from '../config.ts';
import { startMetricsServer, type MetricsServer } from './metrics-server.ts';
import { countDeliveries, type DepthSource, scrape, watchQueueDepths } from './metrics.ts';
import { currentTraceparent, inSpan, traceMetadata, tracingEnabled } from './tracing.ts';

describe('the OTEL_* switch', () => {
  it('is off unless an exporter or an OTLP endpoint is configured', () => {
    expect(tracingConfig({})).toBeUndefined();
    expect(tracingConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeUndefined();
    expect(tracingConfig({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBeUndefined();
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ exporter: 'otlp', serviceName: 'chittychat-gateway' });
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces', OTEL_SERVICE_NAME: 'chitty-web' })).toEqual({ exporter: 'otlp', serviceName: 'chitty-web' });
    expect(tracingConfig({ OTEL_TRACES_EXPORTER: 'Console' })).toEqual({ exporter: 'console', serviceName: 'chittychat-gateway' });
    expect(() => tracingConfig({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(ConfigError);
  });

  it('METRICS_TOKEN and METRICS_PORT are read; production wants a long METRICS_TOKEN', () => {
    const c = loadConfig({ METRICS_TOKEN: 'scraper', METRICS_PORT: '9464' });
    expect(c.metricsToken).toBe('scraper');
    expect(c.metricsPort).toBe(9464);
    expect(loadConfig({}).metricsPort).toBeUndefined();
    const prod = { NODE_ENV: 'production', CHITTY_API_TOKEN: 'a'.repeat(32), CHITTY_WEBHOOK_SECRET: 'b'.repeat(32) };
    expect(() => loadConfig({ ...prod, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(loadConfig({ ...prod, METRICS_TOKEN: 'c'.repeat(32) }).metricsToken).toBe('c'.repeat(32));
  });

  it('without tracing, an inbound span is only the call and commits carry no traceparent', async () => {
    expect(tracingEnabled()).toBe(false);
    const seen = await inSpan('POST /x', {}, async () => [currentTraceparent(), traceMetadata()]);
    expect(seen).toEqual([undefined, {}]);
  });
});

describe('METRICS_PORT listener', () => {
  let server: MetricsServer;
  beforeAll(async () => {
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, apiToken: 'api-token-0123456789', metricsToken: 'metrics-token-0123456789' });
  });
  afterAll(async () => server?.close());

  const get = async (path: string, token?: string) => {
    const res = await fetch(`${server.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
  };

  it('answers /metrics with either token, 401 without, 404 elsewhere', async () => {
    countDeliveries('webhook', 'sent', 3, () => 1);
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', 'wrong')).status).toBe(401);
    const ok = await get('/metrics', 'metrics-token-0123456789');
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain/);
    expect(ok.text).toContain('chitty_deliveries_total{channel="webhook",status="sent"} 3');
    expect(ok.text).toContain('process_resident_memory_bytes');
    expect((await get('/metrics', 'api-token-0123456789')).status).toBe(200);
    expect((await get('/api/v1/todos', 'api-token-0123456789')).status).toBe(404);
  });
});

describe('queue depths', () => {
  /** A fake queue: counts its reads; `fail` makes them throw. */
  function queue(name: string, waiting: number) {
    const q = {
      name,
      closing: undefined as Promise<void> | undefined,
      reads: 0,
      fail: false,
      async getJobCounts() {
        q.reads++;
        if (q.fail) throw new Error('Redis is down');
        return { waiting, active: 1, delayed: 2, failed: 0 };
      },
    };
    return q;
  }
  const line = (text: string, q: string, state: string) => new RegExp(`^chitty_queue_jobs\\{queue="${q}",state="${state}"\\} (\\d+)$`, 'm').exec(text)?.[1];

  it('are read at scrape time, once per cache period however many scrapes come', async () => {
    const a = queue('depth-a', 7);
    watchQueueDepths([a as DepthSource]);
    const [first, second, third] = await Promise.all([scrape(), scrape(), scrape()]);
    expect(line(first.body, 'depth-a', 'waiting')).toBe('7');
    expect(line(second.body, 'depth-a', 'delayed')).toBe('2');
    expect(line(third.body, 'depth-a', 'active')).toBe('1');
    await scrape();
    expect(a.reads).toBe(1);
  });

  it('drop a closed queue, and a failed read leaves the gauge empty and counts an error', async () => {
    const b = queue('depth-b', 1);
    b.closing = Promise.resolve();
    watchQueueDepths([b as DepthSource]); // also starts a new cache period
    expect(line((await scrape()).body, 'depth-b', 'waiting')).toBeUndefined();
    expect(b.reads).toBe(0);
    const c = queue('depth-c', 1);
    c.fail = true;
    watchQueueDepths([c as DepthSource]);
    const text = (await scrape()).body;
    expect(line(text, 'depth-c', 'waiting')).toBeUndefined();
    expect(text).toMatch(/^chitty_queue_depth_read_errors_total [1-9]/m);
  });
});
