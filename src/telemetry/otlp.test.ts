/**
 * The OTLP switch works end to end: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a loopback
 * collector, the lazily loaded SDK and OTLP/HTTP exporter deliver an inbound span to
 * `<endpoint>/v1/traces` (at the latest when tracing shuts down, as on SIGTERM).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tracingConfig } from '../config.ts';
import { currentTraceparent, inSpan, startTracing, tracingEnabled } from './tracing.ts';

describe('OTLP export', () => {
  const posts: { url: string; body: string }[] = [];
  let collector: Server;
  let endpoint = '';
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        posts.push({ url: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    await new Promise<void>((resolve) => collector.close(() => resolve()));
  });

  it('sends the spans to <endpoint>/v1/traces', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'chitty-otlp-test' };
    const config = tracingConfig(env);
    expect(config).toEqual({ exporter: 'otlp', serviceName: 'chitty-otlp-test' });
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint; // the exporter reads its endpoint itself, as documented
    const tracing = await startTracing(config!);
    expect(tracingEnabled()).toBe(true);
    const traceparent = await inSpan('POST /api/v1/commands', { 'http.route': '/api/v1/commands' }, async () => currentTraceparent());
    await tracing.shutdown();
    expect(tracingEnabled()).toBe(false);
    const traceId = traceparent!.split('-')[1]!;
    const post = posts.find((p) => p.url === '/v1/traces');
    expect(post, 'a POST to /v1/traces').toBeDefined();
    expect(post!.body).toContain(traceId);
    expect(post!.body).toContain('POST /api/v1/commands');
    expect(post!.body).toContain('chitty-otlp-test');
  });
});
