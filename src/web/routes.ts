/**
 * The web page's chat box: `POST /api/v1/web/commands` runs a command through the conversation
 * core on channel `web` as `web:owner` (the person who holds the API token, the same person as
 * `api:owner`), in one conversation, and answers with the reply as the text renderer shows it.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { renderText } from '../../renderers/text.ts';
import { route, type RouteDef } from '../api/route-table.ts';
import type { ConversationCore } from '../core/conversation-core.ts';
import { OWNER_IDENTITY } from '../core/identity-directory.ts';

/** The identity the web page speaks as. */
export const WEB_IDENTITY = 'web:owner';
/** The web page's one conversation (numbered refs and `more` carry over between messages). */
export const WEB_CONVERSATION = 'owner';

const Body = z.strictObject({
  text: z.string().trim().min(1).max(20_000),
  messageId: z.string().min(1).max(200).optional().describe('Your id for this message: sending it again returns the first answer and changes nothing'),
});

/** Links `web:owner` to the API token owner's person once (by a link code, as a person would). */
async function ensureWebIdentity(core: ConversationCore): Promise<void> {
  const web = await core.identities.access(WEB_IDENTITY, 'Web page');
  if (web.kind === 'member') return;
  const owner = await core.identities.access(OWNER_IDENTITY);
  if (owner.kind !== 'member') throw new Error('the API token owner is not a member');
  const { code } = await core.identities.createLinkCode(owner.person.id, OWNER_IDENTITY);
  await core.identities.redeemLink(code, WEB_IDENTITY);
}

export function webRoutes(core: ConversationCore): RouteDef[] {
  let linked: Promise<void> | undefined;
  return [
    route({
      method: 'POST',
      url: '/web/commands',
      tag: 'conversation',
      summary: "The web page's chat box: run a command on channel web as web:owner; returns the reply and its text rendering",
      body: Body,
      handler: async ({ body }) => {
        linked ??= ensureWebIdentity(core).catch((err: unknown) => {
          linked = undefined;
          throw err;
        });
        await linked;
        const r = await core.handle({
          channel: 'web',
          address: WEB_CONVERSATION,
          sender: WEB_IDENTITY,
          text: body.text,
          providerMessageId: `web-${body.messageId ?? randomUUID()}`,
          receivedAt: new Date(),
        });
        return { ...r, text: renderText(r.reply, { page: r.page, threadKey: WEB_IDENTITY }) };
      },
    }),
  ];
}
