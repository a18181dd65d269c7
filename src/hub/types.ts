/** The hub's shared types: entities, actors, list filters, conflict views and the entity tables. */
import * as schema from '../../drizzle/schema.ts';
import type { Domain } from './domains.ts';
import type { VectorClock } from './vector-clock.ts';

export type Entity = Record<string, unknown> & { chittyId: string };

/** Who made a change, for SyncMessage.source. */
export interface Actor {
  platform: string;
  chittyId?: string;
  /** The conversation the change came from (not echoed back there by the fan-out). */
  origin?: { channel: string; address: string; thread?: string };
}

export const API_ACTOR: Actor = { platform: 'api' };

export type EntityTable = typeof schema.todos;
const TABLES = {
  topics: schema.topics,
  projects: schema.projects,
  sessions: schema.sessions,
  todos: schema.todos,
  contexts: schema.contexts,
  repos: schema.repos,
  services: schema.services,
} as unknown as Record<Domain, EntityTable>;

export const tableOf = (domain: Domain): EntityTable => TABLES[domain];

export interface ListFilter {
  projectId?: string;
  sessionId?: string;
  status?: string;
  /** Any of these statuses (e.g. the open ones). */
  statuses?: string[];
  assignee?: string;
  /** Todos that are this person's: assigned to them, or created by them and assigned to nobody. */
  mine?: string;
  includeDeleted?: boolean;
  /** Only entities whose id sorts after this one (cursor paging; ids sort by creation). */
  after?: string;
  limit?: number;
}

export interface ConflictPage {
  /** Only conflicts whose id sorts before this one (the last id of the previous page). */
  after?: string;
  /** Page size, at most 1000 (default 500). */
  limit?: number;
  entityIds?: string[];
}

export interface ConflictView {
  id: string;
  domain: string;
  entityId: string;
  field: string;
  status: 'open' | 'resolved';
  versions: { value: unknown; hlc: string; node: string; vclock: VectorClock; change: string }[];
  resolution: unknown;
  createdAt: string;
  resolvedAt: string | null;
}

export interface RemoteResult {
  id: string;
  status: 'applied' | 'duplicate' | 'ignored';
  entityId?: string;
  reason?: string;
}
