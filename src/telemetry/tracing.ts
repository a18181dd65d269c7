/**
 * OpenTelemetry traces from an inbound message to every delivery it caused (`@opentelemetry/api`).
 *
 * Off by default: until {@link startTracing} runs, every function here returns at its first line
 * and the API's no-op tracer is never asked for a span. The SDK and the OTLP exporter are loaded
 * (dynamic `import()`) only when an exporter is configured (OTEL_TRACES_EXPORTER /
 * OTEL_EXPORTER_OTLP_ENDPOINT, read in src/config.ts).
 *
 * The trace crosses the queue in the SyncMessage: {@link currentTraceparent} puts the W3C
 * `traceparent` of the span active at commit time into `metadata.traceparent` (the outbox row),
 * and the fan-out and delivery workers start their spans under it. So the inbound span (a chat
 * webhook in bots/shared/route-runner.ts, or an API write such as POST /api/v1/commands) is the
 * parent of the relay, fan-out and deliver spans of every message it committed.
 */
import { context, propagation, ROOT_CONTEXT, type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/** The instrumentation scope of every span here. */
export const TRACER_NAME = 'chittychat-gateway';

/** Which exporter (src/config.ts decides from the OTEL_* variables); undefined = tracing off. */
export type TraceExporterKind = 'otlp' | 'console';

export interface TracingOptions {
  /** `otlp` (OTLP over HTTP; the exporter reads OTEL_EXPORTER_OTLP_* itself), `console`, or an exporter object (tests). */
  exporter: TraceExporterKind | SpanExporter;
  /** `service.name` of the spans (OTEL_SERVICE_NAME). */
  serviceName?: string;
}

export interface TracingHandle {
  /** Flush what is buffered and turn tracing off again. */
  shutdown(): Promise<void>;
}

let enabled = false;

/** True between {@link startTracing} and its shutdown. */
export function tracingEnabled(): boolean {
  return enabled;
}

/**
 * Register a tracer provider (AsyncLocalStorage context, W3C trace-context propagation) with the
 * given exporter. A batch processor for a real exporter, a simple (synchronous) one for an object.
 */
export async function startTracing(opts: TracingOptions): Promise<TracingHandle> {
  const { NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace-node');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { ATTR_SERVICE_NAME } = await import('@opentelemetry/semantic-conventions');
  let processor: InstanceType<typeof BatchSpanProcessor> | InstanceType<typeof SimpleSpanProcessor>;
  if (opts.exporter === 'otlp') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processor = new BatchSpanProcessor(new OTLPTraceExporter());
  } else if (opts.exporter === 'console') {
    processor = new SimpleSpanProcessor(new ConsoleSpanExporter());
  } else {
    processor = new SimpleSpanProcessor(opts.exporter);
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName ?? TRACER_NAME }),
    spanProcessors: [processor],
  });
  provider.register();
  enabled = true;
  return {
    async shutdown() {
      enabled = false;
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/**
 * Run an inbound request's work inside a SERVER span named `name` (the span is active, so what
 * the work commits carries its traceparent). Without tracing it only calls `fn`.
 */
export async function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The W3C `traceparent` of the active span, for `metadata.traceparent`; undefined without tracing or a span. */
export function currentTraceparent(): string | undefined {
  if (!enabled) return undefined;
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** `{ traceparent }` for spreading into a SyncMessage's metadata, or `{}`. */
export function traceMetadata(): { traceparent?: string } {
  const traceparent = currentTraceparent();
  return traceparent ? { traceparent } : {};
}

/**
 * A finished span under the trace a message carries: `start` and `end` are epoch milliseconds.
 * Nothing happens without tracing or without a traceparent (a message committed outside a trace).
 */
export function recordSpan(name: string, traceparent: string | undefined, start: number, end: number, attributes: Attributes, error?: string): void {
  if (!enabled || !traceparent) return;
  const parent = propagation.extract(ROOT_CONTEXT, { traceparent });
  const kind = name.endsWith('deliver') ? SpanKind.CLIENT : name.endsWith('relay') ? SpanKind.PRODUCER : SpanKind.CONSUMER;
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind, startTime: start, attributes }, parent);
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end(Math.max(start, end));
}

/** The traceparent inside a message's JSON text, without parsing it (only when tracing is on). */
export function traceparentInJson(json: string): string | undefined {
  if (!enabled) return undefined;
  return /"traceparent":\s*"([0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})"/.exec(json)?.[1];
}
