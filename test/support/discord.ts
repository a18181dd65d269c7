/** Helpers for Discord tests: corpus files, signed interactions as Discord sends them. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { signInteraction, type TestKeys } from '../fakes/discord.ts';

/** The shared corpus beside the project (never copied into it). */
export const DISCORD_CORPUS_DIR = path.resolve(import.meta.dirname, '../../../shared/corpus/discord');
export const discordCorpusPresent = existsSync(DISCORD_CORPUS_DIR);
export const DISCORD_CORPUS_ABSENT = `../shared/corpus/discord is absent (looked in ${DISCORD_CORPUS_DIR}); the Discord corpus tests are skipped`;

export interface CorpusFile {
  name: string;
  kind: string;
  raw_body?: string;
  body?: any;
  headers?: Record<string, string>;
  public_key_hex?: string;
  expected?: string;
  negative_cases?: { description: string; headers?: Record<string, string>; raw_body?: string }[];
}

/** Every Discord corpus file, by name order. */
export function readDiscordCorpus(): CorpusFile[] {
  if (!discordCorpusPresent) return [];
  return readdirSync(DISCORD_CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, ...(JSON.parse(readFileSync(path.join(DISCORD_CORPUS_DIR, f), 'utf8')) as Omit<CorpusFile, 'name'>) }));
}

export interface InteractionSpec {
  id: string;
  applicationId: string;
  channelId: string;
  userId: string;
  guildId?: string;
  token?: string;
}

/** A guild chat-input interaction (`/name` with options), as Discord sends it. */
export function slashInteraction(s: InteractionSpec, name: string, options?: unknown[]): Record<string, unknown> {
  return {
    id: s.id,
    application_id: s.applicationId,
    type: 2,
    token: s.token ?? `tok-${s.id}`,
    version: 1,
    channel_id: s.channelId,
    guild_id: s.guildId ?? '1300000000000000001',
    member: { user: { id: s.userId, username: 'member', global_name: 'Member' }, nick: null, roles: [] },
    data: { id: '1200000000000000001', name, type: 1, ...(options ? { options } : {}) },
    locale: 'en-US',
  };
}

/** A button press on a message, as Discord sends it. */
export function buttonInteraction(s: InteractionSpec, customId: string, messageId: string): Record<string, unknown> {
  return {
    id: s.id,
    application_id: s.applicationId,
    type: 3,
    token: s.token ?? `tok-${s.id}`,
    version: 1,
    channel_id: s.channelId,
    guild_id: s.guildId ?? '1300000000000000001',
    member: { user: { id: s.userId, username: 'member' }, roles: [] },
    message: { id: messageId, channel_id: s.channelId, components: [] },
    data: { custom_id: customId, component_type: 2 },
  };
}

/** A signed request for `POST /discord/interactions`. */
export function signedRequest(keys: TestKeys, body: unknown, timestamp?: number): { path: string; headers: Record<string, string>; body: string } {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return { path: '/discord/interactions', headers: signInteraction(keys, raw, timestamp), body: raw };
}
