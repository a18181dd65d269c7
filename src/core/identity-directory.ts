/**
 * People and their channel identities, and the pairing policy:
 * - an identity linked to a person is a member and may do everything;
 * - identities in CHITTY_ALLOWLIST become members the first time they write;
 * - any other sender is a stranger: it may only ask for `help` or pair. Pairing gives it a
 *   one-time code that an existing member approves (`link approve <code>` or the API);
 * - a member links another identity of theirs with `link` (code) there and `link <code>` here.
 */
import { randomInt } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import * as schema from '../../drizzle/schema.ts';
import type { Db } from '../db.ts';
import { chittyId } from '../hub/ids.ts';
import { NotFoundError, InvalidChangeError } from '../hub/errors.ts';

export interface Person {
  id: string;
  name: string;
}

export type Access = { kind: 'member'; person: Person; identityKey: string } | { kind: 'stranger'; identityKey: string };

/** Unambiguous characters (no 0/O, 1/I/L, U) so a code read aloud or typed on a phone survives. */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_LENGTH = 6;
export const PAIR_CODE_TTL_MS = 24 * 60 * 60 * 1000;
export const LINK_CODE_TTL_MS = 15 * 60 * 1000;
/** The identity the API token acts as when a command has no `as`. */
export const OWNER_IDENTITY = 'api:owner';

