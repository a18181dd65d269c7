/**
 * GET /metrics from a running gateway: 401 without a token (or with a wrong one), 200 with the API
 * token and with METRICS_TOKEN (which opens nothing else); after an API command and a texted
 * command fan out to a webhook subscriber, the delivery counter, the attempts histogram and the
 * relay, fan-out, deliver and ack histograms have moved; queue depths and process metrics are
 * there. Tracing is off here: the delivered messages carry no traceparent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetryRig, type TelemetryRig } from '../support/telemetry.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** `name{labels} value` lines of an exposition, keyed by `name{labels}` as printed. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('GET /metrics', () => {
  let rig: TelemetryRig;
  beforeAll(async () => {
    rig = await startTelemetryRig({ METRICS_TOKEN });
  });
  afterAll(async () => rig?.close());

  const scrape = async (token: string | null = METRICS_TOKEN) => rig.gw.call('GET', '/metrics', undefined, { token });

  it('needs the API token or METRICS_TOKEN, and METRICS_TOKEN opens nothing else', async () => {
    const none = await scrape(null);
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('unauthorized');
    expect((await scrape('not-the-token-at-all')).status).toBe(401);
    const withApiToken = await scrape(undefined);
    expect(withApiToken.status).toBe(200);
    expect(withApiToken.text).toContain('# TYPE chitty_deliveries_total counter');
    const withMetricsToken = await scrape(METRICS_TOKEN);
    expect(withMetricsToken.status).toBe(200);
    expect(withMetricsToken.text).toContain('# TYPE chitty_stage_duration_seconds histogram');
    expect((await rig.gw.call('GET', '/api/v1/todos', undefined, { token: METRICS_TOKEN })).status).toBe(401);
  });

  it('counts deliveries and attempts and moves every stage histogram', async () => {
    const before = samples((await scrape()).text);
    const sentBefore = before.get('chitty_deliveries_total{channel="webhook",status="sent"}') ?? 0;
    const stageCount = (s: Map<string, number>, stage: string) => s.get(`chitty_stage_duration_seconds_count{stage="${stage}"}`) ?? 0;

    const api = await rig.gw.call('POST', '/api/v1/commands', { text: 'todo add Watch the dashboards' });
    expect(api.status).toBe(200);
    expect(await rig.sms('todo add Read the metrics')).toBe(200);
    await rig.receiver.waitFor(() => rig.receiver.messageIds().length >= 2, 15_000);
    // The ledger is written just after the receiver answers, and the counter with it.
    let after = samples((await scrape()).text);
    for (let i = 0; i < 100 && (after.get('chitty_deliveries_total{channel="webhook",status="sent"}') ?? 0) < sentBefore + 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = samples((await scrape()).text);
    }

    expect(after.get('chitty_deliveries_total{channel="webhook",status="sent"}')).toBeGreaterThanOrEqual(sentBefore + 2);
    expect(after.get('chitty_delivery_attempts_bucket{le="1",channel="webhook",status="sent"}')).toBeGreaterThanOrEqual(2);
    for (const stage of ['relay', 'fanout', 'deliver', 'ack']) expect(stageCount(after, stage), stage).toBeGreaterThan(stageCount(before, stage));
    expect(after.get('chitty_fanout_messages_total')).toBeGreaterThanOrEqual(2);
    // Queue depths per queue and state, read from Redis; nothing left waiting for the webhook queue.
    const depth = [...after.keys()].filter((k) => k.startsWith('chitty_queue_jobs{'));
    for (const state of ['waiting', 'active', 'delayed', 'failed'])
      expect(
        depth.some((k) => k.includes(`state="${state}"`)),
        state,
      ).toBe(true);
    expect(depth.some((k) => k.includes('queue="fanout"'))).toBe(true);
    expect(after.get('chitty_queue_depth_read_errors_total')).toBe(0);
    // prom-client's default process metrics.
    expect(after.has('process_cpu_user_seconds_total')).toBe(true);
    expect(after.has('nodejs_heap_size_used_bytes')).toBe(true);
    // No label holds an address: the receiver's port appears nowhere.
    expect([...after.keys()].some((k) => k.includes(String(rig.receiver.port)))).toBe(false);
    // Tracing is off: nothing carries a traceparent.
    for (const r of rig.receiver.received) expect(r.raw).not.toContain('traceparent');
  });

  it('is in the OpenAPI document, behind the bearer token', async () => {
    const doc = (await rig.gw.call('GET', '/api/v1/openapi.json', undefined, { token: null })).json;
    const op = doc.paths['/metrics'].get;
    expect(op.responses['401']).toBeDefined();
    expect(op.security).toBeUndefined();
  });
});
