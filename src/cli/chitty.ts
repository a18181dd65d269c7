/**
 * `chitty` — the command-line client of the gateway API (spec "CLI Interface").
 *
 *   chitty sync <domain|all> [--project P] [--session S] [--platform web,cli] [--channel slack,sms]
 *               [--model claude] [--dry-run] [--watch] [--verbose] [--json]
 *   chitty todo|project|topic|session …    (the chat grammar, as the CLI's identity cli:<user>)
 *   chitty say "<command>" [--as id]       chitty preview "<command>" [--channel c]
 *   chitty deliveries [--dead] [--retry ID | --retry-all-dead | --prune HOURS]
 *   chitty mcp                             (an MCP server on stdio for Claude Desktop / Code)
 *
 * Exit codes: 0 ok, 1 the API refused, 2 bad usage, 3 gateway unreachable, 4 bad token.
 */
import { Command, CommanderError, Option } from 'commander';
import { pathToFileURL } from 'node:url';
import { ApiClient, CliError, clientConfig } from './api-client.ts';
import { CHITTY_ID_REGEX, DELIVERY_STATUSES, DESTINATION_CHANNELS, DOMAINS } from './constants.ts';
import { addGrammarCommands, runChat } from './grammar.ts';
import { clip, table } from './tables.ts';

type Json = Record<string, unknown>;
type Entity = Json & { chittyId: string };

export interface CliIO {
  env: NodeJS.ProcessEnv;
  out: (s: string) => void;
  err: (s: string) => void;
  /** Resolves when --watch should stop (Ctrl-C by default). */
  untilStopped?: () => Promise<void>;
}

const SYNC_DOMAINS = [...DOMAINS, 'all'] as const;

function untilSigint(): Promise<void> {
  return new Promise((resolve) => process.once('SIGINT', () => resolve()));
}

