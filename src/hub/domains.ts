/**
 * The synchronization domains of the spec and, for each, which fields are last-writer-wins
 * registers, which are free text (concurrent edits become a multi-value conflict), which are
 * add-wins sets, and how the `status` field merges (most advanced wins).
 */
import { z } from 'zod';

export const DOMAINS = ['topics', 'projects', 'sessions', 'todos', 'contexts', 'repos', 'services'] as const;
export type Domain = (typeof DOMAINS)[number];
export const DomainSchema = z.enum(DOMAINS);

export const TODO_STATUSES = ['pending', 'in_progress', 'blocked', 'completed'] as const;
export type TodoStatus = (typeof TODO_STATUSES)[number];
export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
/** Where a session runs. */
export const SESSION_PLATFORMS = ['claude-code', 'web', 'slack', 'discord', 'sms', 'whatsapp', 'email', 'cli', 'mobile', 'api'] as const;

const isoDate = z.iso.datetime({ offset: true });
const shortText = z.string().trim().min(1).max(500);
const longText = z.string().max(20_000);
const ref = z.string().trim().min(1).max(200);
const jsonObject = z.record(z.string(), z.unknown());

export interface DomainSpec {
  domain: Domain;
  /** ChittyID prefix: CHITTY-<prefix>-<ULID>. */
  idPrefix: string;
  /** Singular entity type carried in SyncMessages. */
  entityType: string;
  /** Register fields (all optional here; `required` lists what a create must carry). */
  registers: z.ZodObject<z.ZodRawShape>;
  /** Text fields: concurrent edits are kept as a conflict for a person to resolve. */
  textFields: readonly string[];
  /** Add-wins set fields (arrays of strings on the wire). */
  setFields: readonly string[];
  /**
   * Append-only comment lists (comment-codec.ts): add-wins sets of encoded comments, changed only
   * by `Hub.comment`, never by a create or update body; read as `{id, at, by, name, text}[]`.
   */
  logFields?: readonly string[];
  required: readonly string[];
  defaults: Record<string, unknown>;
  /** Rank of each `status` value: concurrent status writes merge to the highest rank. */
  statusRank: Record<string, number>;
}

const rank = (values: readonly string[]): Record<string, number> => Object.fromEntries(values.map((v, i) => [v, i]));

