/**
 * Database schema (drizzle-orm, Postgres dialect). Migrations are generated from this file by
 * `npm run db:generate` into drizzle/migrations and applied at start. Append-only: never edit or
 * reorder a generated migration.
 */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Columns every domain table shares: the materialized entity, its CRDT state, and indexed fields. */
const entityColumns = () => ({
  id: text('id').primaryKey(),
  /** The materialized entity as readers see it. */
  data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  /** Per-field CRDT state (registers, sets, clocks). */
  crdt: jsonb('crdt').$type<unknown>().notNull(),
  vclock: jsonb('vclock').$type<Record<string, number>>().notNull(),
  /** HLC of the latest change. */
  hlc: text('hlc').notNull(),
  deleted: boolean('deleted').notNull().default(false),
  projectId: text('project_id'),
  sessionId: text('session_id'),
  status: text('status'),
  /** Normalized content hash (todos): finds duplicates across sessions. */
  contentHash: text('content_hash'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});

const entityTable = <N extends string>(name: N) =>
  pgTable(name, entityColumns(), (t) => [
    index(`${name}_project_idx`).on(t.projectId, t.deleted),
    index(`${name}_session_idx`).on(t.sessionId),
    index(`${name}_hash_idx`).on(t.projectId, t.contentHash),
  ]);

export const topics = entityTable('topics');
export const projects = entityTable('projects');
export const sessions = entityTable('sessions');
export const todos = entityTable('todos');
export const contexts = entityTable('contexts');
export const repos = entityTable('repos');
export const services = entityTable('services');

/** Append-only event log: every accepted change (the spec's TemporalState). */
export const events = pgTable(
  'events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: text('id').notNull(),
    changeId: text('change_id').notNull(),
    domain: text('domain').notNull(),
    entityId: text('entity_id').notNull(),
    node: text('node').notNull(),
    hlc: text('hlc').notNull(),
    vclock: jsonb('vclock').$type<Record<string, number>>().notNull(),
    change: jsonb('change').$type<unknown>().notNull(),
    /** Checksum of the entity state after this change. */
    checksum: text('checksum').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('events_id_uq').on(t.id), uniqueIndex('events_change_uq').on(t.changeId), index('events_entity_idx').on(t.entityId, t.seq)],
);

/** Transactional outbox: SyncMessages committed with the change that caused them. */
export const outbox = pgTable(
  'outbox',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: text('id').notNull(),
    domain: text('domain').notNull(),
    entityId: text('entity_id'),
    message: jsonb('message').$type<unknown>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true, mode: 'date' }),
    /** When the fan-out turned it into deliveries (null: not yet, even if dispatched). */
    fannedOutAt: timestamp('fanned_out_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('outbox_id_uq').on(t.id),
    // Also answers the hub's count of rows not yet dispatched (an index-only count of a small index).
    index('outbox_pending_idx').on(t.seq).where(sql`${t.dispatchedAt} is null`),
    // The sweeper: rows dispatched but never fanned out, by age.
    index('outbox_unfanned_idx').on(t.dispatchedAt).where(sql`${t.fannedOutAt} is null`),
    // The prune: fanned-out rows older than the retention.
    index('outbox_fanned_out_idx').on(t.fannedOutAt).where(sql`${t.fannedOutAt} is not null`),
    // A change's outbox counts (sync status of one entity).
    index('outbox_entity_idx').on(t.entityId),
  ],
);

/** Concurrent edits of a text field, kept for a person to resolve. */
export const conflicts = pgTable(
  'conflicts',
  {
    id: text('id').primaryKey(),
    domain: text('domain').notNull(),
    entityId: text('entity_id').notNull(),
    field: text('field').notNull(),
    versions: jsonb('versions').$type<unknown[]>().notNull(),
    status: text('status').$type<'open' | 'resolved'>().notNull(),
    resolution: jsonb('resolution').$type<unknown>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('conflicts_open_uq').on(t.entityId, t.field).where(sql`${t.status} = 'open'`), index('conflicts_status_idx').on(t.status)],
);

// ------------------------------------------------------------------ conversation core

