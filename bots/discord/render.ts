/**
 * Discord's use of the pure renderer: a button's `custom_id` carries the command it runs (the
 * renderer uses the action's id as `custom_id`, and ids like `resolve-1` do not say which conflict),
 * so actions are rendered with their command as id and a press runs exactly that command.
 */
import { renderDiscord, type DiscordPayload } from '../../renderers/discord.ts';
import type { Reply } from '../../src/core/reply.ts';

/** Message flag: only the person who used the command sees the answer. */
export const EPHEMERAL = 1 << 6;

/** Renders a reply for Discord with each button's `custom_id` set to its command. */
export function renderForDiscord(reply: Reply, page = 1): DiscordPayload {
  const actions = reply.actions?.map((a) => ({ ...a, id: a.command.trim() === '' ? a.id : a.command }));
  return renderDiscord(actions ? { ...reply, actions } : reply, { page });
}

/**
 * The command a button press runs: the `custom_id` without the renderer's `~2` uniqueness suffix;
 * ids of the `done:<entity>` / `reopen:<entity>` form (messages rendered with action ids) map to
 * their todo command.
 */
export function commandForCustomId(customId: string): string {
  const id = customId.replace(/~\d+$/u, '');
  const m = /^(done|reopen|start|block):(CHITTY-[A-Z]+-\S+)$/u.exec(id);
  return m ? `todo ${m[1]} ${m[2]}` : id;
}
