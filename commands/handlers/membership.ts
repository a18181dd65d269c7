/** subscribe / unsubscribe / subscriptions / stop, link (pairing and linking), help */
import type { Reply } from '../../src/core/reply.ts';
import { DESTINATION_CHANNELS, scopeOf, type DestinationChannel, type SubscriptionRecord } from '../../src/core/subscription-store.ts';
import { LINK_CODE_TTL_MS } from '../../src/core/identity-directory.ts';
import { InvalidChangeError } from '../../src/hub/errors.ts';
import type { Command, SubscriptionTarget } from '../grammar/index.ts';
import { helpText } from '../grammar/index.ts';
import type { CommandContext } from '../context.ts';
import { resolveNamed } from './resolve.ts';

type MembershipCommand = Extract<Command, { name: 'subscribe' | 'unsubscribe' | 'subscriptions' | 'help' | `link.${string}` }>;

function destination(ctx: CommandContext): { channel: DestinationChannel; address: string; thread?: string } {
  if (!(DESTINATION_CHANNELS as readonly string[]).includes(ctx.channel)) {
    throw new InvalidChangeError(`Updates are delivered to ${DESTINATION_CHANNELS.join(', ')}; from ${ctx.channel}, use POST /api/v1/subscriptions to subscribe a destination.`);
  }
  return { channel: ctx.channel as DestinationChannel, address: ctx.address, ...(ctx.thread ? { thread: ctx.thread } : {}) };
}

function describe(s: SubscriptionRecord): string {
  const what = s.projectId ? `project ${s.projectId}` : s.topicId ? `topic ${s.topicId}` : 'the whole hub';
  return `${what} — ${s.domains.length ? s.domains.join(', ') : 'all domains'}`;
}

async function target(ctx: CommandContext, t: SubscriptionTarget): Promise<{ projectId?: string; topicId?: string }> {
  if (t.kind === 'project') return { projectId: (await resolveNamed('projects', t.project, ctx)).chittyId };
  if (t.kind === 'topic') return { topicId: (await resolveNamed('topics', t.topic, ctx)).chittyId };
  return {};
}

export async function membershipCommand(cmd: MembershipCommand, ctx: CommandContext): Promise<Reply> {
  switch (cmd.name) {
    case 'subscribe': {
      const dest = destination(ctx);
      const t = await target(ctx, cmd.target);
      const s = await ctx.subscriptions.upsert({ ...dest, ...t, ...(cmd.domains ? { domains: cmd.domains } : {}) }, ctx.person.id);
      return { kind: 'ok', title: 'Subscribed', text: `This conversation will get updates for ${describe(s)}.`, footer: 'Stop with: unsubscribe' };
    }
    case 'unsubscribe': {
      const dest = destination(ctx);
      const all = cmd.target.kind === 'all';
      const t = cmd.target.kind === 'all' ? undefined : scopeOf(await target(ctx, cmd.target));
      const removed = await ctx.subscriptions.removeFor(dest, t);
      if (removed.length === 0) return { kind: 'info', title: 'Not subscribed', text: all ? 'This conversation had no subscriptions.' : 'No such subscription here; "subscriptions" lists them.' };
      return { kind: 'ok', title: `Unsubscribed (${removed.length})`, text: removed.map(describe).join('\n') };
    }
    case 'subscriptions': {
      const dest = destination(ctx);
      const subs = await ctx.subscriptions.list({ channel: dest.channel, address: dest.address, thread: dest.thread ?? '' });
      if (subs.length === 0) return { kind: 'info', title: 'No subscriptions here', text: 'Follow everything with "subscribe", or one project with "subscribe project P".' };
      return { kind: 'info', title: `Subscriptions (${subs.length})`, items: subs.map((s, i) => ({ ref: String(i + 1), id: s.id, text: describe(s) })) };
    }
    case 'link.start': {
      const { code } = await ctx.identities.createLinkCode(ctx.person.id, ctx.identityKey);
      return {
        kind: 'ok',
        title: `Your link code: ${code}`,
        text: `From your other account (another chat app, phone or email) send: link ${code}`,
        footer: `Valid ${LINK_CODE_TTL_MS / 60_000} minutes, once.`,
      };
    }
    case 'link.code': {
      const person = await ctx.identities.redeemLink(cmd.code, ctx.identityKey);
      const ids = await ctx.identities.identitiesOf(person.id);
      return { kind: 'ok', title: `Linked: you are ${person.name}`, text: `This account now acts as ${person.name} everywhere.`, fields: [{ label: 'Your accounts', value: ids.join(', ') }] };
    }
    case 'link.approve': {
      const { person, identityKey } = await ctx.identities.approvePairing(cmd.code, ctx.person.id);
      return { kind: 'ok', title: `Approved ${identityKey}`, text: `${identityKey} can now use ChittyChat as ${person.name}.`, footer: person.id };
    }
    case 'help':
      return { kind: 'info', title: cmd.topic ? `help ${cmd.topic}` : 'ChittyChat commands', text: helpText(cmd.topic) };
  }
}
