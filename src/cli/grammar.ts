/**
 * `chitty todo|project|topic|session …`: the chat grammar, unchanged. The words are sent as one
 * command through POST /api/v1/commands as the CLI's own identity (`cli:<user>`, one conversation
 * per user), so `--due tomorrow`, `--assign me` and `done 1` after `todo list` mean what they mean
 * in Slack or SMS, and the replies are the same. Lists print as a table; `--json` prints entities.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { type ApiClient, CliError } from './api-client.ts';
import { domainOfId } from './constants.ts';
import { clip, table } from './tables.ts';

type Json = Record<string, unknown>;
interface ReplyItem {
  ref: string;
  id?: string;
  text: string;
  status?: string;
  detail?: string;
}
interface Reply {
  kind: 'ok' | 'info' | 'error' | 'usage' | 'update';
  title?: string;
  text?: string;
  items?: ReplyItem[];
  footer?: string;
}
export interface CommandAnswer {
  reply: Reply;
  page: number;
  command?: string;
  rendered?: { text: string };
}

export const GRAMMAR_FAMILIES = {
  todo: 'Todos in the chat grammar: add <text> [--due D] [--priority P] [--assign me] [--project P], list [--status S] [--mine], done|start|block|reopen <n or id>, edit, assign, delete, reconcile',
  project: 'Projects in the chat grammar: create <name> [--description D], list, show <name>, use <name>',
  topic: 'Topics in the chat grammar: create <name>, list, show <name>, archive <name>',
  session: 'Sessions in the chat grammar: start [name] [--project P], end, list, show <name>',
} as const;

/** The CLI's identity: `cli:<CHITTY_USER or the login name>` (letters, digits, `_.@-`). */
export function cliIdentity(env: NodeJS.ProcessEnv): string {
  let user = env.CHITTY_USER || '';
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = env.USER || 'cli';
    }
  }
  return `cli:${user.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 100) || 'cli'}`;
}

/** Words back into one chat line: a word with spaces (or nothing) is quoted as a person would. */
export function chatLine(words: string[]): string {
  return words.map((w) => (w === '' || /\s/.test(w) ? (w.includes('"') ? `“${w}”` : `"${w}"`) : w)).join(' ');
}

/** Run one chat line as the CLI; an error reply exits 1, a usage reply 2 (the CLI's exit codes). */
export async function runChat(client: ApiClient, env: NodeJS.ProcessEnv, text: string, as?: string): Promise<CommandAnswer> {
  const r = await client.request<CommandAnswer>('POST', '/commands', { text, render: true, as: as ?? cliIdentity(env) });
  if (r.reply.kind === 'usage') throw new CliError(r.rendered?.text ?? r.reply.text ?? 'usage', 2);
  if (r.reply.kind === 'error') throw new CliError([r.reply.title, r.reply.text].filter(Boolean).join(': ') || 'refused', 1);
  return r;
}

async function entitiesOf(client: ApiClient, items: ReplyItem[]): Promise<Json[]> {
  const out: Json[] = [];
  const withIds = items.filter((i) => i.id && domainOfId(i.id));
  for (let i = 0; i < withIds.length; i += 20) {
    out.push(...(await Promise.all(withIds.slice(i, i + 20).map((it) => client.request<Json>('GET', `/${domainOfId(it.id!)}/${encodeURIComponent(it.id!)}`)))));
  }
  return out;
}

/** Human output: a list as a table under its title, anything else as the text channel shows it. */
function human(r: CommandAnswer): string {
  const items = r.reply.items ?? [];
  if (!r.command?.endsWith('.list') || items.length === 0) return r.rendered?.text ?? r.reply.text ?? '';
  const rows = items.map((i) => [i.ref, i.status ?? '', clip(i.text, 60), clip(i.detail ?? '', 40), i.id ?? '']);
  return [r.reply.title, table(['#', 'status', 'text', 'detail', 'id'], rows), r.reply.footer].filter(Boolean).join('\n');
}

export function addGrammarCommands(program: Command, api: () => ApiClient, env: NodeJS.ProcessEnv, out: (s: string) => void): void {
  for (const [family, description] of Object.entries(GRAMMAR_FAMILIES)) {
    program
      .command(family)
      .description(description)
      .argument('[words...]', 'what you would type in chat after the family word')
      .option('--json', 'the entities (or the neutral reply) as JSON', false)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(async (_words: string[], o: { json: boolean }, cmd: Command) => {
        const words = cmd.args.filter((w) => w !== '--json');
        const client = api();
        const r = await runChat(client, env, chatLine([family, ...words]));
        if (!o.json) return out(human(r));
        const entities = await entitiesOf(client, r.reply.items ?? []);
        const single = !r.command?.endsWith('.list') && entities.length === 1;
        out(JSON.stringify(single ? entities[0] : entities.length > 0 || r.command?.endsWith('.list') ? entities : r.reply, null, 2));
      });
  }
}
