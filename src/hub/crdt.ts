/**
 * Per-entity CRDT state and its pure merge. Applying the same set of changes in any order, with
 * any duplicates, yields the same state (property-tested in crdt.test.ts).
 *
 * - Registers are multi-value registers: a write removes the versions it causally follows (vector
 *   clock ≤), and is itself dropped if a version it causally precedes is already present. What is
 *   left are the concurrent versions. Materialized value: last-writer-wins by HLC (node id breaks
 *   ties); `status` takes the most advanced concurrent value; text fields with several concurrent
 *   versions are reported as a conflict for a person to resolve.
 * - Sets are add-wins (observed-remove): a remove only kills the adds whose clocks it dominates,
 *   i.e. the adds it had seen.
 */
import { compareClocks, dominatedBy, mergeClocks, type VectorClock } from './vector-clock.ts';
import { compareHlc, parseHlc } from './hlc.ts';
import type { Domain, DomainSpec } from './domains.ts';
import { commentsOf } from './comment-codec.ts';

/** One change to one entity, as made by one node. */
export interface Change {
  /** Unique id of the change (the SyncMessage id); duplicates are ignored. */
  id: string;
  domain: Domain;
  entityId: string;
  node: string;
  hlc: string;
  /** The entity's vector clock at the originating node, including this change. */
  vclock: VectorClock;
  set?: Record<string, unknown>;
  add?: Record<string, string[]>;
  remove?: Record<string, string[]>;
}

export interface Version {
  value: unknown;
  hlc: string;
  vclock: VectorClock;
  change: string;
}

export interface SetEntry {
  adds: { change: string; vclock: VectorClock }[];
  removes: VectorClock[];
}

export interface EntityCrdt {
  registers: Record<string, Version[]>;
  sets: Record<string, Record<string, SetEntry>>;
  vclock: VectorClock;
  /** Smallest HLC seen: when the entity was created. */
  created: string | null;
  /** Largest HLC seen: when it was last changed. */
  updated: string | null;
}

export interface FieldConflict {
  field: string;
  versions: { value: unknown; hlc: string; node: string; vclock: VectorClock; change: string }[];
}

export function emptyCrdt(): EntityCrdt {
  return { registers: {}, sets: {}, vclock: {}, created: null, updated: null };
}

/** `a` strictly precedes `b`: causally before, or the same clock with a smaller (hlc, id). */
function precedes(a: { vclock: VectorClock; hlc: string; change: string }, b: { vclock: VectorClock; hlc: string; change: string }): boolean {
  const order = compareClocks(a.vclock, b.vclock);
  if (order === 'before') return true;
  if (order !== 'equal') return false;
  const byHlc = compareHlc(a.hlc, b.hlc);
  return byHlc < 0 || (byHlc === 0 && a.change < b.change);
}

function writeRegister(versions: Version[], w: Version): Version[] {
  if (versions.some((v) => v.change === w.change)) return versions;
  if (versions.some((v) => precedes(w, v))) return versions;
  return [...versions.filter((v) => !precedes(v, w)), w].sort((a, b) => compareHlc(a.hlc, b.hlc) || (a.change < b.change ? -1 : 1));
}

function addToSet(entry: SetEntry, add: { change: string; vclock: VectorClock }): SetEntry {
  if (entry.adds.some((a) => a.change === add.change)) return entry;
  if (entry.removes.some((r) => dominatedBy(add.vclock, r))) return entry;
  return { adds: [...entry.adds, add].sort((a, b) => (a.change < b.change ? -1 : 1)), removes: entry.removes };
}

function removeFromSet(entry: SetEntry, remove: VectorClock): SetEntry {
  if (entry.removes.some((r) => dominatedBy(remove, r))) return entry;
  const removes = [...entry.removes.filter((r) => !dominatedBy(r, remove)), remove].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return { adds: entry.adds.filter((a) => !dominatedBy(a.vclock, remove)), removes };
}

