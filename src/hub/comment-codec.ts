/**
 * Comments on an entity (todos): an append-only list that survives concurrent writers. Each
 * comment is one element of an add-wins set (crdt.ts), encoded as canonical JSON that carries its
 * own id, so two replicas commenting at the same time both keep both comments, a re-delivered
 * change adds nothing twice, and no comment is ever removed. `materialize` decodes the elements
 * into `entity.comments`, oldest first (only when there is at least one).
 */
import type { SetEntry } from './crdt.ts';
import { InvalidChangeError } from './errors.ts';

/** Longest comment text. */
export const COMMENT_MAX = 2000;

/** One comment as readers see it. */
export interface EntityComment {
  /** `CHITTY-COMMENT-<ULID>`: unique, sorts by creation. */
  id: string;
  /** ISO-8601 time it was written. */
  at: string;
  /** The person (CHITTY-PERSON-…) who wrote it, when known. */
  by: string | null;
  /** Their name when they wrote it ("Ann"), for notices. */
  name: string | null;
  text: string;
}

/** The set element of a comment: JSON with a fixed key order, so every replica encodes it alike. */
export function encodeComment(c: EntityComment): string {
  return JSON.stringify({ id: c.id, at: c.at, by: c.by, name: c.name, text: c.text });
}

const str = (v: unknown): v is string => typeof v === 'string';

/** A set element back as a comment; undefined when it is not a well-formed one. */
export function decodeComment(element: string): EntityComment | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(element) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || !str(v.id) || !str(v.at) || !str(v.text)) return undefined;
  if (!(v.by === null || str(v.by)) || !(v.name === null || str(v.name))) return undefined;
  if (v.text.trim() === '' || v.text.length > COMMENT_MAX || v.id.length > 200 || Number.isNaN(Date.parse(v.at))) return undefined;
  return { id: v.id, at: v.at, by: v.by, name: v.name, text: v.text };
}

/** The comments of a set's live elements, oldest first (time, then id). */
export function commentsOf(entries: Record<string, SetEntry> | undefined): EntityComment[] {
  return Object.keys(entries ?? {})
    .filter((e) => (entries?.[e]?.adds.length ?? 0) > 0)
    .map(decodeComment)
    .filter((c): c is EntityComment => c !== undefined)
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * A replica's comment elements, checked: from `delta.add` (encoded strings) or from the entity
 * data (decoded objects), re-encoded canonically. A malformed one refuses the whole batch.
 */
export function remoteComments(values: unknown[], where: string): string[] {
  return values.map((v) => {
    const c = decodeComment(typeof v === 'string' ? v : JSON.stringify(v));
    if (!c) throw new InvalidChangeError(`${where}: a comment must be {id, at, by, name, text} with 1–${COMMENT_MAX} characters of text.`);
    return encodeComment(c);
  });
}
