/**
 * The slash commands cannot drift from the grammar: every family of commands/grammar has a
 * registered command and every command of it a subcommand; every option, filled in as Discord
 * would send it, becomes text the grammar parses to that same command.
 */
import { describe, expect, it } from 'vitest';
import { FAMILIES, parseCommand, type UsageKey } from '../../commands/grammar/index.ts';
import { CATCH_ALL_COMMAND, commandText, discordCommandDefs, type InteractionOption, interactionText, type OptionDef, slashCommandsJson, type SubcommandDef } from './commands.ts';

const NOW = new Date('2026-03-02T10:00:00Z');
/** A value the grammar accepts for each option name. */
const SAMPLE: Record<string, string> = { ref: '2', conflict: '1', choice: '1', due: 'tomorrow', priority: 'high', status: 'pending', domains: 'todos', code: 'ABC123', command: 'todo' };
const sample = (o: OptionDef): string | boolean => (o.type === 'boolean' ? true : (o.choices?.[0] ?? SAMPLE[o.name] ?? 'Alpha Beta'));
/** The command name a usage key parses to. */
const expectedName = (key: UsageKey): string => (key === 'stop' ? 'unsubscribe' : key);
const opt = (o: OptionDef, value: string | boolean): InteractionOption => ({ name: o.name, type: o.type === 'boolean' ? 5 : 3, value });

function check(sub: SubcommandDef, given: InteractionOption[]) {
  const text = commandText(sub, given);
  const parsed = parseCommand(text, NOW);
  expect(parsed.ok ? parsed.command.name : `${text} → ${parsed.error}`, sub.usageKey).toBe(expectedName(sub.usageKey));
  return parsed;
}

describe('slash commands built from the grammar', () => {
  const defs = discordCommandDefs();

  it('registers one command per grammar family and one subcommand per command of it', () => {
    const names = defs.map((d) => d.name);
    expect(names.sort()).toEqual(Object.keys(FAMILIES).sort());
    for (const d of defs) {
      const keys = (FAMILIES[d.name as keyof typeof FAMILIES] as readonly string[]).filter((k) => k === d.name || k.startsWith(`${d.name}.`));
      const subs = d.subcommands ?? [d.self!];
      expect(subs.map((s) => s.usageKey).sort(), d.name).toEqual([...keys].sort());
    }
    // `stop` is its own family and not a subcommand of `unsubscribe`.
    expect(defs.find((d) => d.name === 'stop')?.self?.usageKey).toBe('stop');
  });

  it("builds valid Discord JSON (builders validate; names, sizes and counts within Discord's limits)", () => {
    const json = slashCommandsJson();
    expect(json.length).toBeLessThanOrEqual(100);
    expect(json.map((c) => c.name)).toContain(CATCH_ALL_COMMAND);
    for (const c of json) {
      expect(c.name).toMatch(/^[-_\p{L}\p{N}]{1,32}$/u);
      expect(JSON.stringify(c).length, c.name).toBeLessThan(8000);
      for (const o of c.options ?? []) {
        expect(o.name).toMatch(/^[-_\p{L}\p{N}]{1,32}$/u);
        // Required options come first (Discord refuses otherwise).
        const opts = ('options' in o ? (o.options ?? []) : []) as { required?: boolean }[];
        const firstOptional = opts.findIndex((x) => !x.required);
        if (firstOptional >= 0)
          expect(
            opts.slice(firstOptional).every((x) => !x.required),
            `${c.name} ${o.name}`,
          ).toBe(true);
      }
    }
  });

  it('every option maps back to the grammar: alone and all together, each parses to its command', () => {
    let options = 0;
    for (const d of defs) {
      for (const sub of d.subcommands ?? [d.self!]) {
        const required = sub.options.filter((o) => o.required).map((o) => opt(o, sample(o)));
        check(sub, required);
        for (const o of sub.options.filter((x) => !x.required)) {
          options++;
          check(sub, [...required, opt(o, sample(o))]);
        }
        // Keyword alternatives exclude each other (project P | topic T): fill only the first of them.
        const keywords = sub.options.filter((o) => o.form.kind === 'keyword');
        const all = sub.options.filter((o) => o.form.kind !== 'keyword' || o === keywords[0]);
        check(
          sub,
          all.map((o) => opt(o, sample(o))),
        );
      }
    }
    expect(options).toBeGreaterThan(15);
  });

  it("flags and choices in the JSON are the grammar's: todo list --status takes the statuses, todo add --priority the priorities", () => {
    const todo = slashCommandsJson().find((c) => c.name === 'todo')! as any;
    const list = todo.options.find((o: any) => o.name === 'list');
    expect(list.options.find((o: any) => o.name === 'status').choices.map((c: any) => c.value)).toEqual(['pending', 'in_progress', 'completed', 'blocked']);
    expect(list.options.find((o: any) => o.name === 'mine').type).toBe(5);
  });

  it('writes values back so the grammar reads them as given: spaces, flags inside text, quotes', () => {
    const add = (content: string, project?: string) =>
      interactionText('todo', [{ name: 'add', type: 1, options: [{ name: 'content', type: 3, value: content }, ...(project ? [{ name: 'project', type: 3, value: project }] : [])] }]);
    expect(add('Write brief', 'Alpha')).toBe('todo add Write brief --project Alpha');
    for (const [content, project] of [
      ['Use --force carefully', 'Chitty Chat'],
      ['"Quoted" start', 'It\'s "x"'],
      ["Mom's gift", 'A'],
      ['—dash first', undefined],
    ] as const) {
      const parsed = parseCommand(add(content, project), NOW);
      expect(parsed.ok && parsed.command.name === 'todo.add' ? { text: parsed.command.text, project: parsed.command.project } : parsed).toEqual({ text: content, project });
    }
    expect(interactionText(CATCH_ALL_COMMAND, [{ name: 'text', type: 3, value: 'todo list --mine' }])).toBe('todo list --mine');
    expect(
      interactionText('sync', [
        {
          name: 'run',
          type: 1,
          options: [
            { name: 'domain', type: 3, value: 'todos' },
            { name: 'dry-run', type: 5, value: true },
          ],
        },
      ]),
    ).toBe('sync todos --dry-run');
    expect(interactionText('unsubscribe', [{ name: 'all', type: 5, value: true }])).toBe('unsubscribe all');
  });
});