/** A person: every channel identity maps to one. */
export const people = pgTable('people', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** The first identity this person was seen with. */
  createdVia: text('created_via').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** A channel identity (`slack:T1:U1`, `sms:+15550001111`, `email:ann@example.com`…) and its person. */
export const identities = pgTable(
  'identities',
  {
    key: text('key').primaryKey(),
    channel: text('channel').notNull(),
    personId: text('person_id'),
    displayName: text('display_name'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('identities_person_idx').on(t.personId)],
);

/**
 * One-time codes. `pair`: an unknown identity waits for a member to approve it.
 * `link`: a member's code that another of their identities redeems to join them.
 */
export const pairingCodes = pgTable(
  'pairing_codes',
  {
    code: text('code').primaryKey(),
    kind: text('kind').$type<'pair' | 'link'>().notNull(),
    identityKey: text('identity_key').notNull(),
    personId: text('person_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
    usedBy: text('used_by'),
  },
  (t) => [index('pairing_codes_identity_idx').on(t.identityKey, t.kind)],
);

/** Per-conversation memory: the last list shown (for `done 2`), the project in use, paging. */
export const conversations = pgTable('conversations', {
  key: text('key').primaryKey(),
  state: jsonb('state').$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * Every inbound message, written before it is processed. The provider's own id makes a
 * re-delivery (Slack retry, repeated Twilio MessageSid, re-sent email) run once.
 */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    channel: text('channel').notNull(),
    providerMessageId: text('provider_message_id').notNull(),
    /** Arrival order across every web process: a conversation's messages run in this order. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    conversationKey: text('conversation_key').notNull(),
    /** Where it came from, so a message left unfinished by a crash can be run again as it was. */
    address: text('address'),
    thread: text('thread'),
    identityKey: text('identity_key').notNull(),
    senderName: text('sender_name'),
    text: text('text').notNull(),
    actionId: text('action_id'),
    status: text('status').$type<'received' | 'done' | 'failed'>().notNull(),
    reply: jsonb('reply').$type<unknown>(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true, mode: 'date' }),
    /** When one handler took the answer to send it: a re-delivery that finds this set sends nothing. */
    answerClaimedAt: timestamp('answer_claimed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    primaryKey({ columns: [t.channel, t.providerMessageId] }),
    index('inbound_received_idx').on(t.status, t.receivedAt),
    // The next unfinished message of a conversation, in arrival order.
    index('inbound_pending_idx').on(t.conversationKey, t.seq).where(sql`${t.status} = 'received'`),
  ],
);

/** A destination's subscription to a project, a topic or the whole hub, for some domains. */
export const subscriptions = pgTable(
  'subscriptions',
  {
    id: text('id').primaryKey(),
    channel: text('channel').notNull(),
    address: text('address').notNull(),
    /** '' when the destination has no thread. */
    thread: text('thread').notNull().default(''),
    /** '' = whole hub; else the project or topic id. */
    scope: text('scope').notNull(),
    projectId: text('project_id'),
    topicId: text('topic_id'),
    /** Empty = every domain. */
    domains: jsonb('domains').$type<string[]>().notNull(),
    /** A paused subscription is kept but the fan-out skips it. */
    paused: boolean('paused').notNull().default(false),
    /** Set when the destination is gone (410, "channel not found", "user blocked the bot"): the fan-out skips it; subscribing again clears it. */
    disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
    disabledReason: text('disabled_reason'),
    /** Webhook signing secret of this subscription (`whsec_<base64>`); null = CHITTY_WEBHOOK_SECRET (subscriptions made before per-subscription secrets). */
    secret: text('secret'),
    /** The secret before the last rotation, still signed with until `previousSecretUntil`. */
    previousSecret: text('previous_secret'),
    previousSecretUntil: timestamp('previous_secret_until', { withTimezone: true, mode: 'date' }),
    /** The AI model a webhook serves (e.g. `claude`, `gpt-4o`): `chitty sync --model` aims broadcasts at it. */
    model: text('model'),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('subscriptions_dest_scope_uq').on(t.channel, t.address, t.thread, t.scope), index('subscriptions_scope_idx').on(t.scope)],
);

// ------------------------------------------------------------------ fan-out

/**
 * The deliveries ledger: one row per (SyncMessage, subscription). Rows are claimed by delivery
 * jobs, sent (alone or in a digest), retried, or dead-lettered; nothing is deleted but by a prune.
 * The message itself is read from the outbox (stored once, however many destinations).
 */
export const deliveries = pgTable(
  'deliveries',
  {
    /** `<message id>__<subscription id>`: deterministic, so a re-fanned message is not delivered twice. */
    id: text('id').primaryKey(),
    messageId: text('message_id').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    channel: text('channel').notNull(),
    /** Hash of channel + address + thread: the unit of ordering, rate limits and digests. */
    destinationKey: text('destination_key').notNull(),
    address: text('address').notNull(),
    thread: text('thread'),
    domain: text('domain').notNull(),
    entityId: text('entity_id'),
    status: text('status').$type<'queued' | 'sent' | 'failed' | 'dead'>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    /**
     * Requests that carried it, written with each outcome (a send's claim is counted in
     * `delivery_claims` until then): more sends than attempts means a worker died between a send
     * and its outcome, and the row was sent again under the same `batch_id` (the X-Chitty-Delivery id).
     */
    sends: integer('sends').notNull().default(0),
    lastError: text('last_error'),
    providerMessageId: text('provider_message_id'),
    /** Id of the request that carried it (several rows share one when coalesced into a digest). */
    batchId: text('batch_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }),
    /**
     * What the platform last reported after accepting the send, by `provider_message_id`
     * (WhatsApp statuses: sent, delivered, read, failed); null until it reports.
     */
    providerStatus: text('provider_status'),
    providerStatusAt: timestamp('provider_status_at', { withTimezone: true, mode: 'date' }),
    /** How it was sent when not as asked (e.g. a WhatsApp template outside the 24-hour window). */
    note: text('note'),
  },
  (t) => [
    // Status callbacks find their row by the platform's message id.
    index('deliveries_provider_message_idx').on(t.providerMessageId).where(sql`${t.providerMessageId} is not null`),
    // Partial indexes: only waiting rows are looked up by destination or age; sent rows leave them.
    // In the exact order a destination's rows are sent (created_at, id): a batch is the index's first rows, no sort.
    index('deliveries_waiting_order_idx').on(t.destinationKey, t.createdAt, t.id).where(sql`${t.status} in ('queued', 'failed')`),
    index('deliveries_waiting_age_idx').on(t.updatedAt).where(sql`${t.status} in ('queued', 'failed')`),
    index('deliveries_dead_idx').on(t.updatedAt).where(sql`${t.status} = 'dead'`),
    // The prune: sent rows older than the retention.
    index('deliveries_sent_idx').on(t.sentAt).where(sql`${t.status} = 'sent'`),
    index('deliveries_message_idx').on(t.messageId),
    index('deliveries_entity_idx').on(t.entityId),
  ],
);

/**
 * Requests on their way, each written just before it is sent and deleted with its outcome: one
 * small row instead of writing every row of the batch twice. A destination has at most two (only
 * the lock holder sends there; the outcome of one is written while the next is sent). A job that
 * finds one left behind by a dead worker sends those rows again as the same batch, under the same
 * `batch_id`; `sends` counts the requests that carried it without an outcome, added to the rows'
 * own `sends` when the outcome is written.
 */
export const deliveryClaims = pgTable(
  'delivery_claims',
  {
    batchId: text('batch_id').primaryKey(),
    destinationKey: text('destination_key').notNull(),
    /** The deliveries rows the request carries. */
    ids: text('ids').array().notNull(),
    sends: integer('sends').notNull().default(1),
    claimedAt: timestamp('claimed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('delivery_claims_destination_idx').on(t.destinationKey)],
);

/**
 * Where an entity's story lives on a destination that has threads: the platform's id of the first
 * message posted about it there (Slack `ts`, Discord message id). Later changes go into that
 * thread, and edits/threads survive restarts.
 */
export const channelThreads = pgTable(
  'channel_threads',
  {
    destinationKey: text('destination_key').notNull(),
    entityId: text('entity_id').notNull(),
    channel: text('channel').notNull(),
    /** The platform's id of the thread's first message. */
    rootMessageId: text('root_message_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.destinationKey, t.entityId] })],
);

/**
 * WhatsApp numbers we heard from, and when last: a free-form message may be sent only within 24 h
 * of a person's last message (the customer-service window); outside it, a template.
 * {@link https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows}
 */
export const whatsappContacts = pgTable('whatsapp_contacts', {
  /** E.164 (`+972…`). */
  number: text('number').primaryKey(),
  lastInboundAt: timestamp('last_inbound_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/**
 * Slack workspaces that installed the app through `/slack/install` (multi-workspace mode; Bolt's
 * InstallProvider stores and fetches them here). One row per team, or per Enterprise Grid org for
 * an org-wide install. `installation` is Bolt's `Installation` object, bot token included.
 * {@link https://api.slack.com/authentication/oauth-v2}
 */
export const slackInstallations = pgTable('slack_installations', {
  /** `team:<T…>` or, for an org-wide install, `enterprise:<E…>`. */
  key: text('key').primaryKey(),
  teamId: text('team_id'),
  enterpriseId: text('enterprise_id'),
  /** Our bot's user id in that workspace (own-echo detection). */
  botUserId: text('bot_user_id'),
  installation: jsonb('installation').$type<Record<string, unknown>>().notNull(),
  installedAt: timestamp('installed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

// ------------------------------------------------------------------ sms

/**
 * Phone numbers that opted out of SMS (STOP and the other carrier keywords, or a send Twilio
 * refused with 21610). Nothing is sent to them until they text START; subscriptions are kept.
 */
export const smsOptOuts = pgTable('sms_opt_outs', {
  /** E.164, as Twilio gives it in `From`. */
  phone: text('phone').primaryKey(),
  /** `keyword` (the person texted STOP…) or `twilio_21610` (Twilio refused a send). */
  source: text('source').$type<'keyword' | 'twilio_21610'>().notNull(),
  detail: text('detail'),
  optedOutAt: timestamp('opted_out_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

// ------------------------------------------------------------------ hub

/**
 * Facts about this hub's database, one row each: `hub_id` (generated once) says which hub a Redis
 * queue prefix belongs to, so a second hub on the same Redis and prefix is refused at start.
 */
export const hubMeta = pgTable('hub_meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