export function buildProgram(io: CliIO): Command {
  const api = () => new ApiClient(clientConfig(io.env));
  const print = (json: boolean, data: unknown, human: () => string) => io.out(json ? JSON.stringify(data, null, 2) : human());

  /** A project given by id or by name. */
  async function projectId(client: ApiClient, p: string | undefined): Promise<string | undefined> {
    if (!p || CHITTY_ID_REGEX.test(p.toUpperCase())) return p?.toUpperCase();
    const projects = await listAll(client, '/projects');
    const hit = projects.filter((x) => String(x.name).toLowerCase() === p.toLowerCase());
    if (hit.length === 1) return hit[0]!.chittyId;
    if (hit.length > 1) throw new CliError(`several projects are named "${p}"; use its id (${hit.map((h) => h.chittyId).join(', ')}).`);
    throw new CliError(`no project named "${p}" (chitty project list shows them).`);
  }

  async function listAll(client: ApiClient, route: string): Promise<Entity[]> {
    const out: Entity[] = [];
    let after: string | null = null;
    do {
      const sep = route.includes('?') ? '&' : '?';
      const page: { items: Entity[]; next: string | null } = await client.request('GET', `${route}${sep}limit=1000${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      out.push(...page.items);
      after = page.next;
    } while (after);
    return out;
  }

  const todoRows = (todos: Entity[]) =>
    table(
      ['#', 'id', 'status', 'priority', 'content', 'sessions'],
      todos.map((t, i) => [i + 1, t.chittyId, t.status as string, t.priority as string, clip(t.content), ((t.sessions as string[] | undefined) ?? []).length || '']),
    );

  const program = new Command('chitty')
    .description('ChittyChat gateway CLI. Talks to CHITTY_URL (default http://127.0.0.1:3000) with CHITTY_API_TOKEN.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  // ------------------------------------------------------------------ sync
  program
    .command('sync')
    .description("Reconcile and broadcast a domain's state to every subscriber (todos: merge duplicates across sessions first)")
    .addArgument(program.createArgument('<domain>', `one of ${SYNC_DOMAINS.join(', ')}`).choices(SYNC_DOMAINS))
    .option('--project <P>', 'only this project (id or name)')
    .option('--session <S>', 'only this session')
    .option('--platform <list>', 'only these platforms, comma-separated (web, cli, mcp, or a channel)')
    .option('--channel <list>', `only these channels, comma-separated (${DESTINATION_CHANNELS.join(', ')})`)
    .option('--model <list>', 'only these AI models, comma-separated (MCP clients and webhooks labelled with a model)')
    .option('--dry-run', 'print what would change and change nothing', false)
    .option('--watch', 'then stream live updates until Ctrl-C', false)
    .option('--verbose', 'list every entity', false)
    .option('--json', 'machine-readable output', false)
    .action(
      async (
        domain: (typeof SYNC_DOMAINS)[number],
        o: { project?: string; session?: string; platform?: string; channel?: string; model?: string; dryRun: boolean; watch: boolean; verbose: boolean; json: boolean },
      ) => {
        const client = api();
        const project = await projectId(client, o.project);
        const list = (v: string | undefined) =>
          (v ?? '')
            .split(',')
            .map((x) => x.trim().toLowerCase())
            .filter(Boolean);
        const platforms = [...list(o.platform), ...list(o.channel)];
        const models = list(o.model);
        const result = await client.request<Json>('POST', '/sync/run', {
          domain,
          dryRun: o.dryRun,
          ...(project ? { projectId: project } : {}),
          ...(o.session ? { sessionId: o.session } : {}),
          ...(platforms.length > 0 || models.length > 0 ? { target: { platforms, models } } : {}),
        });
        print(o.json, result, () => describeSync(result, o.verbose));
        if (o.watch) await watch(client, domain, project, o.session, o.json);
      },
    );

  async function watch(client: ApiClient, domain: string, project: string | undefined, session: string | undefined, json: boolean): Promise<void> {
    const { default: WebSocket } = await import('ws'); // only --watch needs it: other calls start faster
    const ws = new WebSocket(client.wsUrl());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) => reject(new CliError(`cannot open ${client.config.baseUrl}/ws: ${err.message}`, 3)));
      ws.once('unexpected-response', (req, res) => {
        req.destroy();
        reject(new CliError(`the gateway refused the WebSocket (${res.statusCode}); check CHITTY_API_TOKEN.`, res.statusCode === 401 ? 4 : 1));
      });
    });
    const filters = { ...(project ? { projectId: project } : {}), ...(session ? { sessionId: session } : {}) };
    ws.send(JSON.stringify({ type: 'subscribe', platform: 'cli', ...(domain === 'all' ? {} : { domains: [domain] }), filters }));
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as Json & { entity?: Entity };
      // "Watching" once the gateway confirmed the subscription: every change after this line is shown.
      if (m.type === 'subscribed' && !json) return io.out(`Watching ${domain}${project ? ` in ${project}` : ''}${session ? ` of ${session}` : ''} — Ctrl-C to stop.`);
      if (m.type === 'welcome' || m.type === 'subscribed') return;
      if (json) return io.out(JSON.stringify(m));
      const e = m.entity;
      const label = e ? `${e.chittyId} ${clip(e.content ?? e.name ?? e.title ?? '', 50)}${e.status ? ` [${String(e.status)}]` : ''}` : '';
      io.out(`${new Date().toISOString().slice(11, 19)}  ${String(m.type).padEnd(14)} ${String(m.domain ?? '').padEnd(9)} ${String(m.operation ?? '').padEnd(7)} ${label}`);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await Promise.race([(io.untilStopped ?? untilSigint)(), closed]);
    ws.close();
  }

  function describeSync(r: Json, verbose: boolean): string {
    const lines: string[] = [];
    const verb = r.dryRun ? 'Would' : 'Did';
    for (const rec of (r.reconciled as Json[] | undefined) ?? []) {
      const groups = rec.groups as { survivor: string; merged: string[]; content: string; status: string; sessions: string[] }[];
      const todos = rec.todos as Entity[];
      lines.push(
        `${rec.projectId}: ${groups.length === 0 ? 'no duplicate todos' : `${r.dryRun ? 'would merge' : 'merged'} ${groups.reduce((n, g) => n + g.merged.length, 0)} duplicate todos into ${groups.length}`}; ${todos.length} todos ${r.dryRun ? 'would remain' : 'now'}.`,
      );
      if (groups.length > 0)
        lines.push(
          table(
            ['keeps', 'merges', 'status', 'sessions', 'content'],
            groups.map((g) => [g.survivor, g.merged.join('\n'), g.status, g.sessions.length, clip(g.content, 40)]),
          ),
        );
      if (verbose) lines.push(todoRows(todos));
    }
    for (const x of r.broadcast as { domain: string; entities: number; messages: number; ids: string[]; target?: { platforms?: string[]; models?: string[] } }[]) {
      const to = x.target ? [...(x.target.platforms ?? []), ...(x.target.models ?? []).map((m) => `model ${m}`)].join(', ') : '';
      lines.push(`${verb} broadcast ${x.domain}: ${x.entities} entities${to ? ` to ${to} only` : ''} in ${r.dryRun ? Math.ceil(x.entities / 100) : x.messages} message(s).`);
      if (verbose && x.ids.length > 0) lines.push(`  ${x.ids.join('\n  ')}`);
    }
    if (r.dryRun) lines.push('Dry run: nothing was changed.');
    return lines.join('\n');
  }

  // ------------------------------------------------------------------ todo, project, topic, session
  addGrammarCommands(program, api, io.env, io.out);

  // ------------------------------------------------------------------ deliveries
  program
    .command('deliveries')
    .description('The deliveries ledger: list (newest first), dead letters, replay, prune')
    .option('--dead', 'only dead letters', false)
    .addOption(new Option('--status <status>', 'only this status').choices(DELIVERY_STATUSES))
    .option('--entity <id>', 'only deliveries of this entity')
    .option('--retry <id>', 'send this dead (or failed) delivery again')
    .option('--retry-all-dead', 'send every dead letter again', false)
    .option('--prune <hours>', 'delete dead letters older than this many hours')
    .option('--limit <n>', 'how many to list', '50')
    .option('--json', 'machine-readable output', false)
    .action(async (o: { dead: boolean; status?: string; entity?: string; retry?: string; retryAllDead: boolean; prune?: string; limit: string; json: boolean }) => {
      const client = api();
      if (o.retry) {
        const d = await client.request<Json>('POST', `/deliveries/${encodeURIComponent(o.retry)}/retry`);
        return print(o.json, d, () => `Queued ${String(d.id)} again (${String(d.channel)} ${String(d.address)}).`);
      }
      if (o.retryAllDead) {
        const r = await client.request<{ requeued: number }>('POST', '/deliveries/retry-dead');
        return print(o.json, r, () => `Queued ${r.requeued} dead letter(s) again.`);
      }
      if (o.prune !== undefined) {
        const r = await client.request<{ pruned: number }>('DELETE', `/deliveries/dead?olderThanHours=${encodeURIComponent(o.prune)}`);
        return print(o.json, r, () => `Pruned ${r.pruned} dead letter(s).`);
      }
      const status = o.dead ? 'dead' : o.status;
      const q = new URLSearchParams({ limit: o.limit, ...(status ? { status } : {}), ...(o.entity ? { entityId: o.entity } : {}) });
      const { items } = await client.request<{ items: Json[] }>('GET', `/deliveries?${q}`);
      print(o.json, items, () =>
        items.length === 0
          ? `No ${status ?? ''} deliveries.`.replace('  ', ' ')
          : table(
              ['id', 'status', 'tries', 'channel', 'to', 'error / provider id', 'updated'],
              items.map((d) => [
                String(d.id),
                String(d.status),
                Number(d.attempts),
                String(d.channel),
                clip(d.address, 30),
                clip(d.lastError ?? d.providerMessageId ?? '', 40),
                String(d.updatedAt).slice(11, 19),
              ]),
            ),
      );
    });

  // ------------------------------------------------------------------ say / preview
  program
    .command('say')
    .description('Run a command through the conversation core, as the token owner or --as an identity')
    .argument('<command...>', 'the command, e.g. "todo list" (quote it)')
    .option('--as <identity>', 'run as a channel identity, e.g. sms:+15551234567')
    .option('--json', 'the neutral reply as JSON', false)
    .action(async (words: string[], o: { as?: string; json: boolean }) => {
      // No --as: the token owner, as before. A usage reply exits 2 and an error reply 1 (reason on stderr).
      const r = await runChat(api(), io.env, words.join(' '), o.as ?? 'api:owner');
      print(o.json, r.reply, () => r.rendered?.text ?? '');
    });
  program
    .command('preview')
    .description('Show what every channel would receive for a read-only command (nothing is sent)')
    .argument('<command...>', 'the command, e.g. "todo list"')
    .addOption(new Option('--channel <name>', 'only this channel').choices(['slack', 'discord', 'sms', 'whatsapp', 'email', 'text']))
    .option('--as <identity>', 'run as a channel identity')
    .option('--json', 'machine-readable output', false)
    .action(async (words: string[], o: { channel?: string; as?: string; json: boolean }) => {
      const r = await api().request<{ rendered: Record<string, unknown> }>('POST', '/preview', { text: words.join(' '), ...(o.as ? { as: o.as } : {}) });
      const rendered = o.channel ? { [o.channel]: r.rendered[o.channel] } : r.rendered;
      print(o.json, rendered, () =>
        Object.entries(rendered)
          .map(([channel, out]) => {
            const body =
              channel === 'text' || channel === 'whatsapp'
                ? String(out)
                : channel === 'sms'
                  ? (out as string[]).map((m, i) => `[message ${i + 1}/${(out as string[]).length}, ${m.length} chars]\n${m}`).join('\n')
                  : JSON.stringify(out, null, 2);
            return `=== ${channel} ===\n${body}`;
          })
          .join('\n\n'),
      );
    });

  // ------------------------------------------------------------------ mcp
  program
    .command('mcp')
    .description('Serve the Model Context Protocol on stdin/stdout (Claude Desktop, Claude Code); its tools call the gateway API')
    .action(async () => {
      const { serveStdio } = await import('../mcp/stdio.ts');
      await serveStdio(clientConfig(io.env), io.env, io.untilStopped);
    });

  return program;
}

/** Run the CLI; returns the exit code instead of exiting (tests call this directly). */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      io.err(`chitty: ${err.message}`);
      return err.exitCode;
    }
    io.err(`chitty: ${(err as Error).message}`);
    return 1;
  }
}

/** The process entry point: run with this process's arguments and exit with the CLI's code. */
export async function main(): Promise<never> {
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
  });
  process.exit(code);
}

// `npm run chitty` runs this file directly; the package bin (bin/chitty.mjs) calls main().
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
