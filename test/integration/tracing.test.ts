/**
 * Traces cross the queue: with tracing on (an in-memory exporter in place of OTLP), a command
 * texted in through the route runner, and one sent to POST /api/v1/commands, each make one trace
 * whose inbound span is the parent of the relay, fan-out and deliver spans of the change it
 * committed; the delivered SyncMessage carries that trace's traceparent.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type TracingHandle } from '../../src/telemetry/tracing.ts';
import { startTelemetryRig, type TelemetryRig } from '../support/telemetry.ts';

describe('traces from an inbound message to its deliveries', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle;
  let rig: TelemetryRig;
  beforeAll(async () => {
    tracing = await startTracing({ exporter });
    rig = await startTelemetryRig();
  });
  afterAll(async () => {
    await rig?.close();
    await tracing?.shutdown();
  });

  /** The delivered SyncMessage whose todo reads `content`, once the receiver has it. */
  async function delivered(content: string): Promise<{ metadata: { traceparent?: string } }> {
    const find = () => rig.receiver.received.flatMap((r) => r.messages).find((m) => m?.payload?.entity?.data?.content === content);
    await rig.receiver.waitFor(() => find() !== undefined, 15_000);
    return find();
  }

  /** The finished spans of one trace, once its deliver span is there (it ends after the ledger write). */
  async function traceOf(traceId: string): Promise<ReadableSpan[]> {
    const spans = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    for (let i = 0; i < 200 && !spans().some((s) => s.name === 'chitty.deliver'); i++) await new Promise((r) => setTimeout(r, 25));
    return spans();
  }

  function expectChildrenOf(inbound: ReadableSpan | undefined, spans: ReadableSpan[]): void {
    expect(inbound, 'inbound span').toBeDefined();
    for (const name of ['chitty.relay', 'chitty.fanout', 'chitty.deliver']) {
      const children = spans.filter((s) => s.name === name);
      expect(children.length, name).toBeGreaterThanOrEqual(1);
      for (const c of children) expect(c.parentSpanContext?.spanId, name).toBe(inbound!.spanContext().spanId);
    }
    const deliver = spans.find((s) => s.name === 'chitty.deliver')!;
    expect(deliver.attributes['chitty.channel']).toBe('webhook');
    expect(deliver.attributes['chitty.delivery.status']).toBe('sent');
  }

  it('a texted command: the route runner span parents relay, fan-out and delivery', async () => {
    expect(await rig.sms('todo add Follow the trace')).toBe(200);
    const message = await delivered('Follow the trace');
    const traceId = String(message.metadata.traceparent).split('-')[1]!;
    expect(message.metadata.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const spans = await traceOf(traceId);
    expectChildrenOf(
      spans.find((s) => s.name === 'webhook /twilio/sms'),
      spans,
    );
  });

  it('an API command: the POST /api/v1/commands span parents relay, fan-out and delivery', async () => {
    expect((await rig.gw.call('POST', '/api/v1/commands', { text: 'todo add Trace the API too' })).status).toBe(200);
    const message = await delivered('Trace the API too');
    const traceId = String(message.metadata.traceparent).split('-')[1]!;
    const spans = await traceOf(traceId);
    expectChildrenOf(
      spans.find((s) => s.name === 'POST /api/v1/commands'),
      spans,
    );
  });
});
