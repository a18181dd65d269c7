/**
 * Subscriptions: a destination (channel + conversation address, optional thread) follows a
 * project, a topic or the whole hub, for some domains. The `subscribe` command and
 * /api/v1/subscriptions manage them; the fan-out reads them.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import * as schema from '../../drizzle/schema.ts';
import type { Db } from '../db.ts';
import { selectStatement } from '../db-statement.ts';
import { DomainSchema, type Domain } from '../hub/domains.ts';
import { InvalidChangeError } from '../hub/errors.ts';
import { chittyId } from '../hub/ids.ts';
import { checkWebhookUrl, OPEN_EGRESS, type EgressPolicy } from './egress-policy.ts';

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
    model: z.string().trim().toLowerCase().min(1).max(50).optional().describe('Webhooks only: the AI model it serves (e.g. claude), for `chitty sync --model`'),
  })
  .refine((s) => !(s.projectId && s.topicId), 'subscribe to a project or a topic, not both')
  .refine((s) => s.model === undefined || s.channel === 'webhook', { message: 'only a webhook subscription has a model', path: ['model'] })
  .superRefine((s, ctx) => {
    if (s.channel !== 'webhook') return;
    try {
      checkWebhookUrl(s.address, OPEN_EGRESS);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: (err as Error).message });
    }
  });

/** How long a rotated-out webhook secret still signs deliveries (default of the rotate endpoint). */
export const SECRET_GRACE_MS = 24 * 3_600_000;

/** A new per-subscription webhook secret: `whsec_` + 32 random bytes in base64 (Standard Webhooks form). */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
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
  /** The AI model a webhook serves (`chitty sync --model` aims at it). */
  model?: string;
  createdBy: string | null;
  createdAt: string;
  /** The destination was gone (410, channel not found, bot blocked): nothing is sent; subscribe again to enable. */
  disabled: boolean;
  disabledReason: string | null;
  /** The webhook signing secret: only in the answer that created (or rotated) it, never listed. */
  secret?: string;
  /** Webhook subscriptions made before per-subscription secrets sign with CHITTY_WEBHOOK_SECRET. */
  sharedSecret?: boolean;
}

export const scopeOf = (s: { projectId?: string | null | undefined; topicId?: string | null | undefined }): string => s.projectId ?? s.topicId ?? '';

function view(r: typeof schema.subscriptions.$inferSelect): SubscriptionRecord {
  return {
    id: r.id,
    channel: r.channel as DestinationChannel,
    address: r.address,
    thread: r.thread || null,
    projectId: r.projectId,
    topicId: r.topicId,
    domains: r.domains as Domain[],
    scope: r.scope,
    paused: r.paused,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    disabled: r.disabledAt !== null,
    disabledReason: r.disabledReason,
    ...(r.channel === 'webhook' && r.secret === null ? { sharedSecret: true } : {}),
    ...(r.model ? { model: r.model } : {}),
  };
}

/** The subscriptions {@link SubscriptionStore.forScopes} reads (`scopes`: a text[] placeholder). */
export function forScopesWhere(): SQL {
  const t = schema.subscriptions;
  return sql`${t.scope} = any(${sql.placeholder('scopes')}::text[]) and ${t.paused} = false and ${t.disabledAt} is null`;
}

export class SubscriptionStore {
  constructor(
    private readonly db: Db,
    /** Checked for webhook addresses at subscribe time (the sender checks again at connect time). */
    private readonly egress: EgressPolicy = OPEN_EGRESS,
    /** Where {@link forScopes}, the fan-out's read, runs (Database.pipeline). */
    fanoutDb: Db = db,
  ) {
    // Read by every fan-out job: built once.
    this.forScopesStatement = selectStatement(fanoutDb, schema.subscriptions, forScopesWhere());
  }

  private readonly forScopesStatement: (values: { scopes: string[] }) => Promise<(typeof schema.subscriptions.$inferSelect)[]>;

  /** Subscribe (or change the domains of an existing subscription of the same destination and scope). */
  async upsert(input: SubscriptionInput, createdBy: string | null = null): Promise<SubscriptionRecord> {
    const t = schema.subscriptions;
    if (input.channel === 'webhook') {
      try {
        checkWebhookUrl(input.address, this.egress);
      } catch (err) {
        throw new InvalidChangeError(`address: ${(err as Error).message}`, { field: 'address' });
      }
    }
    const values = {
      id: chittyId('SUB'),
      channel: input.channel,
      address: input.address,
      thread: input.thread ?? '',
      scope: scopeOf(input),
      projectId: input.projectId ?? null,
      topicId: input.topicId ?? null,
      domains: [...new Set(input.domains ?? [])].sort(),
      createdBy,
      secret: input.channel === 'webhook' ? newWebhookSecret() : null,
      model: input.model ?? null,
    };
    // Subscribing again re-enables a disabled subscription; its secret stays (shown only when created).
    const [row] = await this.db
      .insert(t)
      .values(values)
      .onConflictDoUpdate({
        target: [t.channel, t.address, t.thread, t.scope],
        set: { domains: values.domains, disabledAt: null, disabledReason: null, ...(input.model ? { model: input.model } : {}) },
      })
      .returning();
    return { ...view(row!), ...(row!.id === values.id && row!.secret ? { secret: row!.secret } : {}) };
  }

  /**
   * A new webhook secret for the subscription (returned once); the old one keeps signing, beside
   * the new one, for `graceMs`. Undefined when there is no such webhook subscription.
   */
  async rotateSecret(id: string, graceMs: number = SECRET_GRACE_MS): Promise<SubscriptionRecord | undefined> {
    const t = schema.subscriptions;
    const [old] = await this.db
      .select()
      .from(t)
      .where(and(eq(t.id, id), eq(t.channel, 'webhook')));
    if (!old) return undefined;
    const secret = newWebhookSecret();
    const [row] = await this.db
      .update(t)
      .set({ secret, previousSecret: old.secret, previousSecretUntil: old.secret ? new Date(Date.now() + graceMs) : null })
      .where(eq(t.id, id))
      .returning();
    return row ? { ...view(row), secret } : undefined;
  }

  async list(f: { channel?: string; address?: string; thread?: string } = {}): Promise<SubscriptionRecord[]> {
    const t = schema.subscriptions;
    const where = [...(f.channel ? [eq(t.channel, f.channel)] : []), ...(f.address ? [eq(t.address, f.address)] : []), ...(f.thread !== undefined ? [eq(t.thread, f.thread)] : [])];
    return (
      await this.db
        .select()
        .from(t)
        .where(and(...where))
        .orderBy(t.id)
    ).map(view);
  }

  /** Subscriptions that could want a change in these scopes ('' = whole hub always included); paused ones are left out. */
  async forScopes(scopes: string[]): Promise<SubscriptionRecord[]> {
    return (await this.forScopesStatement({ scopes: [...new Set(['', ...scopes])] })).map(view);
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
