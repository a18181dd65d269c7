/**
 * Try the conversation core without any channel: run a command as any identity, preview what
 * every channel would receive, manage pairing and subscriptions.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseCommand } from '../../../commands/grammar/index.ts';
import { isReadOnly } from '../../../commands/execute.ts';
import { renderAll } from '../../../renderers/index.ts';
import type { ConversationCore, CoreResult } from '../../core/conversation-core.ts';
import { OWNER_IDENTITY } from '../../core/identity-directory.ts';
import { parseIdentityKey } from '../../core/inbound.ts';
import { SubscriptionInputSchema } from '../../core/subscription-store.ts';
import { InvalidChangeError, NotFoundError } from '../../hub/errors.ts';
import { describeChange } from '../../sync/describe-change.ts';
import { SyncMessageSchema } from '../../sync/sync-message.ts';
import { route, type RouteDef } from '../route-table.ts';

const CommandBody = z.strictObject({
  text: z.string().min(1).max(20_000),
  as: z.string().min(3).max(300).optional().describe('Run as this channel identity, e.g. sms:+15551234567 (default: the API token owner)'),
  conversation: z.string().min(1).max(300).optional().describe('Conversation address (default: one conversation per identity)'),
  messageId: z.string().min(1).max(500).optional().describe('Your id for this message: sending it again returns the first answer and changes nothing'),
  render: z.boolean().default(false).describe('Also return what every channel would receive'),
});

const PreviewBody = z.union([z.strictObject({ text: z.string().min(1).max(20_000), as: z.string().min(3).max(300).optional() }), z.strictObject({ syncMessage: SyncMessageSchema })]);

const Renderings = z.object({
  slack: z.object({ text: z.string(), blocks: z.array(z.unknown()) }),
  discord: z.object({ content: z.string(), embeds: z.array(z.unknown()), components: z.array(z.unknown()), allowed_mentions: z.unknown() }),
  sms: z.array(z.string()),
  whatsapp: z.string(),
  email: z.object({ subject: z.string(), text: z.string(), html: z.string(), headers: z.record(z.string(), z.string()) }),
  text: z.string(),
});

/** Platforms reached only with the API token (the CLI, the web page, API clients such as MCP). */
const TOKEN_CHANNELS = new Set<string>(['cli', 'web', 'api']);

/** Whoever calls this API holds the token: an `as` on its own platforms is a member at once. */
async function admitTokenIdentity(core: ConversationCore, as: string | undefined): Promise<void> {
  const id = as ? parseIdentityKey(as) : undefined;
  if (id?.ok && TOKEN_CHANNELS.has(id.channel) && id.key !== OWNER_IDENTITY) await core.identities.admit(id.key, id.id);
}

/** Which identity and conversation an API command runs as. */
function speaker(as: string | undefined, conversation: string | undefined) {
  if (!as) return { channel: 'api' as const, sender: OWNER_IDENTITY, address: conversation ?? 'owner' };
  const id = parseIdentityKey(as);
  if (!id.ok) throw new InvalidChangeError(`Invalid "as": ${id.error}`);
  return { channel: id.channel, sender: id.key, address: conversation ?? id.id };
}

