/** The deliveries ledger over HTTP: list, dead letters, replay, prune. */
import { z } from 'zod';
import type { DeliveryQueues } from '../../../queues/pipeline.ts';
import { DELIVERY_STATUSES, type DeliveryRow } from '../../../queues/delivery-ledger.ts';
import type { DestinationChannel } from '../../core/subscription-store.ts';
import { NotFoundError } from '../../hub/errors.ts';
import { route, type RouteDef } from '../route-table.ts';

/** A ledger row without the message body (ask /sync/… for that). */
export function deliveryView(r: DeliveryRow) {
  return {
    id: r.id,
    messageId: r.messageId,
    subscriptionId: r.subscriptionId,
    channel: r.channel,
    address: r.address,
    thread: r.thread,
    domain: r.domain,
    entityId: r.entityId,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    providerMessageId: r.providerMessageId,
    batchId: r.batchId,
    providerStatus: r.providerStatus,
    note: r.note,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    sentAt: r.sentAt?.toISOString() ?? null,
  };
}

async function reschedule(queues: DeliveryQueues, rows: DeliveryRow[]): Promise<void> {
  await queues.scheduler.schedule(
    rows.map((r) => ({ channel: r.channel as DestinationChannel, destinationKey: r.destinationKey, messageId: r.messageId })),
    { force: `retry${Date.now()}`, delayMs: 0 },
  );
}

export function deliveryRoutes(queues: DeliveryQueues): RouteDef[] {
  const { ledger } = queues;
  return [
    route({
      method: 'GET',
      url: '/deliveries',
      tag: 'deliveries',
      summary: 'Delivery attempts: status, attempts, provider id, last error (newest first)',
      query: z.strictObject({
        status: z.enum(DELIVERY_STATUSES).optional(),
        messageId: z.string().max(200).optional(),
        entityId: z.string().max(200).optional(),
        channel: z.string().max(20).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      handler: async ({ query }) => ({
        items: (
          await ledger.list({
            ...(query.status ? { status: query.status } : {}),
            ...(query.messageId ? { messageId: query.messageId } : {}),
            ...(query.entityId ? { entityId: query.entityId } : {}),
            ...(query.channel ? { channel: query.channel } : {}),
            limit: query.limit,
          })
        ).map(deliveryView),
      }),
    }),
    route({
      method: 'POST',
      url: '/deliveries/:id/retry',
      tag: 'deliveries',
      summary: 'Send a dead (or failed) delivery again',
      params: z.object({ id: z.string().min(1).max(500) }),
      handler: async ({ params }) => {
        const rows = await ledger.requeue([params.id]);
        if (rows.length === 0) {
          const row = await ledger.get(params.id);
          throw new NotFoundError(row ? `Delivery ${params.id} is ${row.status}, not dead or failed.` : `No delivery ${params.id}.`);
        }
        await reschedule(queues, rows);
        return deliveryView(rows[0]!);
      },
    }),
    route({
      method: 'POST',
      url: '/deliveries/retry-dead',
      tag: 'deliveries',
      summary: 'Send every dead letter again',
      handler: async () => {
        const rows = await ledger.requeue('all-dead');
        await reschedule(queues, rows);
        return { requeued: rows.length };
      },
    }),
    route({
      method: 'DELETE',
      url: '/deliveries/dead',
      tag: 'deliveries',
      summary: 'Prune dead letters older than some hours (default 168 = 7 days)',
      query: z.strictObject({
        olderThanHours: z.coerce
          .number()
          .min(0)
          .max(24 * 365)
          .default(168),
      }),
      handler: async ({ query }) => ({ pruned: await ledger.pruneDead(new Date(Date.now() - query.olderThanHours * 3_600_000)) }),
    }),
  ];
}
