/**
 * Subscriptions: a destination (channel + conversation address, optional thread) follows a
 * project, a topic or the whole hub, for some domains. The `subscribe` command and
 * /api/v1/subscriptions manage them; the fan-out reads them.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import * as schema from '../../drizzle/schema.ts';
import type { Db } from '../db.ts';
import { DomainSchema, type Domain } from '../hub/domains.ts';
import { chittyId } from '../hub/ids.ts';

export const DESTINATION_CHANNELS = ['slack', 'discord', 'sms', 'whatsapp', 'email', 'webhook'] as const;
export type DestinationChannel = (typeof DESTINATION_CHANNELS)[number];

export const SubscriptionInputSchema = z
  .strictObject({
    channel: z.enum(DESTINATION_CHANNELS),
    address: z.string().trim().min(1).max(2000),
    thread: z.string().max(300).optional(),
    projectId: z.string().min(1).max(200).optional(),
    topicId: z.string().min(1).max(200).optional(),
    domains: z.array(DomainSchema).max(7).optional(),
  })
  .refine((s) => !(s.projectId && s.topicId), 'subscribe to a project or a topic, not both');
export type SubscriptionInput = z.infer<typeof SubscriptionInputSchema>;

export interface SubscriptionRecord {
  id: string;
  channel: DestinationChannel;
  address: string;
  thread: string | null;
  projectId: string | null;
  topicId: string | null;
  /** Empty = every domain. */
  domains: Domain[];
  scope: string;
  /** Kept, but the fan-out skips it until it is resumed. */
  paused: boolean;
  createdBy: string | null;
  createdAt: string;
}

export const scopeOf = (s: { projectId?: string | null | undefined; topicId?: string | null | undefined }): string => s.projectId ?? s.topicId ?? '';

function view(r: typeof schema.subscriptions.$inferSelect): SubscriptionRecord {
  return {
    id: r.id, channel: r.channel as DestinationChannel, address: r.address, thread: r.thread || null,
    projectId: r.projectId, topicId: r.topicId, domains: r.domains as Domain[], scope: r.scope, paused: r.paused,
    createdBy: r.createdBy, createdAt: r.createdAt.toISOString(),
  };
}

export class SubscriptionStore {
  constructor(private readonly db: Db) {}

  /** Subscribe (or change the domains of an existing subscription of the same destination and scope). */
  async upsert(input: SubscriptionInput, createdBy: string | null = null): Promise<SubscriptionRecord> {
    const t = schema.subscriptions;
    const values = {
      id: chittyId('SUB'), channel: input.channel, address: input.address, thread: input.thread ?? '',
      scope: scopeOf(input), projectId: input.projectId ?? null, topicId: input.topicId ?? null,
      domains: [...new Set(input.domains ?? [])].sort(), createdBy,
    };
    const [row] = await this.db
      .insert(t)
      .values(values)
      .onConflictDoUpdate({ target: [t.channel, t.address, t.thread, t.scope], set: { domains: values.domains } })
      .returning();
    return view(row!);
  }

  async list(f: { channel?: string; address?: string; thread?: string } = {}): Promise<SubscriptionRecord[]> {
    const t = schema.subscriptions;
    const where = [
      ...(f.channel ? [eq(t.channel, f.channel)] : []),
      ...(f.address ? [eq(t.address, f.address)] : []),
      ...(f.thread !== undefined ? [eq(t.thread, f.thread)] : []),
    ];
    return (await this.db.select().from(t).where(and(...where)).orderBy(t.id)).map(view);
  }

  /** Subscriptions that could want a change in these scopes ('' = whole hub always included); paused ones are left out. */
  async forScopes(scopes: string[]): Promise<SubscriptionRecord[]> {
    const t = schema.subscriptions;
    return (await this.db.select().from(t).where(and(inArray(t.scope, [...new Set(['', ...scopes])]), eq(t.paused, false)))).map(view);
  }

  /** Pause (the fan-out skips it) or resume a subscription; undefined when there is no such id. */
  async setPaused(id: string, paused: boolean): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.db.update(schema.subscriptions).set({ paused }).where(eq(schema.subscriptions.id, id)).returning();
    return row ? view(row) : undefined;
  }

  async remove(id: string): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.db.delete(schema.subscriptions).where(eq(schema.subscriptions.id, id)).returning();
    return row ? view(row) : undefined;
  }

  /** Remove a destination's subscriptions (one scope, or all of them when scope is undefined). */
  async removeFor(dest: { channel: string; address: string; thread?: string }, scope?: string): Promise<SubscriptionRecord[]> {
    const t = schema.subscriptions;
    const rows = await this.db
      .delete(t)
      .where(and(eq(t.channel, dest.channel), eq(t.address, dest.address), eq(t.thread, dest.thread ?? ''), ...(scope !== undefined ? [eq(t.scope, scope)] : [])))
      .returning();
    return rows.map(view);
  }
}