export function conversationRoutes(core: ConversationCore): RouteDef[] {
  /** Runs the command; `preview` runs it without recording or changing anything (see ConversationCore.preview). */
  const run = async (text: string, as: string | undefined, conversation: string | undefined, messageId: string | undefined, preview = false): Promise<CoreResult> => {
    const who = speaker(as, conversation);
    return (preview ? core.preview : core.handle).call(core, {
      channel: who.channel,
      address: who.address,
      sender: who.sender,
      text,
      providerMessageId: messageId ? `api-${messageId}` : `api-${randomUUID()}`,
      receivedAt: new Date(),
    });
  };
  const render = (r: CoreResult, threadKey: string) => renderAll(r.reply, { page: r.page, threadKey });

  return [
    route({
      method: 'POST',
      url: '/commands',
      tag: 'conversation',
      summary: 'Run a command through the conversation core as if typed by an identity; returns the neutral reply',
      body: CommandBody,
      handler: async ({ body }) => {
        await admitTokenIdentity(core, body.as);
        const r = await run(body.text, body.as, body.conversation, body.messageId);
        return { ...r, ...(body.render ? { rendered: render(r, body.as ?? OWNER_IDENTITY) } : {}) };
      },
    }),
    route({
      method: 'POST',
      url: '/preview',
      tag: 'conversation',
      summary: 'What every channel would receive for a read-only command or a SyncMessage (nothing is sent or changed)',
      body: PreviewBody,
      response: z.object({ reply: z.unknown(), rendered: Renderings }),
      handler: async ({ body }) => {
        if ('syncMessage' in body) {
          const reply = describeChange(body.syncMessage);
          return { reply, rendered: renderAll(reply, { threadKey: body.syncMessage.payload.entity.chittyId }) };
        }
        const parsed = parseCommand(body.text);
        if (parsed.ok && !isReadOnly(parsed.command)) {
          throw new InvalidChangeError(
            `Preview only runs commands that change nothing ("${parsed.command.name}" would). Use POST /api/v1/commands with "render": true to run it and see every channel's version.`,
          );
        }
        const r = await run(body.text, body.as, 'preview', undefined, true);
        return { reply: r.reply, page: r.page, rendered: render(r, 'preview') };
      },
    }),
    route({
      method: 'GET',
      url: '/pairing',
      tag: 'conversation',
      summary: 'Pairing requests waiting for approval',
      handler: async () => ({ items: await core.identities.pendingPairings() }),
    }),
    route({
      method: 'POST',
      url: '/pairing/:code/approve',
      tag: 'conversation',
      summary: 'Approve a pairing code (as the API token owner)',
      params: z.object({ code: z.string().min(4).max(20) }),
      handler: async ({ params }) => {
        const owner = await core.identities.access(OWNER_IDENTITY);
        if (owner.kind !== 'member') throw new InvalidChangeError('The API owner is not a member.');
        return core.identities.approvePairing(params.code, owner.person.id);
      },
    }),
    route({
      method: 'POST',
      url: '/subscriptions',
      tag: 'subscriptions',
      status: 201,
      summary: 'Subscribe a destination (channel + address, optional thread) to a project, a topic or the whole hub',
      body: SubscriptionInputSchema,
      handler: ({ body }) => core.subscriptions.upsert(body, null),
    }),
    route({
      method: 'GET',
      url: '/subscriptions',
      tag: 'subscriptions',
      summary: 'List subscriptions',
      query: z.strictObject({ channel: z.string().max(20).optional(), address: z.string().max(2000).optional() }),
      handler: async ({ query }) => ({ items: await core.subscriptions.list({ ...(query.channel ? { channel: query.channel } : {}), ...(query.address ? { address: query.address } : {}) }) }),
    }),
    route({
      method: 'PATCH',
      url: '/subscriptions/:id',
      tag: 'subscriptions',
      summary: 'Pause ({"paused": true}: the fan-out skips it) or resume a subscription',
      params: z.object({ id: z.string().min(1).max(200) }),
      body: z.strictObject({ paused: z.boolean() }),
      handler: async ({ params, body }) => {
        const s = await core.subscriptions.setPaused(params.id, body.paused);
        if (!s) throw new NotFoundError(`No subscription ${params.id}.`);
        return s;
      },
    }),
    route({
      method: 'POST',
      url: '/subscriptions/:id/rotate-secret',
      tag: 'subscriptions',
      summary: 'New signing secret for a webhook subscription (shown once); the old one keeps signing beside it for graceSeconds (default 86400)',
      params: z.object({ id: z.string().min(1).max(200) }),
      body: z
        .strictObject({
          graceSeconds: z
            .number()
            .int()
            .min(0)
            .max(7 * 86_400)
            .optional(),
        })
        .optional(),
      handler: async ({ params, body }) => {
        const s = await core.subscriptions.rotateSecret(params.id, body?.graceSeconds === undefined ? undefined : body.graceSeconds * 1000);
        if (!s) throw new NotFoundError(`No webhook subscription ${params.id}.`);
        return s;
      },
    }),
    route({
      method: 'DELETE',
      url: '/subscriptions/:id',
      tag: 'subscriptions',
      summary: 'Remove a subscription',
      params: z.object({ id: z.string().min(1).max(200) }),
      handler: async ({ params }) => {
        const removed = await core.subscriptions.remove(params.id);
        if (!removed) throw new NotFoundError(`No subscription ${params.id}.`);
        return removed;
      },
    }),
  ];
}
