/**
 * Todo reconciliation across parallel sessions (spec "Example 2"): todos of one project with the
 * same normalized content are one todo. Planning is pure; the hub applies the plan.
 */
import { contentHash } from './content-hash.ts';
import { domainSpec } from './domains.ts';

export interface ReconcileGroup {
  /** The todo that stays (the earliest created). */
  survivor: string;
  /** The duplicates folded into it. */
  merged: string[];
  content: string;
  /** Most advanced status of the group. */
  status: string;
  /** Every session the todo was seen in (provenance). */
  sessions: string[];
  assignees: string[];
  tags: string[];
}

type TodoData = Record<string, unknown> & { chittyId: string };

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function planReconciliation(todos: TodoData[]): ReconcileGroup[] {
  const rank = domainSpec('todos').statusRank;
  const byHash = new Map<string, TodoData[]>();
  for (const t of todos) {
    if (t.deleted === true || t.mergedInto) continue;
    const key = contentHash(String(t.content ?? ''));
    byHash.set(key, [...(byHash.get(key) ?? []), t]);
  }
  const groups: ReconcileGroup[] = [];
  for (const members of byHash.values()) {
    if (members.length < 2) continue;
    members.sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)) || a.chittyId.localeCompare(b.chittyId));
    const [survivor, ...rest] = members as [TodoData, ...TodoData[]];
    const status = members.map((m) => String(m.status)).reduce((best, s) => ((rank[s] ?? -1) > (rank[best] ?? -1) ? s : best));
    const union = (field: string) => [...new Set(members.flatMap((m) => strings(m[field])))].sort();
    const sessions = [...new Set([...union('sessions'), ...members.map((m) => m.sessionId).filter((s): s is string => typeof s === 'string')])].sort();
    groups.push({
      survivor: survivor.chittyId,
      merged: rest.map((m) => m.chittyId),
      content: String(survivor.content),
      status,
      sessions,
      assignees: union('assignees'),
      tags: union('tags'),
    });
  }
  return groups;
}
