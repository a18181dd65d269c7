/**
 * The spec's SyncMessage ("Message Format"), as zod schemas (validation + OpenAPI) and types.
 */
import { z } from 'zod';
import { DomainSchema } from '../hub/domains.ts';
import { HLC_REGEX, NODE_ID_REGEX } from '../hub/hlc.ts';

export const SYNC_MESSAGE_TYPES = ['state_update', 'state_request', 'state_snapshot', 'event', 'command', 'query', 'heartbeat', 'ack', 'conflict'] as const;

export const VectorClockSchema = z
  .record(z.string().regex(NODE_ID_REGEX, 'node ids are letters, digits, ".", "-", "_"'), z.number().int().nonnegative())
  .refine((c) => Object.keys(c).length <= 256, 'a vector clock has at most 256 nodes');

export const SyncMessageSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9_.-]+$/, 'message ids are letters, digits, ".", "-", "_"'),
    type: z.enum(SYNC_MESSAGE_TYPES),
    source: z.object({
      nodeId: z.string().regex(NODE_ID_REGEX, 'nodeId must be letters, digits, ".", "-", "_" (max 64)'),
      platform: z.string().min(1).max(50),
      chittyId: z.string().max(200).optional(),
    }),
    target: z
      .object({
        broadcast: z.boolean(),
        nodeIds: z.array(z.string().max(64)).max(100).optional(),
        platforms: z.array(z.string().max(50)).max(50).optional(),
        /** AI models (MCP clients, webhook subscriptions labelled with a model) this message is for. */
        models: z.array(z.string().max(50)).max(50).optional(),
      })
      .optional(),
    payload: z.object({
      domain: DomainSchema,
      operation: z.enum(['create', 'update', 'delete', 'query']),
      entity: z.object({
        chittyId: z.string().min(1).max(200),
        type: z.string().max(50).optional(),
        data: z.record(z.string(), z.unknown()).default({}),
      }),
      delta: z
        .object({
          /** Set elements are ≤ 200 characters (checked per field by the hub); an encoded comment (2,000 characters of text, JSON-escaped) may be longer. */
          add: z.record(z.string(), z.array(z.string().max(16_000)).max(500)).optional(),
          remove: z.record(z.string(), z.array(z.string().max(200)).max(500)).optional(),
        })
        .optional(),
    }),
    metadata: z.object({
      timestamp: z.iso.datetime({ offset: true }),
      vectorClock: VectorClockSchema,
      /** Optional HLC of the change; derived from timestamp + node when absent. */
      hlc: z.string().regex(HLC_REGEX, 'hlc must look like 0001700000000000:000000:node').optional(),
      causality: z.array(z.string().max(200)).max(100).optional(),
      ttl: z.number().int().nonnegative().optional(),
      /** W3C trace context of the request that made the change (only while tracing is on; src/telemetry/tracing.ts). */
      traceparent: z
        .string()
        .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'traceparent must be a W3C traceparent')
        .optional(),
      /** The conversation a change was made from: the fan-out does not echo it back there. */
      origin: z.object({ channel: z.string().max(20), address: z.string().max(2000), thread: z.string().max(300).optional() }).optional(),
    }),
  })
  .describe('SyncMessage');

export type SyncMessage = z.infer<typeof SyncMessageSchema>;
