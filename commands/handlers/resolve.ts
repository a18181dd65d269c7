/** Turning what people type (refs, names, "me") into ids; failures are readable HubErrors. */
import type { Domain } from '../../src/hub/domains.ts';
import { InvalidChangeError, NotFoundError } from '../../src/hub/errors.ts';
import { CHITTY_ID_REGEX } from '../../src/hub/ids.ts';
import type { Entity } from '../../src/hub/hub.ts';
import { parseIdentityKey } from '../../src/core/inbound.ts';
import type { CommandContext } from '../context.ts';
import type { Ref } from '../grammar/index.ts';

const NAME_FIELD: Partial<Record<Domain, string>> = { projects: 'name', topics: 'title', sessions: 'title', services: 'name' };
const NOUN: Record<Domain, string> = { topics: 'topic', projects: 'project', sessions: 'session', todos: 'todo', contexts: 'context', repos: 'repo', services: 'service' };

/** A `<ref>`: a ChittyID, or the number next to an item in the last list this conversation saw. */
export async function resolveRef(ref: Ref, ctx: CommandContext, domain: Domain = 'todos'): Promise<Entity> {
  if (ref.kind === 'id') return ctx.hub.mustGet(domain, ref.id);
  const id = ctx.conversation.lastList[ref.index - 1];
  if (!id) {
    const n = ctx.conversation.lastList.length;
    throw new InvalidChangeError(n === 0 ? `There is no list to pick #${ref.index} from yet; send "list" first.` : `The last list had ${n} item${n === 1 ? '' : 's'}; there is no #${ref.index}.`);
  }
  const e = await ctx.hub.get(domain, id);
  if (!e) throw new NotFoundError(`#${ref.index} of the last list is not a ${NOUN[domain]} (any more); send "list" again.`);
  return e;
}

/** A project/topic/session by id, or by name/title (case-insensitive, unique). */
export async function resolveNamed(domain: Domain, text: string, ctx: CommandContext): Promise<Entity> {
  const t = text.trim();
  if (CHITTY_ID_REGEX.test(t.toUpperCase())) {
    const byId = await ctx.hub.get(domain, t.toUpperCase());
    if (byId) return byId;
  }
  if (/^#?\d+$/.test(t) && ctx.conversation.lastList.length > 0) {
    const id = ctx.conversation.lastList[Number(t.replace('#', '')) - 1];
    const e = id ? await ctx.hub.get(domain, id) : undefined;
    if (e) return e;
  }
  const field = NAME_FIELD[domain] ?? 'name';
  const all = await ctx.hub.list(domain, { limit: 1000 });
  const hits = all.filter((e) => String(e[field] ?? '').toLowerCase() === t.toLowerCase());
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) throw new InvalidChangeError(`Several ${domain} are called "${t}"; use the id: ${hits.map((h) => h.chittyId).join(', ')}.`);
  throw new NotFoundError(`No ${NOUN[domain]} called "${t}". Try "${NOUN[domain]} list".`);
}

/** The project a command applies to: the one named, else the one in use in this conversation. */
export async function projectFor(named: string | undefined, ctx: CommandContext): Promise<Entity | undefined> {
  if (named) return resolveNamed('projects', named, ctx);
  if (ctx.conversation.projectId) return ctx.hub.get('projects', ctx.conversation.projectId);
  return undefined;
}

/** `me`, a person id, a channel identity (`sms:+1555…`) or a plain name, as stored in `assignees`. */
export async function resolveWho(who: string, ctx: CommandContext): Promise<string> {
  const w = who.trim().replace(/^@/, '');
  if (/^(me|myself|i)$/i.test(w)) return ctx.person.id;
  if (/^CHITTY-PERSON-/i.test(w)) return (await ctx.identities.mustPerson(w.toUpperCase())).id;
  if (w.includes(':')) {
    const parsed = parseIdentityKey(w);
    if (parsed.ok) return (await ctx.identities.personOfIdentity(parsed.key))?.id ?? parsed.key;
  }
  if (!w) throw new InvalidChangeError('Say who: a name, "me", or a channel identity like sms:+15551234567.');
  return w.slice(0, 200);
}
