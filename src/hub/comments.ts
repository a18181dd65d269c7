/** Adding a comment to an entity as this node's change; the encoding and merge are in comment-codec.ts. */
import { COMMENT_MAX, encodeComment, type EntityComment } from './comment-codec.ts';
import { commitLocal, lockExisting } from './commit.ts';
import type { HubContext } from './context.ts';
import type { Domain } from './domains.ts';
import { InvalidChangeError } from './errors.ts';
import { chittyId } from './ids.ts';
import type { Actor, Entity } from './types.ts';

/** Add a comment to an entity as this node's change (fans out like any update). */
export async function addComment(
  hub: HubContext,
  domain: Domain,
  id: string,
  input: { text: string; by?: string | null; name?: string | null; at?: Date },
  actor: Actor,
): Promise<{ entity: Entity; comment: EntityComment }> {
  const text = input.text.trim();
  if (text === '' || text.length > COMMENT_MAX) throw new InvalidChangeError(`A comment needs 1–${COMMENT_MAX} characters of text.`);
  const comment: EntityComment = { id: chittyId('COMMENT'), at: (input.at ?? new Date()).toISOString(), by: input.by ?? null, name: input.name ?? null, text };
  const entity = await hub.transact(async (tx) => {
    const current = await lockExisting(tx, domain, id);
    return commitLocal(hub, tx, domain, id, { add: { comments: [encodeComment(comment)] } }, actor, 'update', false, current);
  });
  return { entity, comment };
}
