/**
 * `npm run discord:register`: puts the slash commands (built from the grammar, see commands.ts)
 * on the application — in one guild when DISCORD_GUILD_ID is set (instant; for testing), else
 * globally (every server the app is in and DMs; Discord may take a while to show changes).
 * PUT replaces the whole list, so commands removed from the grammar disappear too.
 * https://discord.com/developers/docs/interactions/application-commands#bulk-overwrite-global-application-commands
 */
import { REST, Routes } from 'discord.js';
import { readChannelsConfig } from '../../src/channel-config.ts';
import { slashCommandsJson } from './commands.ts';

/** Registers the commands; returns where and how many. */
export async function registerDiscordCommands(env: NodeJS.ProcessEnv = process.env): Promise<{ scope: string; count: number }> {
  const config = readChannelsConfig(env).discord;
  if (!config) throw new Error('Discord is not configured: set DISCORD_PUBLIC_KEY, DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN (see README, "Connect your Discord application").');
  const rest = new REST({ version: '10', ...(config.apiUrl ? { api: config.apiUrl } : {}) }).setToken(config.botToken);
  const body = slashCommandsJson();
  const route = config.guildId ? Routes.applicationGuildCommands(config.applicationId, config.guildId) : Routes.applicationCommands(config.applicationId);
  await rest.put(route, { body });
  return { scope: config.guildId ? `guild ${config.guildId}` : 'global', count: body.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  registerDiscordCommands().then(
    ({ scope, count }) => console.log(`Registered ${count} slash commands (${scope}).`),
    (err: unknown) => {
      console.error(`Could not register the Discord commands: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