/**
 * A copy of a set's elements in an object without a prototype, so that elements named like
 * Object.prototype members (`constructor`, `toString`, `__proto__`) are plain elements.
 */
function elementMap(entries: Record<string, SetEntry> | undefined): Record<string, SetEntry> {
  return Object.assign(Object.create(null) as Record<string, SetEntry>, entries ?? {});
}

/** Apply one change. Pure: returns a new state; the input is not modified. */
export function applyChange(state: EntityCrdt, change: Change): EntityCrdt {
  const registers = { ...state.registers };
  const sets = { ...state.sets };
  for (const [field, value] of Object.entries(change.set ?? {})) {
    registers[field] = writeRegister(registers[field] ?? [], { value, hlc: change.hlc, vclock: change.vclock, change: change.id });
  }
  for (const [field, elems] of Object.entries(change.add ?? {})) {
    const set = elementMap(sets[field]);
    for (const elem of elems) set[elem] = addToSet(set[elem] ?? { adds: [], removes: [] }, { change: change.id, vclock: change.vclock });
    sets[field] = set;
  }
  for (const [field, elems] of Object.entries(change.remove ?? {})) {
    const set = elementMap(sets[field]);
    for (const elem of elems) set[elem] = removeFromSet(set[elem] ?? { adds: [], removes: [] }, change.vclock);
    sets[field] = set;
  }
  return {
    registers,
    sets,
    vclock: mergeClocks(state.vclock, change.vclock),
    created: state.created === null || compareHlc(change.hlc, state.created) < 0 ? change.hlc : state.created,
    updated: state.updated === null || compareHlc(change.hlc, state.updated) > 0 ? change.hlc : state.updated,
  };
}

function winner(field: string, versions: Version[], spec: DomainSpec): Version | undefined {
  let best: Version | undefined;
  for (const v of versions) {
    if (!best) {
      best = v;
      continue;
    }
    if (field === 'status') {
      const rv = spec.statusRank[String(v.value)] ?? -1;
      const rb = spec.statusRank[String(best.value)] ?? -1;
      if (rv !== rb) {
        if (rv > rb) best = v;
        continue;
      }
    }
    if (compareHlc(v.hlc, best.hlc) > 0 || (v.hlc === best.hlc && v.change > best.change)) best = v;
  }
  return best;
}

export function hlcToIso(hlc: string | null): string | null {
  return hlc === null ? null : new Date(parseHlc(hlc).wallMs).toISOString();
}

/** The plain entity a reader sees: defaults, then register winners, then set members (sorted). */
export function materialize(spec: DomainSpec, id: string, state: EntityCrdt): Record<string, unknown> {
  const out: Record<string, unknown> = { chittyId: id, ...structuredClone(spec.defaults), deleted: false };
  for (const [field, versions] of Object.entries(state.registers)) {
    const w = winner(field, versions, spec);
    if (w) out[field] = w.value;
  }
  for (const field of spec.setFields) {
    const entries = state.sets[field] ?? {};
    out[field] = Object.keys(entries)
      .filter((elem) => (entries[elem]?.adds.length ?? 0) > 0)
      .sort();
  }
  for (const field of spec.logFields ?? []) {
    const comments = commentsOf(state.sets[field]);
    if (comments.length > 0) out[field] = comments;
  }
  out.createdAt = hlcToIso(state.created);
  out.updatedAt = hlcToIso(state.updated);
  return out;
}

/** Text fields that hold more than one concurrent version: each is a conflict for a person. */
export function conflictsOf(spec: DomainSpec, state: EntityCrdt): FieldConflict[] {
  const out: FieldConflict[] = [];
  for (const field of spec.textFields) {
    const versions = state.registers[field] ?? [];
    if (versions.length > 1) {
      out.push({
        field,
        versions: versions.map((v) => ({ value: v.value, hlc: v.hlc, node: parseHlc(v.hlc).node, vclock: v.vclock, change: v.change })),
      });
    }
  }
  return out;
}