const specs: Record<Domain, DomainSpec> = {
  topics: {
    domain: 'topics',
    idPrefix: 'TOPIC',
    entityType: 'topic',
    registers: z.object({
      title: shortText,
      description: longText,
      status: z.enum(['active', 'archived', 'closed']),
      projectId: ref.nullable(),
    }),
    textFields: ['title', 'description'],
    setFields: ['tags', 'participants', 'relatedTopics'],
    required: ['title'],
    defaults: { description: '', status: 'active', projectId: null },
    statusRank: rank(['active', 'archived', 'closed']),
  },
  projects: {
    domain: 'projects',
    idPrefix: 'PROJ',
    entityType: 'project',
    registers: z.object({
      name: shortText,
      description: longText,
      status: z.enum(['planning', 'active', 'on-hold', 'completed']),
      chittyPmProjectId: ref.nullable(),
      owner: ref.nullable(),
      milestones: z.array(z.object({ name: shortText, due: isoDate.optional(), done: z.boolean().optional() })).max(200),
    }),
    textFields: ['name', 'description'],
    setFields: ['tags', 'topics', 'repos', 'team'],
    required: ['name'],
    defaults: { description: '', status: 'active', chittyPmProjectId: null, owner: null, milestones: [] },
    statusRank: rank(['planning', 'active', 'on-hold', 'completed']),
  },
  sessions: {
    domain: 'sessions',
    idPrefix: 'SESSION',
    entityType: 'session',
    registers: z.object({
      title: z.string().trim().max(500),
      sessionId: ref.nullable(),
      platform: z.enum(SESSION_PLATFORMS),
      projectId: ref.nullable(),
      topicId: ref.nullable(),
      status: z.enum(['active', 'paused', 'crashed', 'ended']),
      context: z.object({
        messages: z.array(jsonObject).max(1000).optional(),
        files: z.array(jsonObject).max(1000).optional(),
        state: jsonObject.optional(),
        crumbs: z.array(jsonObject).max(1000).optional(),
      }),
      startedAt: isoDate.nullable(),
      lastActive: isoDate.nullable(),
      endedAt: isoDate.nullable(),
    }),
    textFields: ['title'],
    setFields: ['participants', 'tags'],
    required: [],
    defaults: {
      title: '',
      sessionId: null,
      platform: 'api',
      projectId: null,
      topicId: null,
      status: 'active',
      context: { messages: [], files: [], state: {}, crumbs: [] },
      startedAt: null,
      lastActive: null,
      endedAt: null,
    },
    statusRank: rank(['active', 'paused', 'crashed', 'ended']),
  },
  todos: {
    domain: 'todos',
    idPrefix: 'TODO',
    entityType: 'todo',
    registers: z.object({
      content: z.string().trim().min(1).max(2000),
      activeForm: z.string().trim().max(2000),
      status: z.enum(TODO_STATUSES),
      sessionId: ref.nullable(),
      projectId: ref.nullable(),
      deadline: isoDate.nullable(),
      priority: z.enum(PRIORITIES),
      completedAt: isoDate.nullable(),
      mergedInto: ref.nullable(),
      /** The person (CHITTY-PERSON-…) who added it, when known. */
      createdBy: ref.nullable(),
    }),
    textFields: ['content', 'activeForm'],
    setFields: ['assignees', 'dependencies', 'tags', 'sessions', 'mergedFrom'],
    logFields: ['comments'],
    required: ['content'],
    defaults: {
      activeForm: '',
      status: 'pending',
      sessionId: null,
      projectId: null,
      deadline: null,
      priority: 'medium',
      completedAt: null,
      mergedInto: null,
      createdBy: null,
    },
    // blocked outranks in_progress: whoever hit the blocker knows more than a concurrent "started".
    statusRank: rank(TODO_STATUSES),
  },
  contexts: {
    domain: 'contexts',
    idPrefix: 'CONTEXT',
    entityType: 'context',
    registers: z.object({
      type: z.enum(['session', 'conversation', 'document', 'system']),
      summary: longText,
      keyPoints: z.array(z.string().max(2000)).max(200),
      entities: z.array(jsonObject).max(1000),
      relationships: z.array(jsonObject).max(1000),
      enrichments: z.array(jsonObject).max(1000),
      confidence: z.number().min(0).max(1),
      projectId: ref.nullable(),
      sessionId: ref.nullable(),
    }),
    textFields: ['summary'],
    setFields: ['sources', 'tags'],
    required: [],
    defaults: {
      type: 'conversation',
      summary: '',
      keyPoints: [],
      entities: [],
      relationships: [],
      enrichments: [],
      confidence: 1,
      projectId: null,
      sessionId: null,
    },
    statusRank: {},
  },
  repos: {
    domain: 'repos',
    idPrefix: 'REPO',
    entityType: 'repo',
    registers: z.object({
      url: z.string().trim().min(1).max(2000),
      branch: z.string().trim().min(1).max(255),
      commit: z.string().trim().max(64).nullable(),
      workingTree: z.enum(['clean', 'dirty']),
      syncStatus: z.enum(['synced', 'ahead', 'behind', 'diverged']),
      lastSync: isoDate.nullable(),
      projectId: ref.nullable(),
    }),
    textFields: [],
    setFields: ['services', 'tags'],
    required: ['url'],
    defaults: { branch: 'main', commit: null, workingTree: 'clean', syncStatus: 'synced', lastSync: null, projectId: null },
    statusRank: {},
  },
  services: {
    domain: 'services',
    idPrefix: 'SERVICE',
    entityType: 'service',
    registers: z.object({
      name: shortText,
      description: longText,
      type: z.enum(['chittyapp', 'chittyservice', 'external']),
      repoId: ref.nullable(),
      endpoints: z.array(z.object({ url: z.string().max(2000), kind: z.string().max(50).optional() })).max(100),
      health: z.enum(['healthy', 'degraded', 'down', 'unknown']),
      version: z.string().max(100).nullable(),
      deployed: isoDate.nullable(),
      lastHealthCheck: isoDate.nullable(),
      projectId: ref.nullable(),
    }),
    textFields: ['name', 'description'],
    setFields: ['tags'],
    required: ['name'],
    defaults: {
      description: '',
      type: 'external',
      repoId: null,
      endpoints: [],
      health: 'unknown',
      version: null,
      deployed: null,
      lastHealthCheck: null,
      projectId: null,
    },
    statusRank: {},
  },
};

export function domainSpec(domain: Domain): DomainSpec {
  return specs[domain];
}

/** The domain an id belongs to, from its prefix (`CHITTY-TODO-…` → todos). */
export function domainOfId(id: string): Domain | undefined {
  const prefix = /^CHITTY-([A-Z]+)-/.exec(id)?.[1];
  return DOMAINS.find((d) => specs[d].idPrefix === prefix);
}

/** Fields every domain has besides its own. */
export const COMMON_REGISTERS = ['deleted'] as const;

const setValues = z.array(z.string().trim().min(1).max(200)).max(500);

/** Body of a create: the domain's registers (required ones required) and set fields as arrays. */
export function createSchema(domain: Domain): z.ZodType<Record<string, unknown>> {
  const spec = specs[domain];
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(spec.registers.shape)) {
    shape[k] = spec.required.includes(k) ? (v as z.ZodType) : (v as z.ZodType).optional();
  }
  for (const f of spec.setFields) shape[f] = setValues.optional();
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}

/** Body of an update: any subset of registers; set fields replace the whole set (diffed into add/remove). */
export function updateSchema(domain: Domain): z.ZodType<Record<string, unknown>> {
  const spec = specs[domain];
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(spec.registers.shape)) shape[k] = (v as z.ZodType).optional();
  for (const f of spec.setFields) shape[f] = setValues.optional();
  return z.strictObject(shape).refine((o) => Object.keys(o).length > 0, { message: 'Nothing to update: send at least one field.' }) as unknown as z.ZodType<Record<string, unknown>>;
}