export function newCode(): string {
  let s = '';
  for (let i = 0; i < CODE_LENGTH; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return s;
}

/** Codes as people type them: any case, spaces or dashes in between. */
export const normalizeCode = (code: string): string => code.toUpperCase().replace(/[\s-]+/g, '');

/** How stale an identity's last-seen time may get before a message updates it (ms). */
const LAST_SEEN_RESOLUTION_MS = 60_000;

export class IdentityDirectory {
  private readonly allowlist: Set<string>;

  constructor(
    private readonly db: Db,
    opts: { allowlist?: string[]; now?: () => Date } = {},
  ) {
    this.allowlist = new Set(opts.allowlist ?? []);
    this.now = opts.now ?? (() => new Date());
  }

  private readonly now: () => Date;

  /** Who is writing, creating the person for an allowlisted or owner identity on first contact. */
  async access(identityKey: string, displayName?: string): Promise<Access> {
    const channel = identityKey.slice(0, identityKey.indexOf(':'));
    const now = this.now();
    const t = schema.identities;
    // Read first and write only what changed: an upsert on every message would hold the identity's
    // row lock until the command's transaction commits, so one person's commands in different
    // conversations would wait for each other.
    let [row] = await this.db.select().from(t).where(eq(t.key, identityKey));
    if (!row) {
      [row] = await this.db
        .insert(t)
        .values({ key: identityKey, channel, displayName: displayName ?? null, lastSeenAt: now })
        .onConflictDoNothing()
        .returning();
      [row] = row ? [row] : await this.db.select().from(t).where(eq(t.key, identityKey));
    } else if (now.getTime() - row.lastSeenAt.getTime() > LAST_SEEN_RESOLUTION_MS || (displayName && displayName !== row.displayName)) {
      await this.db
        .update(t)
        .set({ lastSeenAt: now, ...(displayName ? { displayName } : {}) })
        .where(eq(t.key, identityKey));
    }
    if (row?.personId) return { kind: 'member', person: await this.mustPerson(row.personId), identityKey };
    if (identityKey === OWNER_IDENTITY || this.allowlist.has(identityKey)) {
      const person = await this.createPerson(identityKey, displayName ?? (identityKey === OWNER_IDENTITY ? 'API token owner' : identityKey));
      return { kind: 'member', person, identityKey };
    }
    return { kind: 'stranger', identityKey };
  }

  /**
   * A member for an identity whose sender holds the API token (`cli:<name>`, `web:<name>`,
   * `api:<name>` through POST /api/v1/commands): made a person named `name` on first contact.
   */
  async admit(identityKey: string, name: string): Promise<Person> {
    const a = await this.access(identityKey);
    return a.kind === 'member' ? a.person : this.createPerson(identityKey, name);
  }

  async person(id: string): Promise<Person | undefined> {
    const [p] = await this.db.select().from(schema.people).where(eq(schema.people.id, id));
    return p ? { id: p.id, name: p.name } : undefined;
  }

  async mustPerson(id: string): Promise<Person> {
    const p = await this.person(id);
    if (!p) throw new NotFoundError(`No person ${id}.`);
    return p;
  }

  /** The person an identity key belongs to (for `--assign sms:+1…`). */
  async personOfIdentity(identityKey: string): Promise<Person | undefined> {
    const [row] = await this.db.select().from(schema.identities).where(eq(schema.identities.key, identityKey));
    return row?.personId ? this.person(row.personId) : undefined;
  }

  async identitiesOf(personId: string): Promise<string[]> {
    const rows = await this.db.select({ key: schema.identities.key }).from(schema.identities).where(eq(schema.identities.personId, personId));
    return rows.map((r) => r.key).sort();
  }

  /** A stranger's pairing code (the same one while it is still valid, so retries do not pile up). */
  async requestPairing(identityKey: string): Promise<{ code: string; expiresAt: Date }> {
    return this.issueCode('pair', identityKey, null, PAIR_CODE_TTL_MS);
  }

  /** A member's code for linking another of their identities. */
  async createLinkCode(personId: string, identityKey: string): Promise<{ code: string; expiresAt: Date }> {
    return this.issueCode('link', identityKey, personId, LINK_CODE_TTL_MS);
  }

  /** Pairing requests waiting for approval. */
  async pendingPairings(): Promise<{ code: string; identityKey: string; expiresAt: Date }[]> {
    const c = schema.pairingCodes;
    const rows = await this.db
      .select()
      .from(c)
      .where(and(eq(c.kind, 'pair'), isNull(c.usedAt), gt(c.expiresAt, this.now())));
    return rows.map((r) => ({ code: r.code, identityKey: r.identityKey, expiresAt: r.expiresAt }));
  }

  /** A member approves a stranger's pairing code: the stranger becomes a new person. */
  async approvePairing(rawCode: string, approverPersonId: string): Promise<{ person: Person; identityKey: string }> {
    const code = normalizeCode(rawCode);
    return this.db.transaction(async (tx) => {
      const c = schema.pairingCodes;
      const [row] = await tx
        .select()
        .from(c)
        .where(and(eq(c.code, code), eq(c.kind, 'pair')))
        .for('update');
      if (!row || row.usedAt || row.expiresAt <= this.now()) throw new InvalidChangeError(`No pending pairing code ${code}; codes expire after ${PAIR_CODE_TTL_MS / 3_600_000} h.`);
      const [ident] = await tx.select().from(schema.identities).where(eq(schema.identities.key, row.identityKey)).for('update');
      let personId = ident?.personId ?? null;
      if (!personId) {
        personId = chittyId('PERSON');
        await tx.insert(schema.people).values({ id: personId, name: ident?.displayName ?? row.identityKey, createdVia: row.identityKey });
        await tx.update(schema.identities).set({ personId }).where(eq(schema.identities.key, row.identityKey));
      }
      await tx.update(c).set({ usedAt: this.now(), usedBy: approverPersonId }).where(eq(c.code, code));
      const [p] = await tx.select().from(schema.people).where(eq(schema.people.id, personId));
      return { person: { id: p!.id, name: p!.name }, identityKey: row.identityKey };
    });
  }

  /** Another identity redeems a member's link code and becomes that member. */
  async redeemLink(rawCode: string, identityKey: string): Promise<Person> {
    const code = normalizeCode(rawCode);
    return this.db.transaction(async (tx) => {
      const c = schema.pairingCodes;
      const [row] = await tx
        .select()
        .from(c)
        .where(and(eq(c.code, code), eq(c.kind, 'link')))
        .for('update');
      if (!row || row.usedAt || row.expiresAt <= this.now() || !row.personId) {
        throw new InvalidChangeError(`No valid link code ${code}; run "link" on a channel where you are already known to get one (valid ${LINK_CODE_TTL_MS / 60_000} min).`);
      }
      if (row.identityKey === identityKey) throw new InvalidChangeError('That code was made on this same channel identity; redeem it from your other one.');
      await tx.update(schema.identities).set({ personId: row.personId }).where(eq(schema.identities.key, identityKey));
      await tx.update(c).set({ usedAt: this.now(), usedBy: identityKey }).where(eq(c.code, code));
      const [p] = await tx.select().from(schema.people).where(eq(schema.people.id, row.personId));
      return { id: p!.id, name: p!.name };
    });
  }

  private async createPerson(identityKey: string, name: string): Promise<Person> {
    return this.db.transaction(async (tx) => {
      const [ident] = await tx.select().from(schema.identities).where(eq(schema.identities.key, identityKey)).for('update');
      if (ident?.personId) {
        const [p] = await tx.select().from(schema.people).where(eq(schema.people.id, ident.personId));
        return { id: p!.id, name: p!.name };
      }
      const id = chittyId('PERSON');
      await tx.insert(schema.people).values({ id, name, createdVia: identityKey });
      await tx.update(schema.identities).set({ personId: id }).where(eq(schema.identities.key, identityKey));
      return { id, name };
    });
  }

  private async issueCode(kind: 'pair' | 'link', identityKey: string, personId: string | null, ttl: number) {
    const c = schema.pairingCodes;
    const now = this.now();
    const [existing] = await this.db
      .select()
      .from(c)
      .where(and(eq(c.identityKey, identityKey), eq(c.kind, kind), isNull(c.usedAt), gt(c.expiresAt, now)));
    if (existing && existing.personId === personId) return { code: existing.code, expiresAt: existing.expiresAt };
    for (;;) {
      const code = newCode();
      const expiresAt = new Date(now.getTime() + ttl);
      const inserted = await this.db.insert(c).values({ code, kind, identityKey, personId, expiresAt }).onConflictDoNothing().returning();
      if (inserted.length > 0) return { code, expiresAt };
    }
  }
}
